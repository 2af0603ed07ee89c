// Variant (a2) of the keyed count: the hand-written loop (a) on two threads at once, each over all
// the records, started together. This machine's two cores are virtual: at times two busy threads
// each run at the speed of one alone, at others at half of it. a2/a says which, in the same round
// as the Weir variants and with no engine involved.
import { Worker } from 'node:worker_threads';

interface LoopThread {
  ready: Promise<void>;
  done: Promise<number>;
  worker: Worker;
}

function startLoopThread(records: number, keys: number, warmupRecords: number): LoopThread {
  const worker = new Worker(new URL('./loop-thread.js', import.meta.url), {
    workerData: { records, keys, warmupRecords },
  });
  let onReady!: () => void;
  let onDone!: (ms: number) => void;
  let onFailure!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`hand-written loop thread exited with code ${code}`)));
  });
  const done = new Promise<number>((resolve, reject) => {
    onDone = resolve;
    onFailure = reject;
  });
  worker.on('message', (m: { ready?: boolean; ms?: number }) => (m.ms !== undefined ? onDone(m.ms) : onReady()));
  worker.once('error', (e) => onFailure(e));
  worker.once('exit', (code) => onFailure(new Error(`hand-written loop thread exited with code ${code}`)));
  // Awaited only after `ready`; a failure before then is reported there.
  done.catch(() => {});
  return { ready, done, worker };
}

/** Both loops' records over the time the slower one took, in records per second. */
export async function twoLoopsAtOnce(records: number, keys: number, warmupRecords: number): Promise<number> {
  const threads = [0, 1].map(() => startLoopThread(records, keys, warmupRecords));
  try {
    // Each thread warms up and waits for the word to start, so both loops overlap.
    await Promise.all(threads.map((t) => t.ready));
    for (const t of threads) t.worker.postMessage('start');
    const ms = await Promise.all(threads.map((t) => t.done));
    return (2 * records * 1000) / Math.max(...ms);
  } finally {
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}
