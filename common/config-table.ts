// The configuration reference in README.md, rendered from OPTIONS so that it cannot drift from
// what the processes read (a unit test compares the two; `npm run docs:config` rewrites it).
import { OPTIONS, type OptionSpec } from './config.js';

export const CONFIG_TABLE_START =
  '<!-- configuration table: generated from common/config.ts by `npm run docs:config` -->';
export const CONFIG_TABLE_END = '<!-- end of the configuration table -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultOf(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  return spec.default === undefined ? '(none)' : String(spec.default);
}

/** One row per key, in the order of OPTIONS (grouped by subject there). */
export function renderConfigurationTable(): string {
  const rows = Object.entries(OPTIONS as Record<string, OptionSpec>).map(([key, spec]) => {
    const values = spec.values ? ` (one of: ${spec.values.map((v) => `\`${v}\``).join(', ')})` : '';
    const min = spec.min === undefined ? '' : ` (at least ${spec.min})`;
    return `| \`${key}\` | ${spec.kind} | ${cell(defaultOf(spec))} | ${cell(spec.description)}${values}${min} |`;
  });
  return ['| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** `readme` with the text between the markers replaced by the rendered table. */
export function withConfigurationTable(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_START);
  const end = readme.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no configuration table markers');
  return `${readme.slice(0, start + CONFIG_TABLE_START.length)}\n${renderConfigurationTable()}\n${readme.slice(end)}`;
}
