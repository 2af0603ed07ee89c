// Notices that the process which started this one went away, so that a foreground launcher
// (`weir cluster start`) stops its cluster instead of running on as an orphan. Supervisors often
// signal only their direct child: npm passes SIGTERM to the `sh -c` running the script, and the
// shell dies without passing it on; a supervisor killed with SIGKILL signals nobody at all.
//
// POSIX has no portable "parent died" notice (Linux's PR_SET_PDEATHSIG needs native code and
// covers the direct parent only), and npm gives its script no pipe whose end would tell. So this
// polls. On Linux it watches the chain of ancestors through /proc: the direct parent, and above it
// every process of the same session (the shell, npm and whatever else a terminal or supervisor
// started on the way down, but not the terminal, sshd or init beyond it). An ancestor is gone when
// its /proc entry is missing or a zombie, started at another time (its pid was reused), or has
// another parent than before (its own parent died). Elsewhere it watches process.ppid, which
// changes when the parent dies.
import { readFileSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  session: number;
  /** Start time in clock ticks since boot: a reused pid has another one. */
  startTime: string;
  gone: boolean;
}

interface Ancestor {
  pid: number;
  ppid: number;
  startTime: string;
}

function procStat(pid: number): ProcStat | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return { gone: f[0] === 'Z' || f[0] === 'X', ppid: Number(f[1]), session: Number(f[3]), startTime: f[19] ?? '' };
}

/** The ancestors to watch, nearest first; undefined without /proc. */
function ancestors(): Ancestor[] | undefined {
  const self = procStat(process.pid);
  if (!self) return undefined;
  const chain: Ancestor[] = [];
  for (let pid = self.ppid; pid > 1;) {
    const st = procStat(pid);
    if (!st || st.gone) break;
    if (chain.length > 0 && st.session !== self.session) break;
    chain.push({ pid, ppid: st.ppid, startTime: st.startTime });
    pid = st.ppid;
  }
  return chain;
}

function whyGone(chain: Ancestor[] | undefined, parent: number): string | undefined {
  if (process.ppid !== parent) return `its parent process ${parent} exited`;
  for (const a of chain ?? []) {
    const st = procStat(a.pid);
    if (!st || st.gone || st.startTime !== a.startTime) return `process ${a.pid} above it exited`;
    if (st.ppid !== a.ppid) return `the parent ${a.ppid} of process ${a.pid} above it exited`;
  }
  return undefined;
}

/**
 * Calls `onGone` once, within about `intervalMs`, when the parent or another watched ancestor is
 * gone. Nothing is watched when the parent is init already (started detached on purpose). Returns
 * a function that stops watching.
 */
export function watchParent(onGone: (why: string) => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => undefined;
  const chain = ancestors();
  const timer = setInterval(() => {
    const why = whyGone(chain, parent);
    if (!why) return;
    clearInterval(timer);
    onGone(why);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
