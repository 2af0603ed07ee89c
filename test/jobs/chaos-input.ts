// Input and output of the chaos job (test/jobs/chaos.ts), shared with its reference computation:
// deterministic orders and payments with bounded disorder, so the results depend on nothing but
// the input, whatever the failures and the interleaving.

export interface Order {
  id: number;
  key: number;
  amount: number;
  ts: number;
}

export interface Payment {
  id: number;
  key: number;
  ts: number;
}

export const KEYS = 40;
/** Largest disorder in the input; the watermark bound is above it, so nothing is ever late. */
export const DISORDER_MS = 150;
export const BOUND_MS = 400;
export const WINDOW_MS = 1000;
export const JOIN_LOWER = -200;
export const JOIN_UPPER = 200;

export function orderOf(i: number): Order {
  return { id: i, key: (i * 7919) % KEYS, amount: (i * 13) % 100, ts: i * 4 - ((i * 31) % DISORDER_MS) };
}

export function paymentOf(j: number): Payment {
  return { id: j, key: (j * 104729) % KEYS, ts: j * 8 - ((j * 17) % DISORDER_MS) };
}

export function windowStart(ts: number): number {
  return ts - (((ts % WINDOW_MS) + WINDOW_MS) % WINDOW_MS);
}

export const countLine = (key: number, window: number, count: number, amount: number) =>
  `count ${key} ${window} ${count} ${amount}`;
export const sumLine = (key: number, window: number, sum: number) => `sum ${key} ${window} ${sum}`;
export const joinLine = (order: number, payment: number) => `join ${order} ${payment}`;
