// Whether a process id is live, for files a process leaves behind (locks, temporary directories).

/** True when `pid` runs (signal 0 reaches it, or it is another user's and may not be signaled). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
