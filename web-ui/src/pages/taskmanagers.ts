// Task managers: the table, and each one's log.

import { poll, rest } from '../api.js';
import { card, h, mount } from '../dom.js';
import type { PageContext } from '../router.js';
import { logView } from '../components/log-view.js';
import { taskManagersTable } from '../components/tables.js';

export function taskManagersPage({ root, signal }: PageContext): void {
  const slot = h('div', null, h('div', { class: 'muted' }, 'Loading…'));
  mount(root, card('Task managers', slot));
  poll(
    async () => {
      const { taskmanagers } = await rest.taskManagers(signal);
      if (!signal.aborted) mount(slot, taskManagersTable(taskmanagers));
    },
    2000,
    signal,
  );
}

export function taskManagerLogPage({ root, params, signal }: PageContext): void {
  const id = params.id!;
  const body = h('div');
  mount(
    root,
    h(
      'div',
      { class: 'crumbs' },
      h('a', { href: '#/taskmanagers' }, 'Task managers'),
      ' / ',
      h('span', { class: 'mono' }, id),
    ),
    card('Task manager log', body),
  );
  logView(body, (sig) => rest.taskManagerLog(id, sig), signal);
}

export function jobManagerLogPage({ root, signal }: PageContext): void {
  const body = h('div');
  mount(root, card('JobManager log', body));
  logView(body, (sig) => rest.jobManagerLog(sig), signal);
}
