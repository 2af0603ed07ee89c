// Buffer debloating: the debloater's sizes from measured throughput (a fake clock and gates), and
// the announced size reaching the producer over each kind of channel (same thread, another slot's
// thread through a MessagePort, another TaskManager over real gRPC), which then finishes buffers
// at that size.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { silentLogger } from '../../common/logging.js';
import { bindServer, shutdownServer } from '../../common/rpc.js';
import { NetworkEnvironment } from '../../taskmanager/network/network-environment.js';
import type { ResultPartition } from '../../taskmanager/network/result-partition.js';
import type { SingleInputGate } from '../../taskmanager/network/input-gate.js';
import type { BufferOrEvent, InputGate } from '../../taskmanager/network/types.js';
import {
  BufferDebloater,
  bufferDebloatConfigOf,
  type BufferDebloatConfig,
} from '../../taskmanager/runtime/buffer-debloater.js';
import { sleep, waitFor } from '../helpers/eventually.js';
import { freePort } from '../helpers/ports.js';
import { gateDescriptor, partitionDescriptor } from '../helpers/network-descriptors.js';

const CONFIG: BufferDebloatConfig = {
  targetMs: 1000,
  periodMs: 200,
  samples: 20,
  thresholdPercent: 25,
  minBufferSize: 256,
  maxBufferSize: 32 * 1024,
};

/** A gate the test feeds: bytes polled and credits, and what it was told. */
class FakeGate implements Pick<InputGate, 'numBytesPolled' | 'numCredits' | 'announceBufferSize'> {
  numBytesPolled = 0;
  announced: number[] = [];
  constructor(readonly numCredits: number) {}
  announceBufferSize(bytes: number): void {
    this.announced.push(bytes);
  }
}

/** A debloater on a fake clock; `period(bytes, idleMs)` runs one period in which the gate got `bytes`. */
function debloaterOver(gate: FakeGate, config = CONFIG) {
  let now = 0;
  let idle = 0;
  const d = new BufferDebloater([gate], { totals: () => ({ idleMs: idle }) }, config, () => now);
  // The test drives the periods; start() only takes the baseline here.
  d.start();
  d.stop();
  return {
    d,
    period(bytes: number, idleMs = 0): void {
      gate.numBytesPolled += bytes;
      idle += idleMs;
      now += config.periodMs;
      d.recalculate();
    },
  };
}

describe('the buffer debloater', () => {
  it("converges on the size at which every credit's buffer holds the target's share of a second", () => {
    const gate = new FakeGate(20);
    const { d, period } = debloaterOver(gate);
    // 100 KB/s: a second's worth over 20 credits is 5 KB a buffer.
    for (let i = 0; i < 100; i++) period(20_000);
    expect(d.bufferSize).toBeGreaterThan(5000 * 0.75);
    expect(d.bufferSize).toBeLessThan(5000 * 1.25);
    expect(d.estimatedTimeToConsumeBuffersMs).toBeGreaterThan(750);
    expect(d.estimatedTimeToConsumeBuffersMs).toBeLessThan(1250);
    // Announced only when it moved by the threshold: far fewer announcements than periods.
    expect(gate.announced.length).toBeGreaterThan(3);
    expect(gate.announced.length).toBeLessThan(15);
    for (let i = 1; i < gate.announced.length; i++)
      expect(Math.abs(1 - gate.announced[i - 1]! / gate.announced[i]!)).toBeGreaterThanOrEqual(0.25);
    expect(gate.announced.at(-1)).toBe(d.bufferSize);
  });

  it('keeps full segments for a consumer that takes far more than they hold, and the minimum for one that takes nothing', () => {
    const fast = new FakeGate(20);
    const a = debloaterOver(fast);
    for (let i = 0; i < 50; i++) a.period(10_000_000);
    expect(a.d.bufferSize).toBe(CONFIG.maxBufferSize);
    expect(fast.announced).toEqual([]);
    const stuck = new FakeGate(20);
    const b = debloaterOver(stuck);
    for (let i = 0; i < 200; i++) b.period(0);
    // The last step to the minimum was below the threshold: not announced.
    expect(b.d.bufferSize).toBeGreaterThanOrEqual(CONFIG.minBufferSize);
    expect(b.d.bufferSize).toBeLessThan(CONFIG.minBufferSize * 1.25);
  });

  it('learns nothing from periods spent waiting for input', () => {
    const gate = new FakeGate(4);
    const { d, period } = debloaterOver(gate);
    // A trickle that arrives while the task idles almost all the time: it consumes each buffer at once.
    for (let i = 0; i < 100; i++) period(100, CONFIG.periodMs);
    expect(d.bufferSize).toBe(CONFIG.maxBufferSize);
    // 1 ms of work per period for 100 bytes: 100 KB/s of capacity, 25 KB over 4 credits.
    for (let i = 0; i < 100; i++) period(100, CONFIG.periodMs - 1);
    expect(d.bufferSize).toBeGreaterThan(25_000 * 0.75);
  });

  it('is not dragged to the minimum by large buffers that each take several periods', () => {
    const gate = new FakeGate(20);
    const { d, period } = debloaterOver(gate);
    // 20 KB/s arriving as one 16 KB buffer every 4 periods (0.8 s): a second's worth over 20
    // credits is 1 KB. Measured per period the samples would be 80 KB/s then nothing, three times.
    for (let i = 0; i < 200; i++) period(i % 4 === 0 ? 16_000 : 0);
    expect(d.bufferSize).toBeGreaterThan(1000 * 0.7);
    expect(d.bufferSize).toBeLessThan(1000 * 1.5);
  });

  it('reads its configuration with Flink’s keys, and none when disabled', () => {
    expect(bufferDebloatConfigOf(new Configuration({}))).toEqual(CONFIG);
    expect(
      bufferDebloatConfigOf(new Configuration({ 'taskmanager.network.memory.buffer-debloat.enabled': 'false' })),
    ).toBeNull();
    expect(
      bufferDebloatConfigOf(
        new Configuration({
          'taskmanager.network.memory.buffer-debloat.target': '300 ms',
          'taskmanager.network.memory.buffer-debloat.samples': '5',
          'taskmanager.memory.segment-size': '4 kb',
          'taskmanager.memory.min-segment-size': '64 kb',
        }),
      ),
    ).toMatchObject({ targetMs: 300, samples: 5, maxBufferSize: 4096, minBufferSize: 4096 });
  });
});

// --- the announced size over real channels ---

let envs: NetworkEnvironment[] = [];
let servers: grpc.Server[] = [];

afterEach(async () => {
  for (const e of envs) e.close();
  for (const s of servers) await shutdownServer(s, 200);
  envs = [];
  servers = [];
});

const SEGMENT = 32 * 1024;

function environment(id: string, extra: Partial<ConstructorParameters<typeof NetworkEnvironment>[0]> = {}) {
  const env = new NetworkEnvironment({
    taskManagerId: id,
    segmentSize: SEGMENT,
    buffersPerChannel: 4,
    logger: silentLogger(),
    ...extra,
  });
  envs.push(env);
  return env;
}

const PARTITION = partitionDescriptor('p.e0');

function gateFor(producerTaskManagerId: string, producerDataAddress: string) {
  return gateDescriptor({ producerTaskManagerId, producerDataAddress }, [{ partitionId: 'p.e0', subpartition: 0 }]);
}

type Wiring = () => Promise<{ out: () => ResultPartition; gate: SingleInputGate }>;

const wirings: Record<string, Wiring> = {
  'a consumer on the same thread': async () => {
    const env = environment('tm');
    const gate = env.createInputGate(gateFor('tm', 'here'));
    return { out: () => env.createResultPartition(PARTITION, { producerSubtask: 0, bufferTimeoutMs: -1 }), gate };
  },
  "another slot's thread (a MessagePort)": async () => {
    const producer = environment('tm', { dataAddress: 'slot-0' });
    const consumer = environment('tm', {
      dataAddress: 'slot-1',
      connectThread: (_address, port) => producer.serveThread(port),
    });
    const gate = consumer.createInputGate(gateFor('tm', 'slot-0'));
    return {
      out: () => producer.createResultPartition(PARTITION, { producerSubtask: 0, bufferTimeoutMs: -1 }),
      gate,
    };
  },
  'another TaskManager (gRPC)': async () => {
    const producer = environment('tm-a');
    const server = new grpc.Server();
    servers.push(server);
    producer.addToServer(server);
    const address = `127.0.0.1:${await bindServer(server, '127.0.0.1', 0)}`;
    const consumer = environment('tm-b');
    const gate = consumer.createInputGate(gateFor('tm-a', address));
    return {
      out: () => producer.createResultPartition(PARTITION, { producerSubtask: 0, bufferTimeoutMs: -1 }),
      gate,
    };
  },
};

/** Polls buffers until `n` records arrived; returns each buffer's record count. */
async function recordsPerBuffer(gate: InputGate, n: number): Promise<number[]> {
  const counts: number[] = [];
  let total = 0;
  while (total < n) {
    await gate.getAvailableFuture();
    for (let x: BufferOrEvent | undefined = gate.pollNext(); x !== undefined; x = gate.pollNext()) {
      if (x.kind !== 'records') continue;
      counts.push(x.values.length);
      total += x.values.length;
    }
  }
  return counts;
}

/** Records of about 110 serialized bytes; strings, so a consumer on the same thread gets copies. */
const record = (i: number) => ({ i, text: `${i}`.padEnd(100, '.') });

/**
 * Waits until the gate's producer serves it (a first record arrives), then sends `n` records as a
 * task would (waiting for credit) while the gate is polled; returns each buffer's record count.
 */
async function sendAfterSubscribed(partition: ResultPartition, gate: InputGate, n: number): Promise<number[]> {
  partition.emit('first', undefined);
  partition.flushAll();
  await waitFor('the subscription', () => gate.pollNext(), { until: (x) => x !== undefined });
  const sent = (async () => {
    for (let i = 0; i < n; i++) {
      partition.emit(record(i), undefined);
      if (!partition.isAvailable()) await partition.getAvailableFuture();
    }
    partition.flushAll();
  })();
  const counts = await recordsPerBuffer(gate, n);
  await sent;
  return counts;
}

describe('an announced buffer size', () => {
  for (const [name, wire] of Object.entries(wirings)) {
    it(`makes the producer finish its buffers at that size, for ${name}`, async () => {
      const { out, gate } = await wire();
      // Announced before the producer's partition exists: a subscription that waits for it (the
      // same thread's) applies it once it is there, the others' request reaches it first.
      gate.announceBufferSize(1100);
      const partition = out();
      const counts = await sendAfterSubscribed(partition, gate, 2000);
      // About ten records a buffer, against about three hundred at the segment size.
      expect(counts.length).toBeGreaterThan(150);
      expect(Math.max(...counts.slice(0, -1))).toBeLessThanOrEqual(11);

      // Back to the segment size: buffers grow again.
      gate.announceBufferSize(SEGMENT);
      let largest = 0;
      await waitFor(
        'the size to reach the producer',
        () => {
          // The consumer polls between emits here: waiting for credit first would wait for itself.
          if (partition.isAvailable()) for (let i = 0; i < 100; i++) partition.emit(record(i), undefined);
          for (let x = gate.pollNext(); x !== undefined; x = gate.pollNext())
            if (x.kind === 'records') largest = Math.max(largest, x.values.length);
          return largest;
        },
        { until: (n) => n > 100 },
      );
    });
  }

  it('reaches a producer on another TaskManager that came up only after the announcement', async () => {
    const port = await freePort();
    const consumer = environment('tm-b', { requestBackoff: { initialMs: 20, maxMs: 2000 } });
    const gate = consumer.createInputGate(gateFor('tm-a', `127.0.0.1:${port}`));
    gate.announceBufferSize(1100);
    // The first partition requests find nothing listening and are repeated with backoff.
    await sleep(100);
    const producer = environment('tm-a');
    const server = new grpc.Server();
    servers.push(server);
    producer.addToServer(server);
    await bindServer(server, '127.0.0.1', port);
    const partition = producer.createResultPartition(PARTITION, { producerSubtask: 0, bufferTimeoutMs: -1 });
    // Records emitted before the consumer's next attempt reaches the producer fill whole segments.
    const counts = await sendAfterSubscribed(partition, gate, 1000);
    expect(Math.max(...counts)).toBeLessThanOrEqual(11);
  });

  it('finishes the buffer being filled at once when the new size is below what it holds', async () => {
    const { out, gate } = await wirings['a consumer on the same thread']!();
    const partition = out();
    for (let i = 0; i < 50; i++) partition.emit(record(i), undefined);
    expect(gate.pollNext()).toBeUndefined();
    gate.announceBufferSize(2000);
    const first = gate.pollNext();
    expect(first?.kind === 'records' && first.values.length).toBe(50);
  });
});
