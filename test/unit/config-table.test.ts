// README.md's configuration table is the one rendered from the options the processes read.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../common/config.js';
import { renderConfigurationTable, withConfigurationTable } from '../../common/config-table.js';
import { packageRoot } from '../../common/package-root.js';

describe('the configuration reference', () => {
  it('in README.md is generated from common/config.ts (run `npm run docs:config` after changing an option)', () => {
    const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
    expect(
      withConfigurationTable(readme) === readme,
      'README.md is out of date: npm run build && npm run docs:config',
    ).toBe(true);
  });

  it('has one row per option, with pipes in descriptions escaped', () => {
    const table = renderConfigurationTable().split('\n');
    expect(table.length).toBe(2 + Object.keys(OPTIONS).length);
    expect(table).toContain('| `rest.port` | int | 8081 | JobManager REST and web UI port (0 picks a free one) |');
    for (const row of table.slice(2)) expect(row.replace(/\\\|/g, '').split('|').length).toBe(6);
  });
});
