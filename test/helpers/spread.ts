// Cross-process tests must really cross processes: check where a job's subtasks ran.
import { expect } from 'vitest';

/** Every vertex ran on as many TaskManagers as it could (its parallelism, at most `taskManagers`), and some vertex on all of them. */
export function expectSpreadOverTaskManagers(
  job: { vertices: { name: string; parallelism: number; subtasks: { 'taskmanager-id': string | null }[] }[] },
  taskManagers: number,
): void {
  let widest = 0;
  for (const v of job.vertices) {
    const used = new Set(v.subtasks.map((s) => s['taskmanager-id'])).size;
    expect(used, `vertex ${v.name}`).toBe(Math.min(v.parallelism, taskManagers));
    widest = Math.max(widest, used);
  }
  expect(widest).toBe(taskManagers);
}
