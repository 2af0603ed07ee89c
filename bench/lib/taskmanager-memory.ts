// Resident memory of each TaskManager while a benchmark runs, from the JobManager's view
// (GET /taskmanagers → memory, as the TaskManagers report it with their heartbeats).
import type { BenchCluster } from './cluster.js';

interface TaskManagerJson {
  id: string;
  memory?: { rss: number; heapUsed: number };
}

export interface TaskManagerMemory {
  id: string;
  /** Highest RSS reported while sampling, bytes. */
  peakRss: number;
  /** Highest JavaScript heap in use reported while sampling, bytes. */
  peakHeapUsed: number;
}

/**
 * Polls every `intervalMs` until stop() is called; stop() resolves with each TaskManager's peaks,
 * in the order the JobManager lists them. Heartbeats carry the figures, so a run shorter than
 * the heartbeat interval may show the memory from just before it.
 */
export function sampleTaskManagerMemory(
  cluster: BenchCluster,
  intervalMs = 250,
): { stop(): Promise<TaskManagerMemory[]> } {
  const peaks = new Map<string, TaskManagerMemory>();
  let stopped = false;
  const sample = async () => {
    const { taskmanagers } = await cluster.client.get<{ taskmanagers: TaskManagerJson[] }>('/taskmanagers');
    for (const tm of taskmanagers) {
      const p = peaks.get(tm.id) ?? { id: tm.id, peakRss: 0, peakHeapUsed: 0 };
      p.peakRss = Math.max(p.peakRss, tm.memory?.rss ?? 0);
      p.peakHeapUsed = Math.max(p.peakHeapUsed, tm.memory?.heapUsed ?? 0);
      peaks.set(tm.id, p);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await sample().catch(() => undefined);
      return [...peaks.values()];
    },
  };
}
