// Cluster overview: the numbers, the running jobs and the task managers.

import { poll, rest } from '../api.js';
import { card, h, mount } from '../dom.js';
import type { PageContext } from '../router.js';
import { runningJobsTable, taskManagersTable } from '../components/tables.js';
import { isTerminal } from '../components/state.js';
import type { ClusterOverview } from '../types.js';

function stat(label: string, value: number | string, testid: string, cls = ''): HTMLElement {
  return h(
    'div',
    { class: `stat ${cls}`, 'data-testid': testid },
    h('div', { class: 'stat-value' }, String(value)),
    h('div', { class: 'stat-label' }, label),
  );
}

function stats(o: ClusterOverview): HTMLElement {
  return h(
    'div',
    { class: 'stats' },
    stat('Task managers', o.taskmanagers, 'stat-taskmanagers'),
    stat('Slots available', `${o['slots-available']} / ${o['slots-total']}`, 'stat-slots'),
    stat('Running jobs', o['jobs-running'], 'stat-running', 'state-text-running'),
    stat('Finished', o['jobs-finished'], 'stat-finished', 'state-text-finished'),
    stat('Cancelled', o['jobs-cancelled'], 'stat-cancelled', 'state-text-canceled'),
    stat('Failed', o['jobs-failed'], 'stat-failed', 'state-text-failed'),
  );
}

function unavailable(slot: HTMLElement): void {
  if (slot.querySelector('.stats, table')) slot.classList.add('stale');
  else mount(slot, h('div', { class: 'muted' }, 'Unavailable.'));
}

export function overviewPage({ root, signal }: PageContext): void {
  const statsSlot = h('div', null, h('div', { class: 'muted' }, 'Loading…'));
  const jobsSlot = h('div');
  const tmSlot = h('div');
  mount(root, statsSlot, card('Running jobs', jobsSlot), card('Task managers', tmSlot));

  const refresh = async (): Promise<void> => {
    const [overview, jobs, tms] = await Promise.allSettled([
      rest.overview(signal),
      rest.jobsOverview(signal),
      rest.taskManagers(signal),
    ]);
    if (signal.aborted) return;
    // On failure the banner says why; the last good numbers stay, marked as stale.
    for (const slot of [statsSlot, jobsSlot, tmSlot]) slot.classList.remove('stale');
    if (overview.status === 'fulfilled') mount(statsSlot, stats(overview.value));
    else unavailable(statsSlot);
    if (jobs.status === 'fulfilled') {
      const running = jobs.value.jobs.filter((j) => !isTerminal(j.state));
      mount(
        jobsSlot,
        runningJobsTable(running, () => void refresh(), false),
      );
    } else unavailable(jobsSlot);
    if (tms.status === 'fulfilled') mount(tmSlot, taskManagersTable(tms.value.taskmanagers));
    else unavailable(tmSlot);
  };
  poll(refresh, 2000, signal);
}
