// Finding a test's processes by a unique marker (its temporary directory) in their command lines,
// whoever their parent is now: orphans reparented to init count too, zombies do not (their
// command line is gone).
import { execFileSync } from 'node:child_process';

/** Pids of live processes whose command line mentions `needle` and runs the weir CLI. */
export function pidsWith(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(needle) && l.includes('weir'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((pid) => pid !== process.pid);
}

/** SIGKILL to every process `pidsWith(needle)` finds (cleanup whatever a test left). */
export function killAllWith(needle: string): void {
  for (const pid of pidsWith(needle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
