// Prometheus metrics of the JobManager (prom-client), computed at scrape time from live state.
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Dispatcher } from './dispatcher.js';
import type { ResourceManager } from './resource-manager.js';

export class JobManagerMetrics {
  readonly registry = new Registry();

  constructor(rm: ResourceManager, dispatcher: () => Dispatcher) {
    collectDefaultMetrics({ register: this.registry, prefix: 'weir_jobmanager_process_' });
    const r = this.registry;
    new Gauge({ name: 'weir_jobmanager_taskmanagers', help: 'registered TaskManagers', registers: [r], collect() { this.set(rm.taskManagers.size); } });
    new Gauge({ name: 'weir_jobmanager_slots_total', help: 'slots offered by all TaskManagers', registers: [r], collect() { this.set(rm.totalSlots()); } });
    new Gauge({ name: 'weir_jobmanager_slots_available', help: 'free slots', registers: [r], collect() { this.set(rm.freeSlots()); } });
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
              this.set({ job_id: j.jobId, job_name: j.graph.jobGraph.name, vertex: v.name }, row.reduce((a, e) => a + pick(e.metrics), 0));
            });
          }
        },
      });
    perVertex('weir_job_vertex_records_in', 'records a vertex read from the network', (m) => m.recordsIn);
    perVertex('weir_job_vertex_records_out', 'records a vertex wrote to the network', (m) => m.recordsOut);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
