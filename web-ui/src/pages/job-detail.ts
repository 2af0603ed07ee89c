// One job: header with its actions (savepoints, stop, restart, upgrade, cancel; run again once
// ended) and their progress, then tabs for the graph and throughput, exceptions, and
// checkpoints (the last only when the server reports checkpoint statistics).

import { poll, rest, RestError } from '../api.js';
import { card, fact, h, mount, setText, table } from '../dom.js';
import { formatBytes, formatCount, formatDuration, formatRate, formatTimestamp } from '../format.js';
import { RateTracker, SeriesHistory, type VertexCounters, type VertexRates } from '../rates.js';
import type { PageContext } from '../router.js';
import { JobActions } from '../components/job-actions.js';
import { restoredFromFact } from '../components/restored-from.js';
import { JobGraphView, planEdges } from '../components/job-graph.js';
import { setBadge, stateBadge, taskPills } from '../components/state.js';
import { ThroughputChart, type ChartSeries } from '../components/throughput-chart.js';
import { recordsIn, recordsOut, type JobDetails, type JobVertex } from '../types.js';
import { exceptionsTab } from './job-exceptions.js';
import { checkpointsTab as checkpointsTabContent } from './job-checkpoints.js';

export type JobTab = 'overview' | 'exceptions' | 'checkpoints';

/** Five minutes of one-second samples. */
const HISTORY_POINTS = 300;

interface JobSamples {
  tracker: RateTracker;
  history: SeriesHistory;
  rates: Map<string, VertexRates>;
}

// Kept across tab switches (each tab is its own route) so the chart does not start over.
const samplesByJob = new Map<string, JobSamples>();

function samplesFor(jid: string): JobSamples {
  let s = samplesByJob.get(jid);
  if (!s) {
    s = { tracker: new RateTracker(), history: new SeriesHistory(HISTORY_POINTS), rates: new Map() };
    samplesByJob.set(jid, s);
    // Only the most recently viewed jobs are worth remembering.
    if (samplesByJob.size > 4) samplesByJob.delete(samplesByJob.keys().next().value!);
  }
  return s;
}

export function jobDetailPage(tab: JobTab) {
  return ({ root, params, signal }: PageContext): void => {
    const jid = params.jid!;
    const samples = samplesFor(jid);

    const title = h('h1', { class: 'job-title' }, 'Loading…');
    const badge = stateBadge('CREATED');
    badge.style.visibility = 'hidden';
    const facts = h('div', { class: 'facts' });
    let refresh: () => Promise<void> = async () => undefined;
    const actions = new JobActions(() => void refresh().catch(() => undefined));
    const checkpointsTab = h(
      'a',
      {
        href: `#/jobs/${jid}/checkpoints`,
        class: `tab${tab === 'checkpoints' ? ' active' : ''}`,
        hidden: tab !== 'checkpoints',
      },
      'Checkpoints',
    );
    const tabs = h(
      'nav',
      { class: 'tabs' },
      h('a', { href: `#/jobs/${jid}`, class: `tab${tab === 'overview' ? ' active' : ''}` }, 'Overview'),
      h(
        'a',
        {
          href: `#/jobs/${jid}/exceptions`,
          class: `tab${tab === 'exceptions' ? ' active' : ''}`,
          'data-testid': 'tab-exceptions',
        },
        'Exceptions',
      ),
      checkpointsTab,
    );
    const content = h('div', { class: 'tab-content' });
    mount(
      root,
      h(
        'section',
        { class: 'card job-header' },
        h('div', { class: 'job-header-row' }, h('div', { class: 'job-title-row' }, title, badge), actions.el),
        facts,
        actions.operations,
      ),
      tabs,
      content,
    );

    let overview: ((job: JobDetails) => void) | undefined;
    if (tab === 'overview') overview = overviewTab(content, signal);
    else if (tab === 'exceptions') exceptionsTab(content, jid, signal);
    else checkpointsTabContent(content, jid, signal);

    // Built once: the facts are re-mounted every poll, and its Copy button should not flicker.
    let restoredKey = '';
    let restoredEl: HTMLElement | null = null;
    const restored = (job: JobDetails): HTMLElement | null => {
      const r = job['restored-from'] ?? null;
      const key = JSON.stringify(r);
      if (key !== restoredKey) {
        restoredKey = key;
        restoredEl = r ? restoredFromFact(r) : null;
      }
      return restoredEl;
    };
    refresh = async (): Promise<void> => {
      const job = await rest.job(jid, signal);
      if (signal.aborted) return;
      record(samples, job);
      setText(title, job.name || job.jid);
      document.title = `${job.name} · Weir`;
      badge.style.visibility = '';
      setBadge(badge, job.state);
      mount(
        facts,
        fact('Job ID', h('span', { class: 'mono', 'data-testid': 'job-id' }, job.jid)),
        fact('Start time', formatTimestamp(job['start-time'])),
        fact('End time', formatTimestamp(job['end-time'])),
        fact('Duration', formatDuration(job.duration)),
        fact('Tasks', taskPills(sumTasks(job))),
        job.parallelism != null
          ? fact('Parallelism', h('span', { 'data-testid': 'job-parallelism' }, String(job.parallelism)))
          : null,
        restored(job),
      );
      actions.update(job);
      overview?.(job);
    };
    poll(
      () =>
        refresh().catch((err: unknown) => {
          if (err instanceof RestError && err.status === 404) setText(title, 'Job not found');
          throw err;
        }),
      1000,
      signal,
    );

    if (tab !== 'checkpoints') {
      // A server without checkpoint statistics answers 404: then the tab stays hidden.
      rest
        .checkpoints(jid, signal)
        .then((c) => {
          if (c) checkpointsTab.hidden = false;
        })
        .catch(() => undefined);
    }

    function overviewTab(el: HTMLElement, sig: AbortSignal): (job: JobDetails) => void {
      let selected: string | undefined;
      let latest: JobDetails | undefined;
      const subtasks = h('div');
      const showSubtasks = (): void => {
        const v = latest?.vertices.find((x) => x.id === selected);
        mount(subtasks, v ? subtasksTable(v) : null);
      };
      const graph = new JobGraphView((id) => {
        selected = id;
        showSubtasks();
      });
      const chart = new ThroughputChart();
      const vertices = h('div');
      mount(
        el,
        card('Job graph', h('p', { class: 'hint' }, 'Click an operator for its subtasks.'), graph.el, subtasks),
        card(
          'Records per second',
          h('p', { class: 'hint' }, 'Records received per second for each operator; sources show records emitted.'),
          chart.el,
        ),
        card('Operators', vertices),
      );
      sig.addEventListener('abort', () => chart.destroy(), { once: true });
      return (job) => {
        latest = job;
        graph.update(job, samples.rates);
        showSubtasks();
        chart.update(samples.history, chartSeries(job));
        mount(vertices, verticesTable(job, samples.rates));
      };
    }
  };
}

/** Adds the job's counters to its history: one chart point per poll. */
function record(samples: JobSamples, job: JobDetails): void {
  const t = job.now && job.now > 0 ? job.now : Date.now();
  const counters = new Map<string, VertexCounters>();
  for (const v of job.vertices) {
    counters.set(v.id, { read: recordsIn(v.metrics), write: recordsOut(v.metrics) });
  }
  const rates = samples.tracker.update(t, counters);
  if (!rates) return;
  samples.rates = rates;
  if (rates.size === 0) return;
  const sources = sourceIds(job);
  const values = new Map<string, number>();
  for (const [id, r] of rates) values.set(id, sources.has(id) ? r.writePerSecond : r.readPerSecond);
  samples.history.add(t / 1000, values);
}

function sourceIds(job: JobDetails): Set<string> {
  const targets = new Set(planEdges(job).map((e) => e.to));
  return new Set(job.vertices.filter((v) => !targets.has(v.id)).map((v) => v.id));
}

function chartSeries(job: JobDetails): ChartSeries[] {
  const sources = sourceIds(job);
  return job.vertices.map((v) => ({ key: v.id, label: `${v.name} (${sources.has(v.id) ? 'out' : 'in'})` }));
}

function sumTasks(job: JobDetails): Record<string, number> {
  const total: Record<string, number> = {};
  for (const v of job.vertices) for (const [k, n] of Object.entries(v.tasks ?? {})) total[k] = (total[k] ?? 0) + n;
  return total;
}

function verticesTable(job: JobDetails, rates: Map<string, VertexRates>): HTMLElement {
  const rows = job.vertices.map((v) => {
    const r = rates.get(v.id);
    const m = v.metrics ?? {};
    return h(
      'tr',
      { 'data-vertex-id': v.id },
      h('td', null, v.name),
      h('td', null, stateBadge(v.status)),
      h('td', { class: 'num' }, String(v.parallelism)),
      h(
        'td',
        { class: 'num' },
        formatCount(recordsIn(m)),
        h('div', { class: 'sub' }, r ? formatRate(r.readPerSecond) : ''),
      ),
      h(
        'td',
        { class: 'num' },
        formatCount(recordsOut(m)),
        h('div', { class: 'sub' }, r ? formatRate(r.writePerSecond) : ''),
      ),
      h('td', { class: 'num' }, formatBytes(m['read-bytes'] ?? 0)),
      h('td', { class: 'num' }, formatBytes(m['write-bytes'] ?? 0)),
      h('td', null, formatDuration(v.duration)),
      h('td', null, taskPills(v.tasks)),
    );
  });
  return table(
    ['Name', 'Status', 'Parallelism', 'Records in', 'Records out', 'Bytes in', 'Bytes out', 'Duration', 'Tasks'],
    rows,
    'This job has no operators.',
    { 'data-testid': 'vertices' },
  );
}

function subtasksTable(v: JobVertex): HTMLElement {
  const rows = (v.subtasks ?? []).map((st) =>
    h(
      'tr',
      null,
      h('td', { class: 'num' }, String(st.subtask)),
      h('td', null, stateBadge(st.status)),
      h('td', { class: 'num' }, String(st.attempt ?? 0)),
      h(
        'td',
        null,
        h('span', { class: 'mono' }, st['taskmanager-id'] ?? '—'),
        st.endpoint ? h('div', { class: 'sub mono' }, st.endpoint) : null,
      ),
      h('td', { class: 'num' }, formatCount(recordsIn(st.metrics))),
      h('td', { class: 'num' }, formatCount(recordsOut(st.metrics))),
      h('td', null, formatTimestamp(st['start-time'])),
    ),
  );
  return h(
    'div',
    { class: 'subtasks', 'data-testid': 'subtasks' },
    h('h3', null, `Subtasks of ${v.name}`),
    table(
      ['#', 'Status', 'Attempt', 'Task manager', 'Records in', 'Records out', 'Start time'],
      rows,
      'No subtask details reported.',
    ),
  );
}
