// The job page's checkpoints tab: counts, what the job was restored from, the latest completed
// checkpoint and savepoint, the savepoints taken, and the history.

import { poll, rest } from '../api.js';
import { card, fact, h, mount, table } from '../dom.js';
import { formatBytes, formatDuration, formatTimestamp } from '../format.js';
import { copyableText } from '../components/copy-text.js';
import { stateClass } from '../components/state.js';
import type { CheckpointStats, JobCheckpoints } from '../types.js';

export function checkpointsTab(el: HTMLElement, jid: string, signal: AbortSignal): void {
  const body = h('div', { class: 'tab-content' }, h('div', { class: 'muted' }, 'Loading…'));
  mount(el, body);
  let shown: string | undefined;
  poll(
    async () => {
      const c = await rest.checkpoints(jid, signal);
      if (signal.aborted) return;
      // Unchanged statistics keep their DOM (and any text selection or Copy feedback).
      const key = JSON.stringify(c);
      if (key === shown) return;
      shown = key;
      mount(
        body,
        c ? renderCheckpoints(c) : card(null, h('div', { class: 'muted' }, 'No checkpoint statistics for this job.')),
      );
    },
    3000,
    signal,
  );
}

function renderCheckpoints(c: JobCheckpoints): Node[] {
  const counts = c.counts ?? {};
  const latest = c.latest?.completed;
  const rows = (c.history ?? []).map((k) =>
    h(
      'tr',
      null,
      h('td', { class: 'num' }, String(k.id)),
      h('td', null, checkpointBadge(k.status), k.is_savepoint ? h('span', { class: 'sub' }, ' savepoint') : null),
      h('td', null, formatTimestamp(k.trigger_timestamp)),
      h('td', null, formatTimestamp(k.latest_ack_timestamp)),
      h('td', null, formatDuration(k.end_to_end_duration)),
      h('td', null, k.alignment_duration != null ? formatDuration(k.alignment_duration) : '—'),
      h('td', { class: 'num' }, formatBytes(k.state_size)),
      h('td', { class: 'num' }, k.num_subtasks != null ? `${k.num_acknowledged_subtasks ?? 0}/${k.num_subtasks}` : '—'),
    ),
  );
  return [
    h(
      'div',
      { class: 'stats' },
      ...(
        [
          ['Completed', counts.completed, 'state-text-finished'],
          ['In progress', counts.in_progress, 'state-text-running'],
          ['Failed', counts.failed, 'state-text-failed'],
          ['Restored', counts.restored, ''],
        ] as const
      ).map(([label, n, cls]) =>
        h(
          'div',
          { class: `stat ${cls}` },
          h('div', { class: 'stat-value' }, String(n ?? 0)),
          h('div', { class: 'stat-label' }, label),
        ),
      ),
    ),
    ...(c.latest?.restored ? [restoredCard(c.latest.restored)] : []),
    card(
      'Latest completed checkpoint',
      latest
        ? h(
            'div',
            { class: 'facts' },
            fact('ID', String(latest.id)),
            fact('Completed', formatTimestamp(latest.latest_ack_timestamp)),
            fact('End to end', formatDuration(latest.end_to_end_duration)),
            fact('State size', formatBytes(latest.state_size)),
            fact('Alignment', latest.alignment_duration != null ? formatDuration(latest.alignment_duration) : '—'),
            fact('Path', pathOf(latest)),
          )
        : h('div', { class: 'muted' }, 'None yet.'),
    ),
    latestSavepointCard(c.latest?.savepoint ?? null),
    savepointsCard((c.history ?? []).filter((k) => k.is_savepoint)),
    card(
      'History',
      table(
        ['ID', 'Status', 'Triggered', 'Acknowledged', 'End to end', 'Alignment', 'State size', 'Acks'],
        rows,
        'No checkpoints yet.',
      ),
    ),
  ];
}

type Restored = NonNullable<NonNullable<JobCheckpoints['latest']>['restored']>;

function restoredCard(r: Restored): HTMLElement {
  return h(
    'section',
    { class: 'card', 'data-testid': 'restored' },
    h('h2', { class: 'card-title' }, 'Restored'),
    h(
      'div',
      { class: 'facts' },
      fact('From', `${r.is_savepoint ? 'Savepoint' : 'Checkpoint'} ${r.id}`),
      fact('At', formatTimestamp(r.restore_timestamp)),
      fact('Path', r.external_path ? copyableText(r.external_path) : '—'),
    ),
  );
}

function latestSavepointCard(sp: CheckpointStats | null): HTMLElement {
  return h(
    'section',
    { class: 'card', 'data-testid': 'latest-savepoint' },
    h('h2', { class: 'card-title' }, 'Latest savepoint'),
    sp
      ? h(
          'div',
          { class: 'facts' },
          fact('ID', String(sp.id)),
          fact('Completed', formatTimestamp(sp.latest_ack_timestamp)),
          fact('End to end', formatDuration(sp.end_to_end_duration)),
          fact('State size', formatBytes(sp.state_size)),
          fact('Path', pathOf(sp)),
        )
      : h(
          'div',
          { class: 'muted' },
          'None yet. A running job takes one with “Trigger savepoint” or “Stop with savepoint”.',
        ),
  );
}

function savepointsCard(savepoints: CheckpointStats[]): HTMLElement {
  const rows = savepoints.map((k) =>
    h(
      'tr',
      { 'data-checkpoint-id': String(k.id) },
      h('td', { class: 'num' }, String(k.id)),
      h('td', null, checkpointBadge(k.status)),
      h('td', { class: 'nowrap' }, formatTimestamp(k.trigger_timestamp)),
      h('td', null, formatDuration(k.end_to_end_duration)),
      h('td', { class: 'num' }, formatBytes(k.state_size)),
      h('td', null, pathOf(k)),
    ),
  );
  return card(
    'Savepoints',
    table(['ID', 'Status', 'Triggered', 'End to end', 'State size', 'Path'], rows, 'No savepoints taken.', {
      'data-testid': 'savepoints',
    }),
  );
}

function pathOf(k: CheckpointStats): Node | string {
  return k.external_path ? copyableText(k.external_path) : '—';
}

/** Checkpoint statuses keep their own names but take the colours of the matching job states. */
function checkpointBadge(status: string): HTMLElement {
  const like = status === 'COMPLETED' ? 'FINISHED' : status === 'IN_PROGRESS' ? 'RUNNING' : status;
  return h('span', { class: `badge state-${stateClass(like)}` }, status);
}
