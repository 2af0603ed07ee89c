// Variant (a2) of the keyed count: the hand-written loop (a) on two threads at once, each over all
// the records, started together. This machine's two cores are virtual: at times two busy threads
// each run at the speed of one alone, at others at half of it. a2/a says which, in the same round
// as the Weir variants and with no engine involved.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** Both loops' records over the time the slower one took, in records per second. */
export async function twoLoopsAtOnce(records: number, keys: number, warmupRecords: number): Promise<number> {
  const url = new URL('./loop-thread.js', import.meta.url);
  const workers = [0, 1].map(() => new Worker(url, { workerData: { records, keys, warmupRecords } }));
  try {
    // Each thread warms up, says it is ready and waits for the word, so both loops overlap. A thread
    // that throws emits 'error', which fails the wait.
    await Promise.all(workers.map((w) => once(w, 'message')));
    const done = workers.map((w) => once(w, 'message') as Promise<[{ ms: number }]>);
    for (const w of workers) w.postMessage('start');
    const ms = (await Promise.all(done)).map(([m]) => m.ms);
    return (2 * records * 1000) / Math.max(...ms);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
