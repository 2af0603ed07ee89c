// Lifecycle of the long-running server commands: report readiness to a supervising parent,
// stop cleanly on SIGTERM / SIGINT, and never outlive the parent that started them.

export interface Closeable {
  close(): Promise<void>;
}

/** Sent over the IPC channel to `weir cluster start` once the server is up. */
export type ReadyMessage =
  | { type: 'ready'; role: 'jobmanager'; restUrl: string; rpcAddress: string }
  | { type: 'ready'; role: 'taskmanager'; id: string }
  | { type: 'ready'; role: 'kafka-broker'; bootstrap: string };

export function notifyReady(msg: ReadyMessage): void {
  if (process.send && process.connected) process.send(msg);
}

/**
 * Calls close() and exits 0 on SIGTERM / SIGINT, or when the supervising parent's IPC channel
 * goes away (the parent died, even by SIGKILL). A second signal exits at once.
 */
export function runUntilStopped(name: string, server: Closeable, closeTimeoutMs = 15_000): void {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${name} stopping (${reason})\n`);
    const force = setTimeout(() => {
      process.stderr.write(`${name} did not stop within ${closeTimeoutMs / 1000} s, exiting\n`);
      process.exit(1);
    }, closeTimeoutMs);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (e: Error) => {
        process.stderr.write(`${name}: error while stopping: ${e.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (process.send) process.on('disconnect', () => stop('parent process gone'));
}

/** Startup before the server exists: a supervising parent that dies must not leave us behind. */
export function exitWithParent(): () => void {
  const onDisconnect = () => process.exit(1);
  if (process.send) process.once('disconnect', onDisconnect);
  return () => process.off('disconnect', onDisconnect);
}
