// In-memory channels between tasks of one TaskManager: credits, ordering, end of partition,
// alignment blocking, backpressure, and failures.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InputGateDescriptor, ResultPartitionDescriptor } from '../../common/deployment.js';
import type { PartitionerKind } from '../../common/jobgraph.js';
import { assignToKeyGroup, operatorIndexForKeyGroup } from '../../common/keygroups.js';
import { silentLogger } from '../../common/logging.js';
import { decodeRecords } from '../../common/serialization.js';
import { NetworkEnvironment } from '../../taskmanager/network/network-environment.js';
import type { BufferOrEvent, InputGate } from '../../taskmanager/network/types.js';
import { sleep } from '../helpers/eventually.js';
import { gateDescriptor, partitionDescriptor } from '../helpers/network-descriptors.js';

const TM = 'tm-local';
let envs: NetworkEnvironment[] = [];

function env(
  opts: { buffersPerChannel?: number; segmentSize?: number; partitionRequestTimeoutMs?: number } = {},
): NetworkEnvironment {
  const e = new NetworkEnvironment({
    taskManagerId: TM,
    segmentSize: opts.segmentSize ?? 32 * 1024,
    buffersPerChannel: opts.buffersPerChannel ?? 4,
    logger: silentLogger(),
    partitionRequestTimeoutMs: opts.partitionRequestTimeoutMs,
  });
  envs.push(e);
  return e;
}

afterEach(() => {
  for (const e of envs) e.close();
  envs = [];
});

function partitionDesc(
  id: string,
  consumers: number[],
  partitioner: PartitionerKind = 'forward',
  consumerParallelism?: number,
): ResultPartitionDescriptor {
  return partitionDescriptor(id, consumers, partitioner, consumerParallelism);
}

function gateDesc(
  channels: { partitionId: string; subpartition: number; producerSubtask?: number }[],
): InputGateDescriptor {
  return gateDescriptor({ producerTaskManagerId: TM, producerDataAddress: 'local' }, channels);
}

const tick = () => new Promise((r) => setImmediate(r));

function drain(gate: InputGate): BufferOrEvent[] {
  const out: BufferOrEvent[] = [];
  for (let x = gate.pollNext(); x !== undefined; x = gate.pollNext()) out.push(x);
  return out;
}

/** Flattens polled items into records and event markers, in order. */
function flatten(items: BufferOrEvent[]): unknown[] {
  const out: unknown[] = [];
  for (const it of items) {
    if (it.kind === 'records') out.push(...it.values);
    else out.push(`<${it.event.type}>`);
  }
  return out;
}

async function isSettled(p: Promise<void>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  await tick();
  return settled;
}

describe('local channels', () => {
  it('delivers records and events in order and finishes on end of partition', async () => {
    const e = env();
    const rp = e.createResultPartition(partitionDesc('a.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 10_000 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'a.e0', subpartition: 0 }]));
    rp.emit(1, undefined);
    rp.emit(2, undefined);
    rp.broadcastEvent({ type: 'watermark', timestamp: 5 });
    rp.emit(3, undefined);
    const finished = rp.finish();
    await finished;
    await gate.getAvailableFuture();
    const items = drain(gate);
    expect(flatten(items)).toEqual([1, 2, '<watermark>', 3, '<endOfPartition>']);
    expect(gate.isFinished()).toBe(true);
    expect(items.every((i) => i.channel === 0)).toBe(true);
    expect(rp.metrics.numRecordsOut).toBe(3);
  });

  it('carries per-record timestamps, with undefined where a record has none', async () => {
    const e = env();
    const rp = e.createResultPartition(partitionDesc('ts.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 10_000 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'ts.e0', subpartition: 0 }]));
    rp.emit('a', undefined);
    rp.emit('b', 1000);
    rp.emit('c', undefined);
    rp.flushAll();
    rp.emit('d', undefined);
    rp.flushAll();
    const items = drain(gate);
    expect(items).toEqual([
      {
        kind: 'records',
        channel: 0,
        values: ['a', 'b', 'c'],
        timestamps: [undefined, 1000, undefined],
        bytes: expect.any(Number),
      },
      { kind: 'records', channel: 0, values: ['d'], timestamps: null, bytes: expect.any(Number) },
    ]);
  });

  it('keeps every record and timestamp of batches that outgrow, then undershoot, the size of the batch before', async () => {
    const e = env({ buffersPerChannel: 8 });
    const rp = e.createResultPartition(partitionDesc('grow.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 10_000 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'grow.e0', subpartition: 0 }]));
    // Batch sizes around the builder's first capacity (64); timestamps start late in the second.
    const sizes = [10, 300, 5, 300, 1];
    const expected: { values: unknown[]; timestamps: (number | undefined)[] | null }[] = [];
    let n = 0;
    for (const [b, size] of sizes.entries()) {
      const values: unknown[] = [];
      const timestamps: (number | undefined)[] = [];
      for (let i = 0; i < size; i++, n++) {
        const ts = b === 1 && i < 200 ? undefined : b === 3 && i % 3 === 0 ? undefined : b >= 1 ? n * 10 : undefined;
        rp.emit({ n }, ts);
        values.push({ n });
        timestamps.push(ts);
      }
      rp.flushAll();
      expected.push({ values, timestamps: timestamps.some((t) => t !== undefined) ? timestamps : null });
    }
    const got: { values: unknown[]; timestamps: (number | undefined)[] | null }[] = [];
    for (const it of drain(gate)) if (it.kind === 'records') got.push({ values: it.values, timestamps: it.timestamps });
    expect(got).toEqual(expected);
    got.forEach((g, b) => {
      expect(g.values.length).toBe(sizes[b]);
      if (g.timestamps !== null) expect(g.timestamps.length).toBe(g.values.length);
      // No holes: a consumer may iterate with `in` or forEach.
      expect(Object.keys(g.values).length).toBe(g.values.length);
    });
  });

  it('sends only against credit and returns one credit per polled buffer', async () => {
    const e = env({ buffersPerChannel: 2 });
    const rp = e.createResultPartition(partitionDesc('c.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'c.e0', subpartition: 0 }]));
    for (let i = 0; i < 10; i++) rp.emit(i, undefined); // bufferTimeout 0: one buffer per record
    expect(rp.metrics.numBuffersOut).toBe(10);
    expect(rp.queuedBuffers()).toEqual([8]); // two went out against the initial credit
    expect(rp.isAvailable()).toBe(false);
    const available = rp.getAvailableFuture();

    expect(flatten([gate.pollNext()!])).toEqual([0]);
    expect(rp.queuedBuffers()).toEqual([8]); // credit travels back after the polling turn
    await tick();
    expect(rp.queuedBuffers()).toEqual([7]);

    const got: unknown[] = [0];
    while (rp.queuedBuffers()[0] > 2) {
      expect(await isSettled(available)).toBe(false);
      got.push(...flatten(drain(gate)));
      await tick();
    }
    await available;
    expect(rp.isAvailable()).toBe(true);
    while (got.length < 10) {
      got.push(...flatten(drain(gate)));
      await tick();
    }
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rp.metrics.backPressuredTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('backpressure: a producer whose consumer does not poll turns unavailable and stays so', async () => {
    const e = env({ buffersPerChannel: 4, segmentSize: 1024 });
    const rp = e.createResultPartition(partitionDesc('bp.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: -1 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'bp.e0', subpartition: 0 }]));
    let emitted = 0;
    while (rp.isAvailable() && emitted < 1_000_000) rp.emit({ key: emitted % 10, value: emitted++ }, undefined);
    expect(rp.isAvailable()).toBe(false);
    // 4 buffers in the consumer, 5 queued: the producer stopped after a bounded amount of data
    // (these records go as columns, at least a byte per field in the 1 KiB buffers).
    expect(rp.queuedBuffers()).toEqual([5]);
    expect(emitted).toBeLessThan((9 * 1024) / 2);
    const available = rp.getAvailableFuture();
    const blockedSince = performance.now();
    // Staying unavailable is a non-event: with nothing polled nothing can free it, so a short window shows it.
    await sleep(30);
    expect(await isSettled(available)).toBe(false);
    const stillBlockedAt = performance.now();

    let received = 0;
    while (!(await isSettled(available))) received += countRecords(drain(gate));
    // The metric covers at least the time this test saw the producer blocked, however long that took.
    expect(rp.metrics.backPressuredTimeMs).toBeGreaterThanOrEqual(stillBlockedAt - blockedSince);
    rp.flushAll();
    const done = rp.finish();
    while (!gate.isFinished()) {
      received += countRecords(drain(gate));
      await tick();
    }
    await done;
    expect(received).toBe(emitted);
  });

  it('round-robins fairly over channels and skips blocked channels', async () => {
    const e = env({ buffersPerChannel: 8 });
    const p0 = e.createResultPartition(partitionDesc('x.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const p1 = e.createResultPartition(partitionDesc('y.e0', [0]), { producerSubtask: 1, bufferTimeoutMs: 0 });
    const gate = e.createInputGate(
      gateDesc([
        { partitionId: 'x.e0', subpartition: 0 },
        { partitionId: 'y.e0', subpartition: 0, producerSubtask: 1 },
      ]),
    );
    for (let i = 0; i < 4; i++) {
      p0.emit(`a${i}`, undefined);
      p1.emit(`b${i}`, undefined);
    }
    const first = [0, 1, 2, 3].map(() => gate.pollNext()!);
    expect(first.map((x) => x.channel)).toEqual([0, 1, 0, 1]);

    gate.blockChannel(0);
    expect(flatten(drain(gate))).toEqual(['b2', 'b3']);
    expect(gate.pollNext()).toBeUndefined();
    // Only the blocked channel has data: the gate must not claim availability.
    expect(await isSettled(gate.getAvailableFuture())).toBe(false);
    const waiting = gate.getAvailableFuture();
    gate.resumeChannel(0);
    expect(await isSettled(waiting)).toBe(true);
    expect(flatten(drain(gate))).toEqual(['a2', 'a3']);

    gate.blockChannel(1);
    const waiting2 = gate.getAvailableFuture();
    p1.emit('b4', undefined);
    expect(await isSettled(waiting2)).toBe(false);
    p0.emit('a4', undefined);
    expect(await isSettled(waiting2)).toBe(true);
    expect(flatten(drain(gate))).toEqual(['a4']);
    gate.resumeChannel(1);
    expect(flatten(drain(gate))).toEqual(['b4']);
  });

  it('is finished only when every channel delivered end of partition', async () => {
    const e = env();
    const p0 = e.createResultPartition(partitionDesc('f0.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 5 });
    const p1 = e.createResultPartition(partitionDesc('f1.e0', [0]), { producerSubtask: 1, bufferTimeoutMs: 5 });
    const gate = e.createInputGate(
      gateDesc([
        { partitionId: 'f0.e0', subpartition: 0 },
        { partitionId: 'f1.e0', subpartition: 0 },
      ]),
    );
    p0.emit('x', undefined);
    await p0.finish();
    expect(flatten(drain(gate))).toEqual(['x', '<endOfPartition>']);
    expect(gate.isFinished()).toBe(false);
    await p1.finish();
    const last = drain(gate);
    expect(last).toEqual([{ kind: 'event', channel: 1, event: { type: 'endOfPartition' } }]);
    expect(gate.isFinished()).toBe(true);
    expect(await isSettled(gate.getAvailableFuture())).toBe(true);
  });

  describe('on a fake clock', () => {
    // The buffer timeout is a setTimeout: faking it makes "not before, but at the timeout" exact.
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('flushes a partly filled buffer when the buffer timeout fires', async () => {
      const e = env();
      const rp = e.createResultPartition(partitionDesc('t.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 20 });
      const gate = e.createInputGate(gateDesc([{ partitionId: 't.e0', subpartition: 0 }]));
      rp.emit('late', undefined);
      await vi.advanceTimersByTimeAsync(19);
      expect(gate.pollNext()).toBeUndefined();
      expect(rp.metrics.numBuffersOut).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      await gate.getAvailableFuture();
      expect(flatten(drain(gate))).toEqual(['late']);
    });

    it('keeps filling a buffer whose timeout fired without credit, and sends it once credit returns', async () => {
      const e = env({ buffersPerChannel: 1 });
      const rp = e.createResultPartition(partitionDesc('d.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 10 });
      const gate = e.createInputGate(gateDesc([{ partitionId: 'd.e0', subpartition: 0 }]));
      rp.emit('a', undefined);
      await vi.advanceTimersByTimeAsync(10);
      await gate.getAvailableFuture();
      expect(rp.metrics.numBuffersOut).toBe(1); // the only credit is now used
      rp.emit('b', undefined);
      await vi.advanceTimersByTimeAsync(10); // the timeout fires: no credit, so no small buffer
      rp.emit('c', undefined);
      rp.emit('d', undefined);
      expect(rp.metrics.numBuffersOut).toBe(1);
      expect(flatten(drain(gate))).toEqual(['a']);
      await tick(); // the credit travels back; the waiting buffer leaves at once, whole
      expect(rp.metrics.numBuffersOut).toBe(2);
      await gate.getAvailableFuture();
      expect(flatten(drain(gate))).toEqual(['b', 'c', 'd']);
    });
  });

  it('sizes serialized buffers close to the segment size without serializing record by record', () => {
    const segmentSize = 8 * 1024;
    const e = env({ segmentSize, buffersPerChannel: 1000 });
    const rp = e.createResultPartition(partitionDesc('s.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: -1 });
    // A consumer on another thread or process: it takes bytes.
    const buffers: Uint8Array[] = [];
    rp.subscribe(0, { onBuffer: (b) => buffers.push(b), onEvent() {}, onError() {} }, 1000);
    for (let i = 0; i < 100_000; i++) rp.emit({ key: i % 1000, value: i }, undefined);
    rp.flushAll();
    const perBuffer = rp.metrics.numBytesOut / rp.metrics.numBuffersOut;
    expect(perBuffer).toBeGreaterThan(segmentSize * 0.7);
    expect(perBuffer).toBeLessThan(segmentSize * 1.3);
    expect(buffers.reduce((n, b) => n + b.length, 0)).toBe(rp.metrics.numBytesOut);
    expect(buffers.reduce((n, b) => n + decodeRecords(b).values.length, 0)).toBe(100_000);
  });

  it('hands a consumer on this thread batches of copies of about a buffer each', async () => {
    const segmentSize = 8 * 1024;
    const e = env({ segmentSize, buffersPerChannel: 1000 });
    const rp = e.createResultPartition(partitionDesc('s.e1', [0]), { producerSubtask: 0, bufferTimeoutMs: -1 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 's.e1', subpartition: 0 }]));
    const emitted: { key: number; value: number; tags: string[] }[] = [];
    for (let i = 0; i < 100_000; i++) {
      const record = { key: i % 1000, value: i, tags: ['t'] };
      rp.emit(record, i);
      emitted.push(record);
      // Changes after emit() must not reach the consumer, as they would not through bytes.
      record.value = -1;
      record.tags.push('changed');
    }
    expect(rp.metrics.numBytesOut).toBe(0);
    const done = rp.finish();
    const batches: number[] = [];
    const received: unknown[] = [];
    while (!gate.isFinished()) {
      for (const it of drain(gate)) {
        if (it.kind !== 'records') continue;
        expect(it.bytes).toBe(0);
        batches.push(it.values.length);
        it.values.forEach((v, j) => {
          received.push(v);
          expect(it.timestamps?.[j]).toBe(received.length - 1);
        });
      }
      await tick();
    }
    await done;
    expect(received).toStrictEqual(emitted.map((r, i) => ({ key: r.key, value: i, tags: ['t'] })));
    // The estimate of {key, value, tags} is within a few times its serialized size.
    const perBatch = batches.slice(0, -1);
    expect(Math.min(...perBatch)).toBeGreaterThan(segmentSize / 40);
    expect(Math.max(...perBatch)).toBeLessThan(segmentSize / 4);
  });

  /** Emits records 0-9, subscribes a consumer on this thread, emits 10-19; what the consumer got. */
  async function subscribedMidway(id: string, record: (i: number) => unknown) {
    const e = env();
    const rp = e.createResultPartition(partitionDesc(id, [0]), { producerSubtask: 0, bufferTimeoutMs: -1 });
    for (let i = 0; i < 10; i++) rp.emit(record(i), undefined);
    const gate = e.createInputGate(gateDesc([{ partitionId: id, subpartition: 0 }]));
    for (let i = 10; i < 20; i++) rp.emit(record(i), undefined);
    const done = rp.finish();
    const items: { bytes: number; values: unknown[] }[] = [];
    while (!gate.isFinished()) {
      for (const it of drain(gate)) if (it.kind === 'records') items.push({ bytes: it.bytes, values: it.values });
      await tick();
    }
    await done;
    expect(items.flatMap((it) => it.values)).toStrictEqual(Array.from({ length: 20 }, (_, i) => record(i)));
    return items;
  }

  it('sends what was serialized before a consumer on this thread subscribed first, as bytes, then copies', async () => {
    const items = await subscribedMidway('s.e2', (i) => ({ i, s: 'x' }));
    expect(items.map((it) => it.bytes > 0)).toStrictEqual([true, false]);
  });

  it('sends a consumer on this thread records of one flat shape of numbers as column buffers', async () => {
    const items = await subscribedMidway('s.e3', (i) => ({ i, half: i / 2 }));
    expect(items.map((it) => it.bytes > 0)).toStrictEqual([true, true]);
  });

  it('hash partitioning through emit() sends each key to its key-group owner', async () => {
    const e = env();
    const rp = e.createResultPartition(partitionDesc('h.e0', [0, 1, 2], 'hash'), {
      producerSubtask: 0,
      bufferTimeoutMs: -1,
      keySelector: (v) => (v as { key: number }).key,
    });
    const gates = [0, 1, 2].map((c) => e.createInputGate(gateDesc([{ partitionId: 'h.e0', subpartition: c }])));
    for (let i = 0; i < 3000; i++) rp.emit({ key: i, value: i }, undefined);
    const done = rp.finish();
    const seen = [0, 0, 0];
    while (gates.some((g) => !g.isFinished())) {
      gates.forEach((g, c) => {
        for (const it of drain(g)) {
          if (it.kind !== 'records') continue;
          for (const v of it.values as { key: number }[]) {
            expect(operatorIndexForKeyGroup(128, 3, assignToKeyGroup(v.key, 128))).toBe(c);
            seen[c]++;
          }
        }
      });
      await tick();
    }
    await done;
    expect(seen.reduce((a, b) => a + b)).toBe(3000);
    expect(seen.every((n) => n > 500)).toBe(true);
  });

  it('broadcast sends every record to every subpartition', async () => {
    const e = env();
    const rp = e.createResultPartition(partitionDesc('b.e0', [0, 1], 'broadcast'), {
      producerSubtask: 0,
      bufferTimeoutMs: -1,
    });
    const gates = [0, 1].map((c) => e.createInputGate(gateDesc([{ partitionId: 'b.e0', subpartition: c }])));
    rp.emit('r1', 1);
    rp.emit('r2', 2);
    await rp.finish();
    for (const g of gates) expect(flatten(drain(g))).toEqual(['r1', 'r2', '<endOfPartition>']);
  });

  it('waits for a partition registered after the consumer subscribed', async () => {
    const e = env();
    const gate = e.createInputGate(gateDesc([{ partitionId: 'late.e0', subpartition: 0 }]));
    await tick();
    expect(gate.pollNext()).toBeUndefined();
    const rp = e.createResultPartition(partitionDesc('late.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    rp.emit('hello', undefined);
    await rp.finish();
    expect(flatten(drain(gate))).toEqual(['hello', '<endOfPartition>']);
  });

  it('fails the consumer when the partition never appears', async () => {
    const e = env({ partitionRequestTimeoutMs: 50 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'ghost.e0', subpartition: 0, producerSubtask: 3 }]));
    await gate.getAvailableFuture();
    expect(() => gate.pollNext()).toThrow(
      /producer subtask 3 .*partition ghost\.e0 is not registered on TaskManager tm-local/,
    );
  });

  it('fails the consumer with a clear error when the partition is released', async () => {
    const e = env();
    const rp = e.createResultPartition(partitionDesc('r.e0', [0]), { producerSubtask: 2, bufferTimeoutMs: 0 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'r.e0', subpartition: 0, producerSubtask: 2 }]));
    rp.emit(1, undefined);
    expect(flatten(drain(gate))).toEqual([1]);
    const waiting = gate.getAvailableFuture();
    rp.release(new Error('task was canceled'));
    await waiting;
    expect(() => gate.pollNext()).toThrow(
      /input channel 0 from producer subtask 2 at local .*failed: task was canceled/,
    );
    // A consumer arriving after the release learns why at once.
    const late = e.createInputGate(gateDesc([{ partitionId: 'r.e0', subpartition: 0, producerSubtask: 2 }]));
    expect(() => late.pollNext()).toThrow(/partition r\.e0 was released: task was canceled/);
  });

  it('releasePartitionsOf releases every partition of an execution and no other', async () => {
    const e = env();
    const a = e.createResultPartition(partitionDesc('exec1.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const b = e.createResultPartition(partitionDesc('exec1.e1', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const c = e.createResultPartition(partitionDesc('exec10.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    e.releasePartitionsOf('exec1');
    expect([a.isReleased, b.isReleased, c.isReleased]).toEqual([true, true, false]);
    expect(e.numPartitions()).toBe(1);
  });

  it('does not fail a consumer that already received end of partition', async () => {
    const e = env();
    const rp = e.createResultPartition(partitionDesc('done.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const gate = e.createInputGate(gateDesc([{ partitionId: 'done.e0', subpartition: 0 }]));
    rp.emit(1, undefined);
    await rp.finish();
    e.releasePartitionsOf('done');
    expect(flatten(drain(gate))).toEqual([1, '<endOfPartition>']);
    expect(gate.isFinished()).toBe(true);
  });
});

function countRecords(items: BufferOrEvent[]): number {
  let n = 0;
  for (const it of items) if (it.kind === 'records') n += it.values.length;
  return n;
}
