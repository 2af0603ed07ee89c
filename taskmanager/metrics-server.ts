// Prometheus metrics of a TaskManager (prom-client), served over plain HTTP at /metrics on
// `metrics.reporter.prom.port` (Flink's key; 0 picks a free port, which registration announces).
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { TaskMetrics } from '../common/control.js';

export interface TaskView {
  jobId: string;
  name: string;
  subtaskIndex: number;
  metrics(): TaskMetrics;
}

/** What the series read (the TaskExecutor). */
export interface TaskManagerView {
  taskViews(): Iterable<TaskView>;
  slotsWithoutSpare(): number;
  /** Alignment limits the JobManager pushed to this TaskManager's paused source subtasks, so far. */
  alignmentLimitsPushed(): number;
}

export class TaskManagerMetricsServer {
  private readonly registry = new Registry();
  private server: Server | undefined;

  constructor(taskManagerId: string, view: TaskManagerView) {
    collectDefaultMetrics({
      register: this.registry,
      prefix: 'weir_taskmanager_process_',
      labels: { tm_id: taskManagerId },
    });
    new Gauge({
      name: 'weir_taskmanager_slots_without_spare_thread',
      help: 'slots that have run tasks and have no spare thread loaded yet: a job deployed there now waits for a thread to load',
      labelNames: ['tm_id'],
      registers: [this.registry],
      collect() {
        this.set({ tm_id: taskManagerId }, view.slotsWithoutSpare());
      },
    });
    new Counter({
      name: 'weir_taskmanager_watermark_alignment_limits_pushed_total',
      help: "alignment limits the JobManager pushed to this TaskManager's paused source subtasks as the rest of their groups moved on",
      labelNames: ['tm_id'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ tm_id: taskManagerId }, view.alignmentLimitsPushed());
      },
    });
    // One series per task; a task whose `pick` gives undefined (a connector metric it lacks) has none.
    const gauge = (name: string, help: string, pick: (m: TaskMetrics) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['tm_id', 'job_id', 'task_name', 'subtask_index'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const t of view.taskViews()) {
            const v = pick(t.metrics());
            if (v !== undefined)
              this.set(
                { tm_id: taskManagerId, job_id: t.jobId, task_name: t.name, subtask_index: String(t.subtaskIndex) },
                v,
              );
          }
        },
      });
    gauge('weir_task_records_in', 'records a task read from its input gates', (m) => m.recordsIn);
    gauge('weir_task_records_out', 'records a task wrote to its result partitions', (m) => m.recordsOut);
    gauge('weir_task_bytes_out', 'bytes a task wrote to its result partitions', (m) => m.bytesOut);
    gauge('weir_task_source_records', 'records the source of a task emitted', (m) => m.sourceRecords);
    gauge('weir_task_sink_records', 'records the sinks of a task received', (m) => m.sinkRecords);
    gauge(
      'weir_task_state_entries',
      'keys, windows and buffered rows the operators of a task hold',
      (m) => m.stateEntries,
    );
    gauge(
      'weir_task_sink_lag_p99_ms',
      'event-time lag (now - timestamp) of records reaching the sinks of a task, p99 of recent samples',
      (m) => m.sinkLagP99,
    );
    gauge(
      'weir_task_backpressured_ms',
      'milliseconds a task waited for credit on its outputs',
      (m) => m.backPressuredMs,
    );
    // Flink's busyTimeMsPerSecond, idleTimeMsPerSecond and backPressuredTimeMsPerSecond (last 5 s; they add up to 1000).
    gauge(
      'weir_task_busy_time_ms_per_second',
      'busyTimeMsPerSecond: milliseconds per second a task processed records, timers and actions (sources: emitted)',
      (m) => m.busyTimeMsPerSecond,
    );
    gauge(
      'weir_task_idle_time_ms_per_second',
      'idleTimeMsPerSecond: milliseconds per second a task waited for input',
      (m) => m.idleTimeMsPerSecond,
    );
    gauge(
      'weir_task_back_pressured_time_ms_per_second',
      'backPressuredTimeMsPerSecond: milliseconds per second a task waited for output buffers (credit)',
      (m) => m.backPressuredTimeMsPerSecond,
    );
    // Buffer debloating, for input tasks while it runs (Flink's debloatedBufferSize, estimatedTimeToConsumeBuffersMs).
    gauge(
      'weir_task_debloated_buffer_size',
      'debloatedBufferSize: bytes at which the producers of a task finish the buffers they send it (buffer debloating)',
      (m) => m.connector?.debloatedBufferSize,
    );
    gauge(
      'weir_task_estimated_time_to_consume_buffers_ms',
      'estimatedTimeToConsumeBuffersMs: ms a task would take to consume every buffer it grants credit for, at its measured throughput',
      (m) => m.connector?.estimatedTimeToConsumeBuffersMs,
    );
    // Connector metrics, only for the tasks whose connectors report them (Flink's names in the help).
    const connector = (name: string, key: string, help: string) => gauge(name, help, (m) => m.connector?.[key]);
    connector(
      'weir_task_source_records_lag_max',
      'records-lag-max',
      'records-lag-max: the largest number of records a partition of the source is behind its end',
    );
    connector(
      'weir_task_source_pending_records',
      'pendingRecords',
      'pendingRecords: records the source has yet to read, over its partitions',
    );
    connector(
      'weir_task_source_watermark_alignment_drift',
      'watermarkAlignmentDrift',
      "watermarkAlignmentDrift: ms of event time an aligned source's watermark is ahead of its alignment group's lowest",
    );
    connector(
      'weir_task_sink_records_send',
      'numRecordsSend',
      'numRecordsSend: records the sinks acknowledged as written to the external system',
    );
    connector(
      'weir_task_sink_bytes_send',
      'numBytesSend',
      'numBytesSend: bytes the sinks wrote to the external system',
    );
    connector(
      'weir_task_sink_commit_failures',
      'numCommitFailures',
      'numCommitFailures: commits (transactions, flushes) of the sinks that failed',
    );
    connector('weir_task_sink_samples_out', 'numSamplesOut', 'numSamplesOut: samples a PrometheusSink wrote');
    connector(
      'weir_task_sink_write_requests_out',
      'numWriteRequestsOut',
      'numWriteRequestsOut: remote-write requests a PrometheusSink sent',
    );
    connector(
      'weir_task_sink_write_requests_retries',
      'numWriteRequestsRetries',
      'numWriteRequestsRetries: remote-write requests a PrometheusSink retried',
    );
    connector(
      'weir_task_sink_samples_dropped',
      'numSamplesDropped',
      'numSamplesDropped: samples a PrometheusSink dropped (refused by Prometheus or out of retries)',
    );
  }

  /** Starts serving; returns the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [`Not found: ${req.method} ${req.url}`] }));
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: Error) =>
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [e.message] })),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot serve metrics on ${host}:${port}: ${e.message}`)));
      server.listen(port, host, () => {
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
