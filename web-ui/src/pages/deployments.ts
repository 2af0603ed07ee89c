// Deployments (weir apply): each with its lifecycle state, desired state and the job that runs it.

import './deployments.css';
import { poll, rest } from '../api.js';
import { card, h, mount, table } from '../dom.js';
import { formatTimestamp } from '../format.js';
import type { PageContext } from '../router.js';
import { stateBadge } from '../components/state.js';
import type { DeploymentSummary } from '../deployment-types.js';

/** The Flink operator's lifecycle states, coloured like job states. */
export function lifecycleBadge(status: string): HTMLElement {
  const cls: Record<string, string> = {
    STABLE: 'running',
    DEPLOYED: 'running',
    SUSPENDED: 'canceled',
    UPGRADING: 'restarting',
    ROLLING_BACK: 'restarting',
    ROLLED_BACK: 'stopping',
    FAILED: 'failed',
    // Outcomes of versions in a deployment's history.
    REPLACED: 'canceled',
    COMPLETED: 'finished',
    UPDATED: 'running',
  };
  return h('span', { class: `badge state-${cls[status] ?? 'pending'}`, 'data-status': status }, status);
}

export function jobCell(jobId: string | null | undefined, state: string | null | undefined): HTMLElement {
  if (!jobId) return h('span', { class: 'muted' }, '—');
  return h(
    'div',
    { class: 'deployment-job' },
    h('a', { href: `#/jobs/${jobId}`, class: 'mono', 'data-testid': 'job-link' }, `${jobId.slice(0, 8)}…`),
    ' ',
    state ? stateBadge(state) : h('span', { class: 'muted' }, 'gone'),
  );
}

const parallelismText = (p: number | null) => (p === null ? 'job default' : String(p));

function row(d: DeploymentSummary): HTMLElement {
  const drift = d.runningVersion !== null && d.runningVersion !== d.version;
  return h(
    'tr',
    { 'data-name': d.name },
    h(
      'td',
      null,
      h('a', { href: `#/deployments/${encodeURIComponent(d.name)}`, class: 'job-link' }, d.name),
      d.cause ? h('div', { class: 'sub deployment-cause-line', title: d.cause }, d.cause) : null,
    ),
    h('td', null, lifecycleBadge(d.status)),
    h('td', null, d.state),
    h('td', null, jobCell(d.jobId, d.jobState)),
    h('td', { class: 'num' }, `v${d.version}`, drift ? h('div', { class: 'sub' }, `v${d.runningVersion} runs`) : null),
    h('td', { class: 'num' }, parallelismText(d.parallelism)),
    h(
      'td',
      null,
      h('span', { class: 'mono', title: d.bundleHash }, d.bundleHash.slice(0, 12)),
      h('div', { class: 'sub' }, d.bundleName),
    ),
    h(
      'td',
      null,
      d.lastSavepoint
        ? h('span', { class: 'mono deployment-path', title: d.lastSavepoint.path }, d.lastSavepoint.path)
        : '—',
    ),
    h('td', null, formatTimestamp(d.updatedAt)),
  );
}

export function deploymentsPage({ root, signal }: PageContext): void {
  const slot = h('div', null, h('div', { class: 'muted' }, 'Loading…'));
  mount(
    root,
    card(
      'Deployments',
      h('p', { class: 'hint' }, 'Jobs declared in WeirJob files and reconciled by weir apply.'),
      slot,
    ),
  );
  poll(
    async () => {
      const { deployments } = await rest.deployments(signal);
      if (signal.aborted) return;
      mount(
        slot,
        table(
          ['Name', 'Status', 'Desired', 'Job', 'Version', 'Parallelism', 'Bundle', 'Last savepoint', 'Updated'],
          deployments.map(row),
          'No deployments: create one with weir apply -f deploy.yaml.',
          {
            'data-testid': 'deployments',
          },
        ),
      );
    },
    2000,
    signal,
  );
}
