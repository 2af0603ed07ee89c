// Running and completed jobs, with cancel.

import { poll, rest } from '../api.js';
import { card, h, mount } from '../dom.js';
import type { PageContext } from '../router.js';
import { completedJobsTable, runningJobsTable } from '../components/tables.js';
import { isTerminal } from '../components/state.js';

export function jobsPage({ root, signal }: PageContext): void {
  const running = h('div', null, h('div', { class: 'muted' }, 'Loading…'));
  const completed = h('div');
  mount(root, card('Running jobs', running), card('Completed jobs', completed));

  const refresh = async (): Promise<void> => {
    const { jobs } = await rest.jobsOverview(signal);
    if (signal.aborted) return;
    mount(
      running,
      runningJobsTable(
        jobs.filter((j) => !isTerminal(j.state)),
        () => void refresh(),
      ),
    );
    mount(completed, completedJobsTable(jobs.filter((j) => isTerminal(j.state))));
  };
  poll(refresh, 2000, signal);
}
