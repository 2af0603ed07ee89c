// Prometheus metrics of the JobManager (prom-client), computed at scrape time from live state.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Dispatcher } from './dispatcher.js';
import type { ResourceManager } from './resource-manager.js';

type LatestJson = { end_to_end_duration?: number; state_size?: number };
type Job = ReturnType<Dispatcher['jobs']['get']> & object;

export class JobManagerMetrics {
  readonly registry = new Registry();

  constructor(rm: ResourceManager, dispatcher: () => Dispatcher) {
    collectDefaultMetrics({ register: this.registry, prefix: 'weir_jobmanager_process_' });
    registerClusterGauges(this.registry, rm, dispatcher);
    registerJobGauges(this.registry, dispatcher);
    registerVertexGauges(this.registry, dispatcher);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** TaskManagers, slots and jobs by state. */
function registerClusterGauges(r: Registry, rm: ResourceManager, dispatcher: () => Dispatcher): void {
  new Gauge({
    name: 'weir_jobmanager_taskmanagers',
    help: 'registered TaskManagers',
    registers: [r],
    collect() {
      this.set(rm.taskManagers.size);
    },
  });
  new Gauge({
    name: 'weir_jobmanager_slots_total',
    help: 'slots offered by all TaskManagers',
    registers: [r],
    collect() {
      this.set(rm.totalSlots());
    },
  });
  new Gauge({
    name: 'weir_jobmanager_slots_available',
    help: 'free slots',
    registers: [r],
    collect() {
      this.set(rm.freeSlots());
    },
  });
  new Gauge({
    name: 'weir_jobmanager_jobs',
    help: 'jobs by state',
    labelNames: ['state'],
    registers: [r],
    collect() {
      this.reset();
      for (const j of dispatcher().jobs.values()) this.inc({ state: j.status });
    },
  });
}

/**
 * Flink's job metrics numRestarts, numberOfCompletedCheckpoints, numberOfFailedCheckpoints,
 * lastCheckpointDuration and lastCheckpointSize, for every job of this JobManager's lifetime.
 */
function registerJobGauges(r: Registry, dispatcher: () => Dispatcher): void {
  const perJob = (name: string, help: string, pick: (j: Job) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['job_id', 'job_name'],
      registers: [r],
      collect() {
        this.reset();
        for (const j of dispatcher().jobs.values()) {
          const v = pick(j);
          if (v !== undefined) this.set({ job_id: j.jobId, job_name: j.graph.jobGraph.name }, v);
        }
      },
    });
  perJob('weir_job_restarts', 'times the job restarted (Flink: numRestarts)', (j) => j.graph.attempt);
  perJob(
    'weir_job_checkpoints_completed',
    'completed checkpoints (Flink: numberOfCompletedCheckpoints)',
    (j) => checkpoints(j)?.counts.completed,
  );
  perJob(
    'weir_job_checkpoints_failed',
    'failed checkpoints (Flink: numberOfFailedCheckpoints)',
    (j) => checkpoints(j)?.counts.failed,
  );
  perJob(
    'weir_job_last_checkpoint_duration_ms',
    'end-to-end duration of the latest completed checkpoint (Flink: lastCheckpointDuration)',
    (j) => checkpoints(j)?.latest.completed?.end_to_end_duration,
  );
  perJob(
    'weir_job_last_checkpoint_size_bytes',
    'state size of the latest completed checkpoint (Flink: lastCheckpointSize)',
    (j) => checkpoints(j)?.latest.completed?.state_size,
  );
  perJob(
    'weir_job_last_savepoint_duration_ms',
    'end-to-end duration of the latest completed savepoint',
    (j) => checkpoints(j)?.latest.savepoint?.end_to_end_duration,
  );
  perJob(
    'weir_job_last_savepoint_size_bytes',
    'state size of the latest completed savepoint',
    (j) => checkpoints(j)?.latest.savepoint?.state_size,
  );
  perJob(
    'weir_job_last_restore_timestamp_ms',
    'when the job last restored from a checkpoint or savepoint (Flink: lastCheckpointRestoreTimestamp)',
    (j) => checkpoints(j)?.latest.restored?.restore_timestamp,
  );
}

/** A job's checkpoint statistics (the REST API's JSON), if it checkpoints. */
function checkpoints(j: { checkpointing?: { coordinator: { stats(): unknown } } }) {
  return j.checkpointing?.coordinator.stats() as
    | {
        counts: { completed: number; failed: number };
        latest: {
          completed: LatestJson | null;
          savepoint: LatestJson | null;
          restored: { restore_timestamp?: number } | null;
        };
      }
    | undefined;
}

/** Records in and out of each vertex of the running jobs. */
function registerVertexGauges(r: Registry, dispatcher: () => Dispatcher): void {
  const perVertex = (name: string, help: string, pick: (m: { recordsIn: number; recordsOut: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['job_id', 'job_name', 'vertex'],
      registers: [r],
      collect() {
        this.reset();
        for (const j of dispatcher().jobs.values()) {
          if (!['RUNNING', 'FAILING', 'CANCELLING'].includes(j.status)) continue;
          j.graph.executions.forEach((row, vi) => {
            const v = j.graph.jobGraph.vertices[vi]!;
            this.set(
              { job_id: j.jobId, job_name: j.graph.jobGraph.name, vertex: v.name },
              row.reduce((a, e) => a + pick(e.metrics), 0),
            );
          });
        }
      },
    });
  perVertex('weir_job_vertex_records_in', 'records a vertex read from the network', (m) => m.recordsIn);
  perVertex('weir_job_vertex_records_out', 'records a vertex wrote to the network', (m) => m.recordsOut);
}
