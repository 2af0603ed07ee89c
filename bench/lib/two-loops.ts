// Variant (a2) of the keyed count: the hand-written loop (a) on two threads at once, each over all
// the records, started together. This machine's two cores are virtual: at times two busy threads
// each run at the speed of one alone, at others at half of it. a2/a says which, in the same round
// as the Weir variants and with no engine involved: the ceiling those rounds had.
import { Worker } from 'node:worker_threads';

/** Both loops' records over the time the slower one took. */
export async function twoLoopsAtOnce(records: number, keys: number, warmupRecords: number): Promise<number> {
  const url = new URL('./loop-thread.js', import.meta.url);
  const workers = [0, 1].map(() => new Worker(url, { workerData: { records, keys, warmupRecords } }));
  try {
    // Each thread warms up, says so, and waits for the word to start, so both loops overlap.
    const done = workers.map(
      (w) =>
        new Promise<number>((resolve, reject) => {
          w.on('message', (m: { ms?: number }) => {
            if (m.ms !== undefined) resolve(m.ms);
          });
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`hand-written loop thread exited with code ${code}`)));
        }),
    );
    await Promise.all(
      workers.map(
        (w) => new Promise<void>((resolve) => w.once('message', (m: { ready?: boolean }) => m.ready && resolve())),
      ),
    );
    for (const w of workers) w.postMessage('start');
    const ms = await Promise.all(done);
    return (2 * records * 1000) / Math.max(...ms);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
