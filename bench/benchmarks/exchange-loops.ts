// What the keyBy exchange costs per record, in one process with the engine's own classes, against
// the keyed count's hand-written loop (the whole work of a record) measured in the same run:
//   - producer side: a generated record through ResultPartition.emit (its key group and
//     subpartition, then the builder of the consumer on the same thread or the codec for the other);
//   - consumer side: decoding 32 KiB buffers of the same records;
//   - and the two builders the producer side fills, alone: the serializer (RecordSerializer.add
//     into 32 KiB buffers) and the same-thread builder (LocalBufferBuilder.add: these records go
//     as columns there too, other shapes as copies);
//   - the decoder and both builders again over [key, value] arrays (keyed-count-tuples' records).
// The ratios say how many hand-written records each side costs.
import type { Benchmark, BenchOptions, BenchmarkResult } from '../lib/benchmark.js';
import { DEFAULT_KEYS, eventAt, handWrittenLoop, tupleAt } from '../lib/keyed-records.js';
import { median, medianNote } from '../lib/stats.js';
import { decodeRecords, encodeRecords, RecordSerializer } from '../../common/serialization.js';
import { LocalBufferBuilder } from '../../taskmanager/network/record-batch.js';
import { ResultPartition } from '../../taskmanager/network/result-partition.js';

const RECORDS = 5_000_000;
const SEGMENT = 32 * 1024;
const PER_BUFFER = 3650; // about 32 KiB of these records

/** ns per record of emitting `records` records into a two-subpartition hash partition. */
function producerSide(records: number): number {
  const partition = new ResultPartition(
    {
      partitionId: 'bench',
      partitioner: 'hash',
      consumers: [0, 1],
      consumerMaxParallelism: 128,
      consumerParallelism: 2,
    } as ConstructorParameters<typeof ResultPartition>[0],
    {
      producerSubtask: 0,
      bufferTimeoutMs: 100,
      keySelector: (e) => (e as { key: number }).key,
      segmentSize: SEGMENT,
      maxQueuedBuffers: 4,
    },
  );
  const handedOver = [0, 0];
  // Subpartition 0 is consumed on this thread (columns or copies), 1 elsewhere (bytes); both take all.
  const local = () => handedOver[0]!++;
  partition.subscribe(0, { onBuffer: local, onRecordBatch: local, onEvent() {}, onError() {} }, 1e9);
  partition.subscribe(1, { onBuffer: () => handedOver[1]!++, onEvent() {}, onError() {} }, 1e9);
  const t0 = performance.now();
  for (let i = 0; i < records; i++) partition.emit(eventAt(i, DEFAULT_KEYS), undefined);
  const ns = ((performance.now() - t0) / records) * 1e6;
  partition.flushAll();
  if (handedOver.includes(0)) throw new Error('the partition did not hand buffers to both consumers');
  return ns;
}

type RecordAt = (i: number, keys: number) => unknown;

/** ns per record of one builder taking `records` generated records, finished at the segment size. */
function builderAlone(records: number, builder: RecordSerializer | LocalBufferBuilder, at: RecordAt): number {
  let finished = 0;
  const t0 = performance.now();
  for (let i = 0; i < records; i++) {
    builder.add(at(i, DEFAULT_KEYS), undefined);
    if (builder.size >= SEGMENT) finished += builder.finish() === null ? 0 : 1;
  }
  const ns = ((performance.now() - t0) / records) * 1e6;
  builder.dispose();
  if (finished === 0) throw new Error('the builder finished no buffer');
  return ns;
}

const serializeAlone = (at: RecordAt) => (records: number) =>
  builderAlone(records, new RecordSerializer(4096, SEGMENT), at);
const localAlone = (at: RecordAt) => (records: number) => builderAlone(records, new LocalBufferBuilder(SEGMENT), at);

/** ns per record of decoding buffers of the keyed count's records. */
const consumerSide = (at: RecordAt) => (records: number) => {
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < records; i += PER_BUFFER) {
    const batch = [];
    for (let j = i; j < Math.min(records, i + PER_BUFFER); j++) batch.push(at(j, DEFAULT_KEYS));
    buffers.push(encodeRecords(batch, null));
  }
  let decoded = 0;
  const t0 = performance.now();
  for (const b of buffers) decoded += decodeRecords(b).values.length;
  const ns = ((performance.now() - t0) / records) * 1e6;
  if (decoded !== records) throw new Error(`decoded ${decoded} records, expected ${records}`);
  return ns;
};

/** What each round measures beside the loop: figure name, short label, ns per record of `records`. */
const PARTS: { name: string; label: string; measure: (records: number) => number }[] = [
  {
    name: 'producer side (emit: key group, same-thread builder or serialize)',
    label: 'producer',
    measure: producerSide,
  },
  { name: 'consumer side (decode)', label: 'consumer', measure: consumerSide(eventAt) },
  { name: 'serializer alone (RecordSerializer.add)', label: 'serializer', measure: serializeAlone(eventAt) },
  { name: 'same-thread builder alone (LocalBufferBuilder.add)', label: 'local', measure: localAlone(eventAt) },
  { name: 'consumer side, [key, value] arrays (decode)', label: 'consumer-arrays', measure: consumerSide(tupleAt) },
  {
    name: 'serializer alone, [key, value] arrays (RecordSerializer.add)',
    label: 'serializer-arrays',
    measure: serializeAlone(tupleAt),
  },
  {
    name: 'same-thread builder alone, [key, value] arrays (LocalBufferBuilder.add)',
    label: 'local-arrays',
    measure: localAlone(tupleAt),
  },
];

export const exchangeLoops: Benchmark = {
  name: 'exchange-loops',
  description:
    "the keyBy exchange's per-record cost in one process (producer side: key group, subpartition, same-thread builder or serialize; consumer side: decode; the serializer and the same-thread builder alone) against the hand-written keyed-count loop",
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const records = Math.max(100_000, Math.round(RECORDS * options.scale));
    const loopNs = (n: number) => (handWrittenLoop(n, DEFAULT_KEYS) / n) * 1e6;
    // Warm-up of each, then rounds of all.
    loopNs(records / 5);
    for (const part of PARTS) part.measure(records / 5);
    const loop: number[] = [];
    const samples = PARTS.map(() => [] as number[]);
    for (let r = 0; r < Math.max(3, options.repetitions); r++) {
      loop.push(loopNs(records));
      PARTS.forEach((part, i) => samples[i]!.push(part.measure(records)));
      const parts = PARTS.map((part, i) => `${part.label} ${samples[i]!.at(-1)!.toFixed(1)} ns`).join(', ');
      options.log(`round ${r + 1}: loop ${loop.at(-1)!.toFixed(1)} ns, ${parts} per record`);
    }
    const ratio = (xs: number[]) => median(xs.map((x, i) => x / loop[i]!));
    const ns = (xs: number[]) => medianNote(xs.map((x) => Math.round(x * 10) / 10));
    return {
      benchmark: this.name,
      description: this.description,
      figures: [
        { name: 'hand-written keyed-count loop', value: median(loop), unit: 'ns/record', note: ns(loop) },
        ...PARTS.map((part, i) => ({
          name: part.name,
          value: median(samples[i]!),
          unit: 'ns/record',
          note: ns(samples[i]!),
        })),
        ...PARTS.map((part, i) => ({
          name: `${part.name.replace(/ \(.*\)$/, '')} / loop`,
          value: ratio(samples[i]!),
          unit: 'ratio',
          note: 'median over the rounds',
        })),
      ],
      details: { records, loop, ...Object.fromEntries(PARTS.map((part, i) => [part.label, samples[i]!])) },
    };
  },
};
