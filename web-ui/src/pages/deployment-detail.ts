// One deployment: its state and cause, the spec last applied beside the one its job runs (they
// differ after a rollback), and its versions, each with its diff against the one before, the job
// it started and the savepoint it started from; rollbacks stand out.

import './deployments.css';
import { poll, rest, RestError } from '../api.js';
import { card, fact, h, mount, setText, table } from '../dom.js';
import { formatTimestamp } from '../format.js';
import type { PageContext } from '../router.js';
import { copyableText } from '../components/copy-text.js';
import type { DeploymentDetails, DeploymentSpec, DeploymentVersion } from '../deployment-types.js';
import { jobCell, lifecycleBadge } from './deployments.js';

type Field = [label: string, value: (s: DeploymentSpec) => string];

function specFields(a: DeploymentSpec, b: DeploymentSpec | undefined): Field[] {
  const keys = [...new Set([...Object.keys(a.config), ...Object.keys(b?.config ?? {})])].sort();
  return [
    ['bundle', (s) => `${s.bundleHash.slice(0, 12)} (${s.bundleName})`],
    ['args', (s) => JSON.stringify(s.args)],
    ['parallelism', (s) => (s.parallelism === undefined ? 'job default' : String(s.parallelism))],
    ...keys.map((k): Field => [`config ${k}`, (s) => s.config[k] ?? '—']),
    ['upgradeMode', (s) => s.upgradeMode],
    ['state', (s) => s.state],
    ['allowNonRestoredState', (s) => String(s.allowNonRestoredState)],
    ['savepointNonce', (s) => String(s.savepointNonce)],
    ['restartNonce', (s) => String(s.restartNonce)],
  ];
}

/** Desired (last applied) against running (what the current job runs). */
function desiredVsRunning(d: DeploymentDetails): HTMLElement {
  const running = d.running?.spec;
  const rows = specFields(d.spec, running).map(([label, value]) => {
    const want = value(d.spec);
    const have = running ? value(running) : '—';
    return h(
      'tr',
      { class: want !== have ? 'differs' : null, 'data-field': label },
      h('td', null, label),
      h('td', { class: 'mono' }, want),
      h('td', { class: 'mono' }, have),
    );
  });
  return table(
    ['Field', `Desired (v${d.version})`, `Running${d.running ? ` (v${d.running.version})` : ''}`],
    rows,
    '',
    { 'data-testid': 'desired-vs-running', class: 'table deployment-spec' },
  );
}

function where(v: DeploymentVersion): HTMLElement | string {
  const path = (label: string, p: string) => {
    // The folder's own name tells savepoints apart; the whole path is in the tooltip and what Copy copies.
    const el = copyableText(p);
    const parts = p.replace(/\/+$/, '').split('/');
    el.querySelector('code')!.textContent =
      `…/${parts.slice(/^chk-\d+$/.test(parts.at(-1) ?? '') ? -2 : -1).join('/')}`;
    return h('div', { title: p }, h('div', { class: 'muted' }, label), el);
  };
  if (v.restoredFrom)
    return path(/\/chk-\d+\/?$/.test(v.restoredFrom) ? 'from checkpoint' : 'from savepoint', v.restoredFrom);
  if (v.savepoint) return path('took savepoint', v.savepoint);
  return '—';
}

function versionRow(v: DeploymentVersion): HTMLElement {
  const rollback = v.action === 'rolled-back';
  return h(
    'tr',
    {
      'data-version': v.version,
      'data-action': v.action,
      class: rollback ? 'rollback' : v.outcome === 'ROLLED_BACK' ? 'rolled-back' : null,
    },
    h('td', { class: 'num' }, `v${v.version}`),
    h('td', null, formatTimestamp(v.time)),
    h(
      'td',
      null,
      v.action,
      rollback && v.rollbackTo !== undefined ? h('div', { class: 'sub' }, `to the spec of v${v.rollbackTo}`) : null,
    ),
    h(
      'td',
      { 'data-testid': 'version-changes' },
      v.changes.length
        ? v.changes.map((c) => h('div', { class: 'mono change' }, c.text))
        : h('span', { class: 'muted' }, v.action === 'created' ? 'first version' : 'no change'),
    ),
    h(
      'td',
      null,
      jobCell(v.jobId, v.jobState),
      v.previousJobId
        ? h(
            'div',
            { class: 'sub' },
            'replaced ',
            h('a', { href: `#/jobs/${v.previousJobId}`, class: 'mono' }, `${v.previousJobId.slice(0, 8)}…`),
          )
        : null,
    ),
    h('td', null, where(v)),
    h(
      'td',
      null,
      lifecycleBadge(v.outcome),
      v.cause ? h('div', { class: 'sub deployment-cause-line', title: v.cause }, v.cause) : null,
      v.note ? h('div', { class: 'sub' }, v.note) : null,
    ),
  );
}

export function deploymentDetailPage({ root, params, signal }: PageContext): void {
  const name = params.name!;
  const title = h('h1', { class: 'job-title' }, name);
  const badge = h('span');
  const facts = h('div', { class: 'facts' });
  const cause = h('div', { class: 'deployment-cause', hidden: true, 'data-testid': 'deployment-cause' });
  const specSlot = h('div');
  const versionsSlot = h('div');
  mount(
    root,
    h('div', { class: 'crumbs' }, h('a', { href: '#/deployments' }, 'Deployments'), ' / ', name),
    h('section', { class: 'card job-header' }, h('div', { class: 'job-title-row' }, title, badge), facts, cause),
    card('Desired and running', specSlot),
    card('Versions', versionsSlot),
  );
  poll(
    async () => {
      let d: DeploymentDetails;
      try {
        d = await rest.deployment(name, signal);
      } catch (err) {
        if (err instanceof RestError && err.status === 404) setText(title, `${name}: not found`);
        throw err;
      }
      if (signal.aborted) return;
      mount(badge, lifecycleBadge(d.status));
      mount(
        facts,
        fact('Desired state', d.state),
        fact('Job', jobCell(d.jobId, d.jobState)),
        fact(
          'Version',
          h(
            'span',
            { 'data-testid': 'deployment-version' },
            `v${d.version}${d.runningVersion !== null && d.runningVersion !== d.version ? ` (v${d.runningVersion} runs)` : ''}`,
          ),
        ),
        fact('Upgrade mode', d.upgradeMode),
        fact('Last savepoint', d.lastSavepoint ? copyableText(d.lastSavepoint.path) : '—'),
        fact('Updated', formatTimestamp(d.updatedAt)),
      );
      cause.hidden = !d.cause;
      setText(cause, d.cause ?? '');
      mount(specSlot, desiredVsRunning(d));
      mount(
        versionsSlot,
        table(
          ['Version', 'Time', 'Action', 'Changes', 'Job', 'Savepoint', 'Outcome'],
          [...d.history].reverse().map(versionRow),
          'No versions.',
          { 'data-testid': 'versions', class: 'table deployment-versions' },
        ),
      );
    },
    2000,
    signal,
  );
}
