// Quick network-stack measurement: buffer serialization and a 2M-record transfer over a local
// channel and over gRPC on 127.0.0.1 (both ends in this process, so they share its CPU).
// Run: npm run build && node dist/bench/network.js [records] [buffers-per-channel]
import * as grpc from '@grpc/grpc-js';
import type { InputGateDescriptor, ResultPartitionDescriptor } from '../common/deployment.js';
import { silentLogger } from '../common/logging.js';
import { bindServer, shutdownServer } from '../common/rpc.js';
import { decodeRecords, encodeRecords } from '../common/serialization.js';
import { NetworkEnvironment } from '../taskmanager/network/network-environment.js';

const N = Number(process.argv[2] ?? 2_000_000);
const CREDITS = Number(process.argv[3] ?? 4);

function rate(records: number, ms: number): string {
  return `${(((records / ms) * 1000) / 1e6).toFixed(2)} M records/s`;
}

function benchSerialization(): void {
  const perBuffer = 2700; // about 32 KiB of {key, value}
  const batches: { key: number; value: number }[][] = [];
  for (let i = 0; i < N; i += perBuffer) {
    const b = [];
    for (let j = i; j < Math.min(N, i + perBuffer); j++) b.push({ key: j % 1000, value: j });
    batches.push(b);
  }
  for (let round = 0; round < 2; round++) {
    let t = performance.now();
    const enc = batches.map((b) => encodeRecords(b, null));
    const encMs = performance.now() - t;
    t = performance.now();
    let n = 0;
    for (const e of enc) n += decodeRecords(e).values.length;
    const decMs = performance.now() - t;
    t = performance.now();
    let m = 0;
    for (const s of batches.map((b) => JSON.stringify(b))) m += (JSON.parse(s) as unknown[]).length;
    const jsonMs = performance.now() - t;
    if (n !== N || m !== N) throw new Error('record count mismatch');
    if (round === 1) {
      const bytes = enc.reduce((a, e) => a + e.length, 0);
      console.log(
        `serialize:   ${rate(N, encMs)}  deserialize: ${rate(N, decMs)}  both: ${rate(N, encMs + decMs)}  (${(bytes / N).toFixed(1)} bytes/record; JSON both: ${rate(N, jsonMs)})`,
      );
    }
  }
}

async function transfer(
  label: string,
  producerEnv: NetworkEnvironment,
  consumerEnv: NetworkEnvironment,
  producerAddress: string,
  id: string,
): Promise<void> {
  const desc: ResultPartitionDescriptor = {
    edge: 0,
    partitionId: id,
    partitioner: 'forward',
    consumers: [0],
    consumerParallelism: 1,
    consumerMaxParallelism: 128,
  };
  const gateDesc: InputGateDescriptor = {
    edge: 0,
    targetInput: 0,
    partitioner: 'forward',
    channels: [
      {
        producerTaskManagerId: producerEnv.taskManagerId,
        producerDataAddress: producerAddress,
        partitionId: id,
        subpartition: 0,
        producerSubtask: 0,
      },
    ],
  };
  const start = performance.now();
  const rp = producerEnv.createResultPartition(desc, { producerSubtask: 0, bufferTimeoutMs: 100 });
  const gate = consumerEnv.createInputGate(gateDesc);
  const produce = (async () => {
    for (let i = 0; i < N; i++) {
      rp.emit({ key: i % 1000, value: i }, undefined);
      if (!rp.isAvailable()) await rp.getAvailableFuture();
    }
    await rp.finish();
  })();
  let received = 0;
  let sum = 0;
  while (!gate.isFinished()) {
    await gate.getAvailableFuture();
    for (let it = gate.pollNext(); it; it = gate.pollNext()) {
      if (it.kind !== 'records') continue;
      received += it.values.length;
      for (const v of it.values) sum += (v as { value: number }).value;
    }
  }
  await produce;
  const ms = performance.now() - start;
  if (received !== N || sum !== (N * (N - 1)) / 2) throw new Error(`${label}: received ${received} records`);
  console.log(
    `${label.padEnd(12)} ${rate(N, ms)}  (${N} records, ${rp.metrics.numBuffersOut} buffers, backpressured ${rp.metrics.backPressuredTimeMs.toFixed(0)} ms)`,
  );
  gate.close();
}

async function main(): Promise<void> {
  benchSerialization();
  const mk = (id: string) =>
    new NetworkEnvironment({
      taskManagerId: id,
      segmentSize: 32 * 1024,
      buffersPerChannel: CREDITS,
      logger: silentLogger(),
    });
  const a = mk('tm-a');
  const b = mk('tm-b');
  const sa = new grpc.Server();
  a.addToServer(sa);
  const port = await bindServer(sa, '127.0.0.1', 0);
  await transfer('local', a, a, 'local', 'warm.e0');
  await transfer('local', a, a, 'local', 'l.e0');
  await transfer('remote gRPC', a, b, `127.0.0.1:${port}`, 'warmr.e0');
  await transfer('remote gRPC', a, b, `127.0.0.1:${port}`, 'r.e0');
  a.close();
  b.close();
  await shutdownServer(sa, 500);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
