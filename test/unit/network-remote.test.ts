// Remote channels over real gRPC on 127.0.0.1: two NetworkEnvironments, each with its own server.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { InputGateDescriptor, ResultPartitionDescriptor } from '../../common/deployment.js';
import { silentLogger } from '../../common/logging.js';
import { bindServer, shutdownServer } from '../../common/rpc.js';
import { dataExchangeClientConstructor } from '../../taskmanager/network/data-messages.js';
import { NetworkEnvironment } from '../../taskmanager/network/network-environment.js';
import type { RequestBackoff } from '../../taskmanager/network/remote-input-channel.js';
import type { BufferOrEvent, InputGate } from '../../taskmanager/network/types.js';
import { sleep } from '../helpers/eventually.js';
import { gateDescriptor, partitionDescriptor } from '../helpers/network-descriptors.js';

interface Node {
  id: string;
  env: NetworkEnvironment;
  server: grpc.Server;
  address: string;
}

let nodes: Node[] = [];

async function startNode(
  id: string,
  opts: {
    buffersPerChannel?: number;
    buffersPerRemoteChannel?: number;
    partitionRequestTimeoutMs?: number;
    requestBackoff?: RequestBackoff;
  } = {},
): Promise<Node> {
  const env = new NetworkEnvironment({
    taskManagerId: id,
    segmentSize: 32 * 1024,
    buffersPerChannel: opts.buffersPerChannel ?? 4,
    buffersPerRemoteChannel: opts.buffersPerRemoteChannel,
    logger: silentLogger(),
    partitionRequestTimeoutMs: opts.partitionRequestTimeoutMs,
    requestBackoff: opts.requestBackoff,
  });
  const server = new grpc.Server();
  env.addToServer(server);
  const port = await bindServer(server, '127.0.0.1', 0);
  const node = { id, env, server, address: `127.0.0.1:${port}` };
  nodes.push(node);
  return node;
}

afterEach(async () => {
  for (const n of nodes) {
    n.env.close();
    await shutdownServer(n.server, 200);
  }
  nodes = [];
});

function partitionDesc(id: string, consumers: number[]): ResultPartitionDescriptor {
  return partitionDescriptor(id, consumers);
}

function gateDesc(
  producer: Node,
  channels: { partitionId: string; subpartition: number; producerSubtask?: number }[],
): InputGateDescriptor {
  return gateDescriptor({ producerTaskManagerId: producer.id, producerDataAddress: producer.address }, channels);
}

function drain(gate: InputGate): BufferOrEvent[] {
  const out: BufferOrEvent[] = [];
  for (let x = gate.pollNext(); x !== undefined; x = gate.pollNext()) out.push(x);
  return out;
}

/** Polls like a task does until the gate is finished; returns items in order. */
async function consumeAll(gate: InputGate): Promise<BufferOrEvent[]> {
  const out: BufferOrEvent[] = [];
  while (!gate.isFinished()) {
    await gate.getAvailableFuture();
    out.push(...drain(gate));
  }
  return out;
}

function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('remote channels over gRPC', () => {
  it('transfers records, timestamps and events in order from several producers', async () => {
    const a = await startNode('tm-a');
    const b = await startNode('tm-b');
    const producers = [0, 1].map((s) =>
      a.env.createResultPartition(partitionDesc(`x${s}.e0`, [0]), { producerSubtask: s, bufferTimeoutMs: 5 }),
    );
    const gate = b.env.createInputGate(
      gateDesc(
        a,
        [0, 1].map((s) => ({ partitionId: `x${s}.e0`, subpartition: 0, producerSubtask: s })),
      ),
    );
    const N = 50_000;
    const sent = (async () => {
      for (let i = 0; i < N; i++) {
        for (const [s, p] of producers.entries()) {
          p.emit({ key: s, value: i }, i % 3 === 0 ? i : undefined);
          if (i === N / 2) p.broadcastEvent({ type: 'watermark', timestamp: i });
        }
        if (!producers.every((p) => p.isAvailable())) await Promise.all(producers.map((p) => p.getAvailableFuture()));
      }
      await Promise.all(producers.map((p) => p.finish()));
    })();
    const items = await consumeAll(gate);
    await sent;
    for (const s of [0, 1]) {
      const mine = items.filter((it) => it.channel === s);
      const values: number[] = [];
      let badKeys = 0;
      let badTimestamps = 0;
      let watermarkAt = -1;
      for (const it of mine) {
        if (it.kind === 'records') {
          it.values.forEach((v, j) => {
            const { key, value } = v as { key: number; value: number };
            if (key !== s) badKeys++;
            if (it.timestamps?.[j] !== (value % 3 === 0 ? value : undefined)) badTimestamps++;
            values.push(value);
          });
        } else if (it.event.type === 'watermark') watermarkAt = values.length;
      }
      expect([badKeys, badTimestamps]).toEqual([0, 0]);
      expect(values.length).toBe(N);
      expect(values.every((v, i) => v === i)).toBe(true);
      expect(watermarkAt).toBe(N / 2 + 1);
      expect(mine[mine.length - 1]).toEqual({ kind: 'event', channel: s, event: { type: 'endOfPartition' } });
    }
  });

  // A channel from another TaskManager grants buffers-per-remote-channel when set, else buffers-per-channel.
  it.each([{ buffersPerChannel: 3 }, { buffersPerChannel: 2, buffersPerRemoteChannel: 3 }])(
    'sends no more buffers than credit granted (%o), resumes as the consumer polls',
    async (credits) => {
      const a = await startNode('tm-a', credits);
      const b = await startNode('tm-b', credits);
      const rp = a.env.createResultPartition(partitionDesc('c.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
      const gate = b.env.createInputGate(gateDesc(a, [{ partitionId: 'c.e0', subpartition: 0 }]));
      for (let i = 0; i < 20; i++) rp.emit(i, undefined);
      await waitUntil(() => rp.queuedBuffers()[0] === 17);
      // Sending no more is a non-event: 50 ms is many round trips on localhost.
      await sleep(50);
      expect(rp.queuedBuffers()).toEqual([17]);
      expect(rp.isAvailable()).toBe(false);
      const available = rp.getAvailableFuture();
      const got: number[] = [];
      const first = drain(gate);
      expect(first.length).toBe(3);
      for (const it of first) if (it.kind === 'records') got.push(...(it.values as number[]));
      await waitUntil(() => rp.queuedBuffers()[0] === 14);
      const done = rp.finish();
      for (const it of await consumeAll(gate)) if (it.kind === 'records') got.push(...(it.values as number[]));
      await available;
      await done;
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    },
  );

  it('refuses a remote credit that is not a positive integer', () => {
    expect(
      () =>
        new NetworkEnvironment({
          taskManagerId: 'x',
          segmentSize: 1024,
          buffersPerChannel: 4,
          buffersPerRemoteChannel: 0,
          logger: silentLogger(),
        }),
    ).toThrow(/buffers per remote channel must be a positive integer, got 0/);
  });

  it('serves a subscription that arrives before the partition is registered', async () => {
    const a = await startNode('tm-a');
    const b = await startNode('tm-b');
    const gate = b.env.createInputGate(gateDesc(a, [{ partitionId: 'late.e0', subpartition: 0 }]));
    // Only the producer's partition manager can tell that the request arrived (and waits).
    const waiting = (a.env as unknown as { partitions: { waiting: Map<string, unknown> } }).partitions.waiting;
    await waitUntil(() => waiting.has('late.e0'));
    const rp = a.env.createResultPartition(partitionDesc('late.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    rp.emit('x', 7);
    await rp.finish();
    const items = await consumeAll(gate);
    expect(items).toEqual([
      { kind: 'records', channel: 0, values: ['x'], timestamps: [7], bytes: expect.any(Number) },
      { kind: 'event', channel: 0, event: { type: 'endOfPartition' } },
    ]);
  });

  it('fails the consumer when the partition is unknown after the wait', async () => {
    const a = await startNode('tm-a', { partitionRequestTimeoutMs: 100 });
    const b = await startNode('tm-b');
    const gate = b.env.createInputGate(gateDesc(a, [{ partitionId: 'ghost.e0', subpartition: 0, producerSubtask: 4 }]));
    await gate.getAvailableFuture();
    expect(() => gate.pollNext()).toThrow(
      new RegExp(`producer subtask 4 at ${a.address}.*not registered on TaskManager tm-a`),
    );
  });

  it('fails the consumer with the cause when the producer releases its partition', async () => {
    const a = await startNode('tm-a');
    const b = await startNode('tm-b');
    const rp = a.env.createResultPartition(partitionDesc('r.e0', [0, 1]), { producerSubtask: 1, bufferTimeoutMs: 0 });
    const gate = b.env.createInputGate(gateDesc(a, [{ partitionId: 'r.e0', subpartition: 1, producerSubtask: 1 }]));
    rp.emitRecord('before', undefined, 1);
    await gate.getAvailableFuture();
    expect(drain(gate)).toHaveLength(1);
    rp.release(new Error('producer task failed: boom'));
    await gate.getAvailableFuture();
    expect(() => gate.pollNext()).toThrow(
      new RegExp(`producer subtask 1 at ${a.address} .*subpartition 1.*failed: .*producer task failed: boom`),
    );
  });

  it('fails the consumer when the producer TaskManager goes away', async () => {
    const a = await startNode('tm-a');
    const b = await startNode('tm-b');
    const rp = a.env.createResultPartition(partitionDesc('gone.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const gate = b.env.createInputGate(gateDesc(a, [{ partitionId: 'gone.e0', subpartition: 0 }]));
    // Connected: a record made it through.
    rp.emit('before', undefined);
    await gate.getAvailableFuture();
    expect(drain(gate)).toHaveLength(1);
    a.server.forceShutdown();
    await gate.getAvailableFuture();
    expect(() => gate.pollNext()).toThrow(new RegExp(`producer subtask 0 at ${a.address}.*failed`));
  });

  it('fails once its repeated requests run out when nothing listens at the producer address', async () => {
    const b = await startNode('tm-b', { requestBackoff: { initialMs: 10, maxMs: 40 } });
    const ghost: Node = { id: 'tm-ghost', env: b.env, server: b.server, address: '127.0.0.1:1' };
    const gate = b.env.createInputGate(gateDesc(ghost, [{ partitionId: 'p.e0', subpartition: 0 }]));
    await gate.getAvailableFuture();
    expect(() => gate.pollNext()).toThrow(/producer subtask 0 at 127\.0\.0\.1:1 .*failed: connection failed/);
  });

  it('refuses a consumer speaking another protocol version', async () => {
    const a = await startNode('tm-a');
    a.env.createResultPartition(partitionDesc('v.e0', [0]), { producerSubtask: 0, bufferTimeoutMs: 0 });
    const Ctor = dataExchangeClientConstructor();
    const client = new Ctor(a.address, grpc.credentials.createInsecure());
    try {
      const call = (
        client as unknown as {
          Subscribe(): grpc.ClientDuplexStream<unknown, { kind: string; error?: { message: string } }>;
        }
      ).Subscribe();
      const reply = new Promise<{ kind: string; error?: { message: string } }>((resolve, reject) => {
        call.on('data', resolve);
        call.on('error', reject);
      });
      call.write({
        request: {
          partitionId: 'v.e0',
          subpartition: 0,
          initialCredit: 1,
          protocolVersion: 99,
          consumerTaskManagerId: 'old',
        },
      });
      const msg = await reply;
      expect(msg.kind).toBe('error');
      expect(msg.error?.message).toMatch(/protocol version 99 is not supported/);
    } finally {
      client.close();
    }
  });
});
