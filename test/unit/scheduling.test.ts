import { afterEach, describe, expect, it } from 'vitest';
import type { JobGraph } from '../../common/jobgraph.js';
import { silentLogger } from '../../common/logging.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import { buildDeployment } from '../../jobmanager/deployment-builder.js';
import { ExecutionGraph } from '../../jobmanager/execution-graph.js';
import { ResourceManager } from '../../jobmanager/resource-manager.js';

let rm: ResourceManager | undefined;
afterEach(() => rm?.stop());

function register(r: ResourceManager, id: string, slots: number) {
  const slotDataAddresses = Array.from({ length: slots }, (_, i) => `127.0.0.1:${20000 + 10 * slots + i}`);
  return r.register({
    taskManagerId: id,
    rpcAddress: `127.0.0.1:${10000 + slots}`,
    slots,
    slotDataAddresses,
    protocolVersion: PROTOCOL_VERSION,
    engineVersion: 'x',
    pid: 1,
    hostname: 'h',
    workingDir: '/tmp',
  });
}

describe('slot allocation', () => {
  it('spreads a job over all TaskManagers and frees its slots', () => {
    rm = new ResourceManager('jm', 1000, 5000, silentLogger());
    register(rm, 'a', 4);
    register(rm, 'b', 4);
    const slots = rm.allocateSlots('job1', 4, true)!;
    expect(slots.filter((s) => s.tm.id === 'a')).toHaveLength(2);
    expect(slots.filter((s) => s.tm.id === 'b')).toHaveLength(2);
    expect(rm.freeSlots()).toBe(4);
    expect(rm.allocateSlots('job2', 5, true)).toBeNull();
    expect(rm.freeSlots()).toBe(4);
    rm.releaseSlots('job1');
    expect(rm.freeSlots()).toBe(8);
  });

  it('packs when spreading is off, and refuses bad registrations', () => {
    rm = new ResourceManager('jm', 1000, 5000, silentLogger());
    register(rm, 'a', 3);
    register(rm, 'b', 3);
    const slots = rm.allocateSlots('job', 3, false)!;
    expect(new Set(slots.map((s) => s.tm.id)).size).toBe(1);
    expect(register(rm, 'c', 0).accepted).toBe(false);
    const old = rm.register({
      taskManagerId: 'd',
      rpcAddress: 'x:1',
      slots: 1,
      protocolVersion: PROTOCOL_VERSION + 1,
      engineVersion: '9',
      pid: 1,
      hostname: 'h',
      workingDir: '/',
    });
    expect(old.accepted).toBe(false);
    expect(old.reason).toContain('protocol version mismatch');
    const noData = rm.register({
      taskManagerId: 'e',
      rpcAddress: 'x:2',
      slots: 2,
      slotDataAddresses: ['x:3'],
      protocolVersion: PROTOCOL_VERSION,
      engineVersion: '9',
      pid: 1,
      hostname: 'h',
      workingDir: '/',
    });
    expect(noData.accepted).toBe(false);
    expect(noData.reason).toContain('data address for each of 2 slot(s)');
  });
});

describe('deployment descriptors', () => {
  const graph: JobGraph = {
    name: 'g',
    maxParallelism: 128,
    warnings: [],
    config: {},
    vertices: [
      {
        id: 'src',
        name: 'Source',
        parallelism: 2,
        maxParallelism: 128,
        numInputs: 0,
        operators: [
          {
            id: 'src',
            name: 'Source',
            kind: 'source',
            config: { sourceKind: 'sequence', bounded: true, from: 1, to: 10 },
            stateful: false,
            outputs: [{ type: 'network', edge: 0 }],
          },
        ],
      },
      {
        id: 'agg',
        name: 'Agg',
        parallelism: 3,
        maxParallelism: 128,
        numInputs: 1,
        operators: [
          {
            id: 'agg',
            name: 'Agg',
            kind: 'keyedReduce',
            config: { keyRef: 'k' },
            stateful: true,
            outputs: [{ type: 'network', edge: 1 }],
          },
        ],
      },
      {
        id: 'sink',
        name: 'Sink',
        parallelism: 3,
        maxParallelism: 128,
        numInputs: 1,
        operators: [
          {
            id: 'sink',
            name: 'Sink',
            kind: 'sink',
            config: { sinkKind: 'print', target: 'stdout' },
            stateful: false,
            outputs: [],
          },
        ],
      },
    ],
    edges: [
      { index: 0, source: 'src', target: 'agg', partitioner: 'hash', targetInput: 0, keyRef: 'k' },
      { index: 1, source: 'agg', target: 'sink', partitioner: 'forward', targetInput: 0 },
    ],
  };

  it('wires every consumer channel to the producer subpartition that targets it', () => {
    const eg = new ExecutionGraph('0'.repeat(32), graph, Date.now());
    eg.allExecutions().forEach((e) => {
      e.taskManagerId = `tm${e.subtaskIndex % 2}`;
      e.taskManagerAddress = `127.0.0.1:${9000 + (e.subtaskIndex % 2)}`;
      // Slot i of a TaskManager serves its partitions on its own thread's data server.
      e.slotIndex = e.subtaskIndex >> 1;
      e.dataAddress = `127.0.0.1:${9100 + 10 * (e.subtaskIndex % 2) + e.slotIndex}`;
    });
    const ctx = { jobName: 'g', bundleId: 'b'.repeat(64), programArgs: [], defaultParallelism: 1 };
    const tdds = eg.allExecutions().map((e) => buildDeployment(eg, e, ctx));
    const producers = tdds.filter((t) => t.vertexId === 'src');
    const consumers = tdds.filter((t) => t.vertexId === 'agg');
    for (const t of tdds) expect(t.slotIndex).toBe(t.subtaskIndex >> 1);
    for (const p of producers) {
      expect(p.partitions[0]!.consumers).toEqual([0, 1, 2]);
      expect(p.partitions[0]!.keyRef).toBe('k');
    }
    for (const c of consumers) {
      const chans = c.inputGates[0]!.channels;
      expect(chans).toHaveLength(2);
      for (const ch of chans) {
        const prod = producers.find((p) => p.partitions[0]!.partitionId === ch.partitionId)!;
        expect(prod.partitions[0]!.consumers[ch.subpartition]).toBe(c.subtaskIndex);
        expect(ch.producerDataAddress).toBe(
          `127.0.0.1:${9100 + 10 * (prod.subtaskIndex % 2) + (prod.subtaskIndex >> 1)}`,
        );
      }
    }
    // Forward: sink i reads only agg i.
    for (const s of tdds.filter((t) => t.vertexId === 'sink')) {
      expect(s.inputGates[0]!.channels).toHaveLength(1);
      expect(s.inputGates[0]!.channels[0]!.producerSubtask).toBe(s.subtaskIndex);
    }
  });
});
