// Channels between slot threads read their MessagePorts synchronously when a side would otherwise
// wait: a consumer out of input takes the buffers already in its port, a producer out of credit the
// credit already in its port, without waiting for the thread's next event-loop turn (after a time
// slice of a busy task). Both ends live on this thread here; the ports behave as across threads.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logging.js';
import { NetworkEnvironment } from '../../taskmanager/network/network-environment.js';
import type { ResultPartition } from '../../taskmanager/network/result-partition.js';
import type { BufferOrEvent } from '../../taskmanager/network/types.js';
import { UnionInput } from '../../taskmanager/runtime/union-input.js';
import { waitFor } from '../helpers/eventually.js';
import { gateDescriptor, partitionDescriptor } from '../helpers/network-descriptors.js';

let envs: NetworkEnvironment[] = [];

afterEach(() => {
  for (const e of envs) e.close();
  envs = [];
});

/** A producer's slot and a consumer's slot, their channel a MessagePort pair. */
function slots(buffersPerChannel: number): { producer: NetworkEnvironment; consumer: NetworkEnvironment } {
  const common = { taskManagerId: 'tm', segmentSize: 1024, buffersPerChannel, logger: silentLogger() };
  const producer = new NetworkEnvironment({ ...common, dataAddress: 'slot-0' });
  const consumer = new NetworkEnvironment({
    ...common,
    dataAddress: 'slot-1',
    connectThread: (_address, port) => producer.serveThread(port),
  });
  envs.push(producer, consumer);
  return { producer, consumer };
}

const partition = partitionDescriptor('p.e0');

const gate = gateDescriptor({ producerTaskManagerId: 'tm', producerDataAddress: 'slot-0' }, [
  { partitionId: 'p.e0', subpartition: 0 },
]);

/** The producer's partition, and the consumer's input as its task reads it. */
function connect(buffersPerChannel: number): { out: ResultPartition; input: UnionInput } {
  const { producer, consumer } = slots(buffersPerChannel);
  const out = producer.createResultPartition(partition, { producerSubtask: 0, bufferTimeoutMs: -1 });
  const input = new UnionInput([consumer.createInputGate(gate)]);
  return { out, input };
}

function records(item: BufferOrEvent | undefined): unknown[] {
  if (item?.kind !== 'records') throw new Error(`expected records, got ${JSON.stringify(item)}`);
  return item.values;
}

/** Sends a first record and waits until it arrives: the channel is subscribed and has credit. */
async function subscribed(out: ResultPartition, input: UnionInput): Promise<void> {
  out.emit('first', undefined);
  out.flushAll();
  await waitFor('the first record', () => input.pollNext(), { until: (x) => x !== undefined });
  // The credit for it goes back through the event loop too.
  await waitFor('the credit back', () => out.queuedBuffers()[0] === 0 && new Promise((r) => setImmediate(r, true)));
}

describe('channels between slot threads', () => {
  it('a consumer out of input takes the buffers already in its port', async () => {
    const { out, input } = connect(4);
    await subscribed(out, input);
    out.emit({ n: 1 }, undefined);
    out.flushAll();
    // No turn of the event loop since the buffer was posted.
    expect(records(input.pollNext())).toEqual([{ n: 1 }]);
    expect(input.pollNext()).toBeUndefined();
  });

  it('a producer out of credit takes the credit already in its port', async () => {
    const { out, input } = connect(1);
    await subscribed(out, input);
    const big = 'x'.repeat(2048);
    // One credit: the first buffer goes, the second waits, the third backpressures.
    for (let i = 0; i < 3; i++) {
      out.emit({ i, big }, undefined);
      out.flushAll();
    }
    expect(out.isAvailable()).toBe(false);
    expect(out.queuedBuffers()).toEqual([2]);
    expect(records(input.pollNext())).toEqual([{ i: 0, big }]);
    // The consumer returns the credit for that buffer at the end of this microtask queue.
    await Promise.resolve();
    // Without a turn of the event loop the producer sees it, sends the next buffer and is available.
    void out.getAvailableFuture();
    expect(out.isAvailable()).toBe(true);
    expect(out.queuedBuffers()).toEqual([1]);
  });
});
