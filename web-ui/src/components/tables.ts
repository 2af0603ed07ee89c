// Tables shown on more than one page.

import { h, table } from '../dom.js';
import { formatAgo, formatBytes, formatDuration, formatTimestamp, heartbeatAge } from '../format.js';
import type { JobOverview, TaskManagerInfo } from '../types.js';
import { cancelButton } from './cancel-job.js';
import { isTerminal, stateBadge, taskPills } from './state.js';

export function jobLink(jid: string, name: string): HTMLElement {
  return h('a', { href: `#/jobs/${jid}`, class: 'job-link' }, name || jid);
}

/** Newest first, as Flink lists them. */
export function sortJobs(jobs: JobOverview[]): JobOverview[] {
  return [...jobs].sort((a, b) => (b['start-time'] ?? 0) - (a['start-time'] ?? 0));
}

export function runningJobsTable(jobs: JobOverview[], onChange: () => void, withCancel = true): HTMLElement {
  const rows = sortJobs(jobs).map((j) =>
    h(
      'tr',
      { 'data-jid': j.jid },
      h('td', null, jobLink(j.jid, j.name), h('div', { class: 'sub mono' }, j.jid)),
      h('td', null, formatTimestamp(j['start-time'])),
      h('td', { class: 'duration' }, formatDuration(j.duration)),
      h('td', null, taskPills(j.tasks)),
      h('td', null, stateBadge(j.state)),
      withCancel
        ? h('td', { class: 'actions' }, isTerminal(j.state) ? null : cancelButton(j.jid, j.name, onChange, true))
        : null,
    ),
  );
  const headers = ['Job', 'Start time', 'Duration', 'Tasks', 'Status'];
  return table(withCancel ? [...headers, ''] : headers, rows, 'No running jobs.', { 'data-testid': 'running-jobs' });
}

export function completedJobsTable(jobs: JobOverview[]): HTMLElement {
  const rows = [...jobs]
    .sort((a, b) => (b['end-time'] ?? 0) - (a['end-time'] ?? 0))
    .map((j) =>
      h(
        'tr',
        { 'data-jid': j.jid },
        h('td', null, jobLink(j.jid, j.name), h('div', { class: 'sub mono' }, j.jid)),
        h('td', null, formatTimestamp(j['start-time'])),
        h('td', null, formatTimestamp(j['end-time'])),
        h('td', { class: 'duration' }, formatDuration(j.duration)),
        h('td', null, taskPills(j.tasks)),
        h('td', null, stateBadge(j.state)),
      ),
    );
  return table(['Job', 'Start time', 'End time', 'Duration', 'Tasks', 'Status'], rows, 'No completed jobs.', {
    'data-testid': 'completed-jobs',
  });
}

export function taskManagersTable(tms: TaskManagerInfo[], now = Date.now()): HTMLElement {
  const rows = [...tms]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((tm) => {
      const cores = tm.hardware?.cpuCores;
      const host = [
        tm.hostname,
        tm.pid != null ? `pid ${tm.pid}` : null,
        typeof cores === 'number' ? `${cores} cores` : null,
      ]
        .filter(Boolean)
        .join(' · ');
      return h(
        'tr',
        { 'data-tm-id': tm.id },
        h('td', null, h('span', { class: 'mono' }, tm.id), host ? h('div', { class: 'sub' }, host) : null),
        h(
          'td',
          { class: 'mono' },
          tm.path ?? '—',
          tm.dataPort != null ? h('div', { class: 'sub' }, `data port ${tm.dataPort}`) : null,
        ),
        h('td', { class: 'num' }, String(tm.slotsNumber)),
        h('td', { class: 'num' }, String(tm.freeSlots)),
        h('td', null, formatAgo(heartbeatAge(tm.timeSinceLastHeartbeat, now))),
        h(
          'td',
          null,
          tm.memory?.rss != null ? `${formatBytes(tm.memory.rss)} RSS` : '—',
          tm.memory?.heapUsed != null ? h('div', { class: 'sub' }, `${formatBytes(tm.memory.heapUsed)} heap`) : null,
        ),
        h(
          'td',
          { class: 'actions' },
          h('a', { href: `#/taskmanagers/${encodeURIComponent(tm.id)}/log`, class: 'btn btn-small' }, 'Log'),
        ),
      );
    });
  return table(
    ['ID', 'Address', 'Slots', 'Free slots', 'Last heartbeat', 'Memory', ''],
    rows,
    'No task managers registered.',
    {
      'data-testid': 'taskmanagers',
    },
  );
}
