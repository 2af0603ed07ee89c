// Fencing of a JobManager that leads through etcd. Every effect outside the process (a call to a
// TaskManager, a write to checkpoint or high-availability storage, an alert) first asks, without
// awaiting anything, whether the lease is still held. A leader that wakes from a pause (SIGSTOP,
// a suspended VM, a long collection) past its lease then does nothing more, not even in the I/O
// callbacks that Node.js runs before the timer of its lease watchdog. Leadership belongs to the
// process (it exits once it has lost it), so the fence is one per process.
import type * as grpc from '@grpc/grpc-js';
import { unary } from '../../common/rpc.js';

/** An effect refused because this JobManager no longer leads. */
export class LeadershipLostError extends Error {
  override readonly name = 'LeadershipLostError';
}

/** Returns why this process may not act, or undefined while it may. */
export type LeadershipCheck = () => string | undefined;

let check: LeadershipCheck | undefined;

/** Makes every later effect ask `c` first; returns what removes it again. */
export function installLeadershipFence(c: LeadershipCheck): () => void {
  check = c;
  return () => {
    if (check === c) check = undefined;
  };
}

/** Throws LeadershipLostError when this JobManager may not perform `action`. */
export function assertLeadership(action: string): void {
  const reason = check?.();
  if (reason !== undefined)
    throw new LeadershipLostError(`${action} refused: this JobManager no longer leads (${reason})`);
}

/** Why this JobManager may not act, or undefined (always, without high availability through etcd). */
export function leadershipLostReason(): string | undefined {
  return check?.();
}

/** A call to a TaskManager; rejected with LeadershipLostError, unsent, when this JobManager may not act. */
export function fencedUnary<Req, Res>(client: grpc.Client, method: string, req: Req, timeoutMs: number): Promise<Res> {
  try {
    assertLeadership(`${method} to a TaskManager`);
  } catch (e) {
    return Promise.reject(e as Error);
  }
  return unary<Req, Res>(client, method, req, timeoutMs);
}
