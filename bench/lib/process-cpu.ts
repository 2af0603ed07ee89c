// CPU time of processes on this machine (user + system, every thread), read from /proc: how many
// cores a run really used, which per-core throughput figures divide by.
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far, or 0 when it is gone or /proc is not there. */
function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the command name (which may hold spaces) start at state; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function totalCpuSeconds(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Runs `run` and returns its result with the CPU seconds the processes `pids` used meanwhile. */
export async function cpuDuring<T>(pids: number[], run: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = totalCpuSeconds(pids);
  const result = await run();
  return { result, cpuSeconds: totalCpuSeconds(pids) - before };
}
