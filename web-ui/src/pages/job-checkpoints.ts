// The job page's checkpoints tab: counts, the latest completed checkpoint, and history.

import { poll, rest } from '../api.js';
import { card, fact, h, mount, table } from '../dom.js';
import { formatBytes, formatDuration, formatTimestamp } from '../format.js';
import { stateClass } from '../components/state.js';
import type { JobCheckpoints } from '../types.js';

export function checkpointsTab(el: HTMLElement, jid: string, signal: AbortSignal): void {
  const body = h('div', { class: 'tab-content' }, h('div', { class: 'muted' }, 'Loading…'));
  mount(el, body);
  poll(async () => {
    const c = await rest.checkpoints(jid, signal);
    if (signal.aborted) return;
    mount(body, c ? renderCheckpoints(c) : card(null, h('div', { class: 'muted' }, 'No checkpoint statistics for this job.')));
  }, 3000, signal);
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
        h('div', { class: `stat ${cls}` }, h('div', { class: 'stat-value' }, String(n ?? 0)), h('div', { class: 'stat-label' }, label)),
      ),
    ),
    ...(c.latest?.restored
      ? [card('Restored', h('div', { class: 'facts' }, fact('From checkpoint', String(c.latest.restored.id)), fact('At', formatTimestamp(c.latest.restored.restore_timestamp)), fact('Path', h('span', { class: 'mono' }, c.latest.restored.external_path ?? '—'))))]
      : []),
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
            fact('Path', h('span', { class: 'mono' }, latest.external_path ?? '—')),
          )
        : h('div', { class: 'muted' }, 'None yet.'),
    ),
    card('History', table(['ID', 'Status', 'Triggered', 'Acknowledged', 'End to end', 'Alignment', 'State size', 'Acks'], rows, 'No checkpoints yet.')),
  ];
}

/** Checkpoint statuses keep their own names but take the colours of the matching job states. */
function checkpointBadge(status: string): HTMLElement {
  const like = status === 'COMPLETED' ? 'FINISHED' : status === 'IN_PROGRESS' ? 'RUNNING' : status;
  return h('span', { class: `badge state-${stateClass(like)}` }, status);
}
