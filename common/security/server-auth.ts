// The server side of the internal secret: one gRPC server interceptor checks the proof in the
// metadata of every call, unary or streaming, before its handler starts, and answers
// UNAUTHENTICATED otherwise. Refusals are logged with the caller's address, once a minute per
// caller host and reason (a misconfigured TaskManager retries many times a second).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logging.js';
import { AUTH_HEADER, CallProofVerifier } from './call-proof.js';

export const REFUSAL_PREFIX = 'internal authentication refused: ';
const LOG_EVERY_MS = 60_000;

/** Rate-limited log of refused callers, by host (the port changes with every connection) and reason. */
export class RefusalLog {
  private readonly seen = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(private readonly log: Logger) {}

  note(peer: string, method: string, reason: string, now = Date.now()): void {
    const key = `${peer.replace(/:\d+$/, '')} ${reason}`;
    const entry = this.seen.get(key);
    if (entry && now - entry.loggedAt < LOG_EVERY_MS) {
      entry.suppressed++;
      return;
    }
    if (this.seen.size > 10_000) this.seen.clear(); // a scan from many addresses must not grow memory
    this.seen.set(key, { loggedAt: now, suppressed: 0 });
    this.log.warn(
      { peer, method, reason, refusedSinceLastLog: entry?.suppressed ?? 0 },
      `refused a gRPC call from ${peer}: ${reason}`,
    );
  }
}

export function internalAuthInterceptor(secret: string, log: Logger): grpc.ServerInterceptor {
  const verifier = new CallProofVerifier(secret);
  const refusals = new RefusalLog(log);
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const value = metadata.get(AUTH_HEADER)[0];
            const refusal = verifier.check(typeof value === 'string' ? value : undefined, method.path);
            if (!refusal) {
              pass(metadata);
              return;
            }
            refusals.note(call.getPeer(), method.path, refusal);
            call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: REFUSAL_PREFIX + refusal });
          },
        }),
    });
}
