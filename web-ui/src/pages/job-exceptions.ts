// The job page's exceptions tab: the root cause and the history of task failures.

import { poll, rest } from '../api.js';
import { card, h, mount } from '../dom.js';
import { formatTimestamp } from '../format.js';
import type { JobExceptions } from '../types.js';

export function exceptionsTab(el: HTMLElement, jid: string, signal: AbortSignal): void {
  const root = h('div', null, h('div', { class: 'muted' }, 'Loading…'));
  const history = h('div');
  mount(el, card('Root exception', root), card('Exception history', history));
  let lastRendered = '';
  poll(
    async () => {
      const ex = await rest.exceptions(jid, signal);
      if (signal.aborted) return;
      // Re-rendering would collapse entries the user opened; only redraw on change.
      const key = JSON.stringify(ex);
      if (key === lastRendered) return;
      lastRendered = key;
      renderExceptions(root, history, ex);
    },
    3000,
    signal,
  );
}

function renderExceptions(rootEl: HTMLElement, historyEl: HTMLElement, ex: JobExceptions): void {
  const rootText = ex['root-exception'];
  mount(
    rootEl,
    rootText
      ? [
          ex.timestamp ? h('div', { class: 'sub' }, formatTimestamp(ex.timestamp)) : null,
          h('pre', { class: 'stacktrace', 'data-testid': 'root-exception' }, rootText),
        ]
      : h('div', { class: 'muted', 'data-testid': 'root-exception' }, 'No exceptions: the job has not failed.'),
  );
  const entries = ex.exceptionHistory?.entries ?? [];
  mount(
    historyEl,
    entries.length
      ? entries.map((e) =>
          h(
            'details',
            { class: 'exception' },
            h(
              'summary',
              null,
              h('span', { class: 'exception-time' }, formatTimestamp(e.timestamp)),
              h('span', { class: 'exception-name' }, firstLine(e.exceptionName ?? e.stacktrace ?? 'Exception')),
              e.taskName ? h('span', { class: 'sub' }, ` in ${e.taskName}`) : null,
              e.location ? h('span', { class: 'sub mono' }, ` @ ${e.location}`) : null,
            ),
            h('pre', { class: 'stacktrace' }, e.stacktrace ?? ''),
          ),
        )
      : h('div', { class: 'muted' }, 'No exceptions recorded.'),
    ex.exceptionHistory?.truncated ? h('div', { class: 'sub' }, 'Older entries were dropped.') : null,
  );
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!;
}
