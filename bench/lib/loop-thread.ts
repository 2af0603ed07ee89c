// One thread of variant (a2) (two-loops.ts): warms the hand-written loop up, reports ready, runs it
// when told, reports the milliseconds it took.
import { parentPort, workerData } from 'node:worker_threads';
import { handWrittenLoop } from './keyed-records.js';

const { records, keys, warmupRecords } = workerData as { records: number; keys: number; warmupRecords: number };
handWrittenLoop(warmupRecords, keys);
parentPort!.once('message', () => parentPort!.postMessage({ ms: handWrittenLoop(records, keys) }));
parentPort!.postMessage({ ready: true });
