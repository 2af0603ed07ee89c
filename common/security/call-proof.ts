// Proof of the internal secret that every gRPC call carries in its `x-weir-auth` header:
// "v1.<unix ms>.<nonce>.<HMAC-SHA256(secret, v1|ms|nonce|method path)>". The secret itself never
// travels, so a listener on a cleartext network does not learn it; the timestamp bounds how long
// a proof is worth anything, and each server accepts a nonce once, so a captured header cannot be
// replayed (with another request body) against the same process. Mutual TLS is what protects
// the content of the calls; the secret proves membership of the cluster.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const AUTH_HEADER = 'x-weir-auth';
const VERSION = 'v1';

/** How far a caller's clock may be from ours; also how long a nonce is remembered. */
export const MAX_CLOCK_SKEW_MS = 120_000;

/** The one refusal that asking again (with a fresh proof) may cure. */
export const REPLAYED = 'replayed internal authentication header';

function mac(secret: string, timestamp: string, nonce: string, path: string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}|${timestamp}|${nonce}|${path}`).digest();
}

export function createCallProof(secret: string, path: string, now = Date.now()): string {
  const ts = String(now);
  const nonce = randomBytes(12).toString('base64url');
  return `${VERSION}.${ts}.${nonce}.${mac(secret, ts, nonce, path).toString('base64url')}`;
}

/** Nonces of accepted proofs until they would be too old anyway. */
class NonceCache {
  private readonly seen = new Map<string, number>();

  /** False when the nonce was already used. */
  add(nonce: string, expiresAt: number, now: number): boolean {
    // Insertion order is nearly expiry order: drop from the front while expired.
    for (const [n, exp] of this.seen) {
      if (exp > now) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, expiresAt);
    return true;
  }
}

export class CallProofVerifier {
  private readonly nonces = new NonceCache();

  constructor(private readonly secret: string) {}

  /** undefined when the proof is good (and its nonce is now spent), else why not. */
  check(header: string | undefined, path: string, now = Date.now()): string | undefined {
    if (header === undefined)
      return 'the call carries no proof of security.internal.secret (the caller has none configured)';
    const parts = header.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return 'malformed internal authentication header';
    const [, ts, nonce, given] = parts as [string, string, string, string];
    const sentAt = Number(ts);
    if (!/^\d{1,15}$/.test(ts) || Math.abs(now - sentAt) > MAX_CLOCK_SKEW_MS) {
      return `the call's timestamp is more than ${MAX_CLOCK_SKEW_MS / 1000} s from this process's clock (synchronize the clocks)`;
    }
    const expected = mac(this.secret, ts, nonce, path);
    const actual = Buffer.from(given, 'base64url');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
      return 'the proof does not match security.internal.secret (wrong secret)';
    if (!this.nonces.add(nonce, sentAt + MAX_CLOCK_SKEW_MS, now)) return REPLAYED;
    return undefined;
  }
}
