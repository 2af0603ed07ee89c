// State badges and task-count pills, coloured as in Flink's dashboard.

import { EXECUTION_STATES } from '../../../common/states.js';
import { h } from '../dom.js';
import type { TaskCounts } from '../types.js';

const TERMINAL = new Set(['FINISHED', 'CANCELED', 'FAILED', 'SUSPENDED']);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state.toUpperCase());
}

/** CSS class suffix for a job or task state. */
export function stateClass(state: string): string {
  switch (state.toUpperCase()) {
    case 'RUNNING':
      return 'running';
    case 'FINISHED':
      return 'finished';
    case 'FAILED':
      return 'failed';
    case 'CANCELED':
      return 'canceled';
    case 'CANCELING':
    case 'CANCELLING':
    case 'FAILING':
      return 'stopping';
    case 'RESTARTING':
    case 'RECONCILING':
      return 'restarting';
    default:
      // CREATED, SCHEDULED, DEPLOYING, INITIALIZING: on the way to running.
      return 'pending';
  }
}

export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${stateClass(state)}`, 'data-state': state }, state);
}

/** Updates an existing badge in place (keeps polling from rebuilding the DOM). */
export function setBadge(el: HTMLElement, state: string): void {
  if (el.dataset.state === state) return;
  el.dataset.state = state;
  el.className = `badge state-${stateClass(state)}`;
  el.textContent = state;
}

const ORDER: string[] = [...EXECUTION_STATES, 'RECONCILING'];

/** Non-zero task counts in lifecycle order, upper-cased (Flink's job list sends lower case). */
export function taskCountEntries(tasks: TaskCounts | undefined): [string, number][] {
  if (!tasks) return [];
  const merged = new Map<string, number>();
  for (const [k, v] of Object.entries(tasks)) {
    const key = k.toUpperCase();
    if (key === 'TOTAL' || typeof v !== 'number' || v <= 0) continue;
    merged.set(key, (merged.get(key) ?? 0) + v);
  }
  const rank = (k: string): number => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  return [...merged].sort((a, b) => rank(a[0]) - rank(b[0]));
}

export function taskPills(tasks: TaskCounts | undefined): HTMLElement {
  const entries = taskCountEntries(tasks);
  return h(
    'span',
    { class: 'pills' },
    entries.length
      ? entries.map(([k, v]) => h('span', { class: `pill state-${stateClass(k)}`, title: `${v} ${k}` }, String(v)))
      : h('span', { class: 'muted' }, '—'),
  );
}
