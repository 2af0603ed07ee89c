// A log viewer for the processes' pino JSON lines: time, level and message in columns,
// the remaining fields after them; lines that are not JSON are shown as they are.

import { poll } from '../api.js';
import { h, mount } from '../dom.js';
import { formatTimestamp } from '../format.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const MAX_LINES = 3000;
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

export interface LogLine {
  time?: number;
  level?: string;
  msg: string;
  extra: string;
  stack?: string;
}

export function parseLogLine(line: string): LogLine {
  if (!line.startsWith('{')) return { msg: line, extra: '' };
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { msg: line, extra: '' };
  }
  const level =
    typeof obj.level === 'number'
      ? (LEVELS[obj.level] ?? String(obj.level))
      : typeof obj.level === 'string'
        ? obj.level.toUpperCase()
        : undefined;
  const time =
    typeof obj.time === 'number' ? obj.time : typeof obj.time === 'string' ? Date.parse(obj.time) : undefined;
  let stack: string | undefined;
  const extras: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (OMIT.has(k)) continue;
    if (k === 'err' && v && typeof v === 'object' && typeof (v as { stack?: unknown }).stack === 'string') {
      stack = (v as { stack: string }).stack;
      continue;
    }
    extras.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return { time, level, msg: typeof obj.msg === 'string' ? obj.msg : '', extra: extras.join(' '), stack };
}

/** Renders a log fetched by `load` into `root`, with refresh, follow, raw and filter controls. */
export function logView(root: HTMLElement, load: (signal: AbortSignal) => Promise<string>, signal: AbortSignal): void {
  let text = '';
  const body = h('div', { class: 'log-body', 'data-testid': 'log' });
  const status = h('span', { class: 'muted' });
  const follow = h('input', { type: 'checkbox', checked: true });
  const raw = h('input', { type: 'checkbox' });
  const filter = h('input', { type: 'search', placeholder: 'Filter lines', class: 'input' });

  const render = (): void => {
    const atBottom = body.scrollHeight - body.scrollTop - body.clientHeight < 40;
    const needle = filter.value.trim().toLowerCase();
    let lines = text.split('\n').filter((l) => l.length > 0);
    if (needle) lines = lines.filter((l) => l.toLowerCase().includes(needle));
    const truncated = lines.length > MAX_LINES;
    lines = lines.slice(-MAX_LINES);
    const rows = lines.map((l) => (raw.checked ? h('div', { class: 'log-line' }, l) : renderLine(parseLogLine(l))));
    mount(
      body,
      truncated ? h('div', { class: 'log-line muted' }, `… showing the last ${MAX_LINES} lines`) : null,
      rows.length ? rows : h('div', { class: 'muted' }, needle ? 'No matching lines.' : 'The log is empty.'),
    );
    if (follow.checked || atBottom) body.scrollTop = body.scrollHeight;
  };

  const refresh = async (): Promise<void> => {
    text = await load(signal);
    status.textContent = `Updated ${formatTimestamp(Date.now())}`;
    render();
  };

  const refreshBtn = h('button', { class: 'btn' }, 'Refresh');
  refreshBtn.addEventListener('click', () => void refresh().catch(() => undefined));
  raw.addEventListener('change', render);
  filter.addEventListener('input', render);

  mount(
    root,
    h(
      'div',
      { class: 'toolbar' },
      refreshBtn,
      h('label', { class: 'check' }, follow, 'Follow'),
      h('label', { class: 'check' }, raw, 'Raw'),
      filter,
      status,
    ),
    body,
  );
  poll(
    async () => {
      if (follow.checked || !text) await refresh();
    },
    3000,
    signal,
  );
}

function renderLine(l: LogLine): HTMLElement {
  const lvl = (l.level ?? '').toLowerCase();
  return h(
    'div',
    { class: `log-line${lvl ? ` lvl-${lvl}` : ''}` },
    l.time ? h('span', { class: 'log-time' }, formatTimestamp(l.time)) : null,
    l.level ? h('span', { class: 'log-level' }, l.level) : null,
    h('span', { class: 'log-msg' }, l.msg),
    l.extra ? h('span', { class: 'log-extra' }, l.extra) : null,
    l.stack ? h('pre', { class: 'log-stack' }, l.stack) : null,
  );
}
