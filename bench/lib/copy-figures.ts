// What a record of the keyBy exchange costs a consumer on the producer's own thread, measured in
// this process: copying it, and reading it afterwards. A slot thread's reduce gets copies (its own
// thread's half) and decoded records (the other thread's half) in turn; were their hidden classes
// different, every field read would go through a polymorphic cache. The ratio compares that
// reduce with the same reduce over the records the source made.
import { copyRecord } from '../../common/record-copy.js';
import { decodeRecords, encodeRecords } from '../../common/serialization.js';
import type { Figure } from './benchmark.js';
import { countReduce, eventAt, type CountEvent } from './keyed-records.js';

const BATCH = 4000;
const BATCHES = 50;
const ROUNDS = 20;

function reduceAll(batches: CountEvent[][]): number {
  const state = new Map<number, CountEvent>();
  let sum = 0;
  for (const batch of batches)
    for (const e of batch) {
      const current = state.get(e.key);
      const r = current === undefined ? e : countReduce(current, e);
      state.set(e.key, r);
      sum += r.count ?? 1;
    }
  return sum;
}

/** Best of `rounds` runs, in ns per record. */
function best(records: number, run: () => void, rounds = ROUNDS): number {
  let min = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    run();
    min = Math.min(min, performance.now() - t);
  }
  return (min * 1e6) / records;
}

export function copyFigures(keys: number): Figure[] {
  const originals: CountEvent[][] = [];
  for (let b = 0; b < BATCHES; b++)
    originals.push(Array.from({ length: BATCH }, (_, i) => eventAt(b * BATCH + i, keys)));
  const records = BATCH * BATCHES;
  let last: unknown;
  const copyNs = best(records, () => {
    for (const batch of originals) for (const e of batch) last = copyRecord(e);
  });
  if (last === undefined) throw new Error('nothing copied');
  // Batches in turn as a slot thread receives them: its own thread's copies, the other's decoded.
  // The reference copies by object spread, as the engine did before: another hidden class.
  const decodedOr = (b: number, copy: (e: CountEvent) => CountEvent): CountEvent[] =>
    b % 2 === 0 ? originals[b]!.map(copy) : (decodeRecords(encodeRecords(originals[b]!, null)).values as CountEvent[]);
  const mixed = originals.map((_, b) => decodedOr(b, (e) => copyRecord(e) as CountEvent));
  const spread = originals.map((_, b) => decodedOr(b, (e) => ({ ...e })));
  const expected = reduceAll(originals);
  if (reduceAll(mixed) !== expected || reduceAll(spread) !== expected)
    throw new Error('the copies and decoded records reduce to another count');
  // In turn within each round, so that both see the same optimized code and the same machine.
  let overMixed = Infinity;
  let overSpread = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    overMixed = Math.min(
      overMixed,
      best(records, () => reduceAll(mixed), 1),
    );
    overSpread = Math.min(
      overSpread,
      best(records, () => reduceAll(spread), 1),
    );
  }
  return [
    {
      name: 'same-thread copy of a record',
      value: copyNs,
      unit: 'ns/record',
      note: `best of ${ROUNDS}, in this process`,
    },
    {
      name: 'reduce over copies and decoded records, over spread copies and decoded',
      value: overMixed / overSpread,
      unit: 'ratio',
      note: `${formatNs(overMixed)} against ${formatNs(overSpread)} per record: copies in the decoded records' hidden class against object spread's`,
    },
  ];
}

function formatNs(ns: number): string {
  return `${ns.toFixed(1)} ns`;
}
