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

const PARENT_GONE = 'parent process gone';

/**
 * Calls close() and exits 0 on SIGTERM / SIGINT, or when the supervising parent's IPC channel
 * goes away (the parent died, even by SIGKILL). close() has `closeTimeoutMs`
 * (cluster.shutdown.timeout) to cancel the process's work; a process still stopping then exits 1,
 * as does one that gets a second SIGTERM / SIGINT while stopping.
 */
export function runUntilStopped(name: string, server: Closeable, closeTimeoutMs: number): void {
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) {
      // The parent going away while this process stops on its request changes nothing.
      if (reason === PARENT_GONE) return;
      process.stderr.write(`${name} stopping at once (${reason} while stopping)\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`${name} stopping (${reason})\n`);
    const force = setTimeout(() => {
      process.stderr.write(
        `${name} did not stop within ${closeTimeoutMs / 1000} s (cluster.shutdown.timeout), exiting with its remaining work abandoned\n`,
      );
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
  if (process.send) process.on('disconnect', () => stop(PARENT_GONE));
}

/** Startup before the server exists: a supervising parent that dies must not leave us behind. */
export function exitWithParent(): () => void {
  const onDisconnect = () => process.exit(1);
  if (process.send) process.once('disconnect', onDisconnect);
  return () => process.off('disconnect', onDisconnect);
}
