// The Kafka connectors end to end, across real processes: kcat writes the input, a Weir job reads it
// through the KafkaSource and writes through an EXACTLY_ONCE KafkaSink while TaskManagers are
// SIGKILLed, and kcat reads the output with read_committed. Runs against the development broker,
// or against a real Kafka when KAFKA_BOOTSTRAP is set.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../reference/random.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { startCluster, type ProcessHandle, type TestCluster } from '../helpers/cluster.js';
import { sleep } from '../helpers/eventually.js';
import { createTopic, startKafka, uniqueTopic } from '../helpers/kafka.js';
import { hasKcat, kcatConsume, kcatProduce } from '../helpers/kcat.js';
import { stopWithSavepoint, submitFrom } from '../helpers/savepoints.js';

const required = !!process.env.WEIR_REQUIRE_SERVICES;
if (!hasKcat && required) throw new Error('kcat is missing but WEIR_REQUIRE_SERVICES is set');

/** `n` keyed input records, keys skewed and shuffled with a fixed seed; and the reference output. */
function orders(
  n: number,
  seed: number,
  keys = 37,
): { records: { key: string; value: string }[]; reference: string[] } {
  const random = mulberry32(seed);
  const perKey = new Map<string, number>();
  const records: { key: string; value: string }[] = [];
  for (let i = 0; i < n; i++) {
    const k = `k${Math.floor(random() ** 2 * keys)}`;
    records.push({ key: k, value: `${k},${i}` });
    perKey.set(k, (perKey.get(k) ?? 0) + 1);
  }
  const reference: string[] = [];
  for (const [k, c] of perKey) for (let i = 1; i <= c; i++) reference.push(`${k},${i}`);
  return { records, reference: reference.sort() };
}

describe.skipIf(!hasKcat)('Kafka source and sink', () => {
  let kafka: Awaited<ReturnType<typeof startKafka>>;

  beforeAll(async () => {
    kafka = await startKafka();
  }, 60_000);

  afterAll(async () => {
    await shared?.stop();
    await kafka?.stop();
  });

  // One small cluster for the cases that kill no TaskManager: each starts its own jobs on it.
  let shared: TestCluster | undefined;
  const oneTaskManager = async (): Promise<TestCluster> =>
    (shared ??= await startCluster({ taskManagers: 1, slots: 4 }));

  it('commits exactly the reference output through Kafka transactions while TaskManagers are SIGKILLed three times', async () => {
    const input = uniqueTopic('orders');
    const output = uniqueTopic('counts');
    await createTopic(kafka.bootstrap, input, 3);
    await createTopic(kafka.bootstrap, output, 2);
    const { records, reference } = orders(12_000, 7);
    const cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'heartbeat.timeout': '3 s' } });
    try {
      const jobId = await cluster.submit(
        'test/jobs/kafka-count.ts',
        [kafka.bootstrap, input, output, uniqueTopic('eo'), '1000'],
        2,
      );
      const live: ProcessHandle[] = [...cluster.taskManagers];
      const random = mulberry32(99);
      // The input arrives over time, in 24 chunks, while TaskManagers die.
      const chunks = 24;
      let kills = 0;
      for (let c = 0; c < chunks; c++) {
        await kcatProduce(
          kafka.bootstrap,
          input,
          records.slice((c * records.length) / chunks, ((c + 1) * records.length) / chunks),
        );
        await sleep(400);
        if (c % 7 === 3 && kills < 3) {
          // The previous kill's restart must have run the tasks again before there is a victim to
          // pick: a kill during that restart would fold into the same failover.
          const candidates = await cluster.waitFor(
            'a live TaskManager hosting tasks of the running job',
            async () => {
              const j = await cluster.job(jobId);
              const vertices = j.vertices as { status: string; subtasks: { 'taskmanager-id'?: string }[] }[];
              if (j.state !== 'RUNNING' || !vertices.every((v) => v.status === 'RUNNING')) return undefined;
              const hosting = new Set(vertices.flatMap((v) => v.subtasks.map((st) => st['taskmanager-id'])));
              const found = live.filter((p) => hosting.has(p.id));
              return found.length > 0 ? found : undefined;
            },
            60_000,
          );
          const victim = candidates[Math.floor(random() * candidates.length)]!;
          live.splice(live.indexOf(victim), 1);
          victim.proc.kill('SIGKILL');
          kills++;
          live.push(await cluster.addTaskManager(2));
        }
      }
      expect(kills).toBe(3);
      let committed: string[] = [];
      await cluster.waitFor(
        'the committed output to reach the reference size',
        async () => {
          committed = await kcatConsume(kafka.bootstrap, output, 'read_committed');
          return committed.length >= reference.length;
        },
        120_000,
      );
      // A little longer: nothing more may appear (a non-event: 2.5 s spans two 1 s checkpoints' commits).
      await sleep(2500);
      committed = (await kcatConsume(kafka.bootstrap, output, 'read_committed')).sort();
      expect(multisetDiff(committed, reference)).toEqual(NO_DIFF);
      expect(committed.length).toBe(reference.length);
      // read_uncommitted sees everything committed, plus whatever aborted attempts wrote (that those
      // stay invisible to read_committed is proven without chance by the savepoint test below).
      const uncommitted = await kcatConsume(kafka.bootstrap, output, 'read_uncommitted');
      expect(multisetDiff(uncommitted, committed).missingCount).toBe(0);
      const restarts = (await cluster.rest(`/jobs/${jobId}/exceptions`)).body.exceptionHistory.entries.length;
      expect(restarts).toBeGreaterThanOrEqual(3);
      await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await cluster.waitForJob(jobId, ['CANCELED'], 30_000);
    } finally {
      await cluster.stop();
    }
  }, 240_000);

  it('keeps a transaction invisible to read_committed until its checkpoint, and resumes a stopped job at parallelism 3 without loss or repeats', async () => {
    const input = uniqueTopic('orders');
    const output = uniqueTopic('counts');
    await createTopic(kafka.bootstrap, input, 3);
    await createTopic(kafka.bootstrap, output, 3);
    const { records, reference } = orders(3000, 13, 11);
    const cluster = await startCluster({ taskManagers: 2, slots: 2 });
    try {
      const prefix = uniqueTopic('sp');
      // Checkpoints far apart: the open transaction stays open until the savepoint.
      const args = [kafka.bootstrap, input, output, prefix, '3600000'];
      const first = await submitFrom(cluster, 'test/jobs/kafka-count.ts', args, { parallelism: 2 });
      await kcatProduce(kafka.bootstrap, input, records.slice(0, 1500));
      await cluster.waitFor(
        'the first half in the open transactions',
        async () => (await kcatConsume(kafka.bootstrap, output, 'read_uncommitted')).length >= 1500,
        60_000,
      );
      expect(await kcatConsume(kafka.bootstrap, output, 'read_committed')).toEqual([]);
      const sp = await stopWithSavepoint(cluster, first, { targetDirectory: `${cluster.dir}/savepoints` });
      expect(sp.failure).toBeUndefined();
      expect((await kcatConsume(kafka.bootstrap, output, 'read_committed')).length).toBe(1500);
      await kcatProduce(kafka.bootstrap, input, records.slice(1500));
      const second = await submitFrom(
        cluster,
        'test/jobs/kafka-count.ts',
        [kafka.bootstrap, input, output, prefix, '500'],
        { parallelism: 3, savepointPath: sp.location! },
      );
      let committed: string[] = [];
      await cluster.waitFor(
        'the whole output committed',
        async () => {
          committed = await kcatConsume(kafka.bootstrap, output, 'read_committed');
          return committed.length >= reference.length;
        },
        60_000,
      );
      // Nothing more may appear, a non-event: 1.5 s spans two commits at the 500 ms checkpoint interval.
      await sleep(1500);
      committed = (await kcatConsume(kafka.bootstrap, output, 'read_committed')).sort();
      expect(multisetDiff(committed, reference)).toEqual(NO_DIFF);
      const job = await cluster.job(second);
      expect(job.vertices[0].parallelism).toBe(3);
      await cluster.rest(`/jobs/${second}?mode=cancel`, { method: 'PATCH' });
      // Usually within a second; once under a loaded full run a task took the whole cancellation timeout (30 s).
      await cluster.waitForJob(second, ['CANCELED'], 60_000);
    } finally {
      await cluster.stop();
    }
  }, 180_000);

  it('holds event time at a lagging partition, and not at an idle one (a watermark per partition)', async () => {
    const cluster = await oneTaskManager();
    for (const idleness of [0, 800]) {
      const input = uniqueTopic('ts');
      const output = uniqueTopic('windows');
      await createTopic(kafka.bootstrap, input, 2);
      await createTopic(kafka.bootstrap, output, 1);
      const jobId = await cluster.submit(
        'test/jobs/kafka-watermarks.ts',
        [kafka.bootstrap, input, output, String(idleness)],
        1,
      );
      await cluster.waitFor('the job to run', async () =>
        (await cluster.job(jobId)).vertices.every((v: any) => v.status === 'RUNNING'),
      );
      // Partition 1 stops at 1 s; partition 0 keeps receiving records, up to 9 s, over about 3 s.
      await kcatProduce(kafka.bootstrap, input, [{ key: 'b', value: '1,1000' }], 1);
      for (let i = 0; i < 17; i++) {
        await kcatProduce(kafka.bootstrap, input, [{ key: 'a', value: `0,${1000 + i * 500}` }], 0);
        await sleep(150);
      }
      if (idleness === 0) {
        await cluster.waitFor(
          'the source to read all 18 records',
          async () => (await cluster.job(jobId)).vertices[0].metrics['source-records'] >= 18,
        );
        // The lagging partition holds the watermark at 999: no window may fire. A non-event; 1.5 s
        // spans several periodic watermarks after the last record was read.
        await sleep(1500);
        expect(await kcatConsume(kafka.bootstrap, output, 'read_uncommitted')).toEqual([]);
        await kcatProduce(kafka.bootstrap, input, [{ key: 'b', value: '1,9500' }], 1);
      }
      // Windows up to [8000, 9000) fire: the watermark is 8999 (partition 0 alone, or both once partition 1 caught up).
      let out: string[] = [];
      await cluster.waitFor(
        'the windows to fire',
        async () => {
          out = await kcatConsume(kafka.bootstrap, output, 'read_uncommitted');
          return out.some((l) => l.startsWith('8000,'));
        },
        20_000,
      );
      const counts = new Map(out.map((l) => l.split(',').map(Number) as [number, number]));
      expect(counts.get(1000)).toBe(3);
      for (let w = 2000; w <= 8000; w += 1000) expect(counts.get(w), `window ${w}`).toBe(2);
      expect(counts.has(9000)).toBe(false);
      await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await cluster.waitForJob(jobId, ['CANCELED'], 30_000);
    }
  }, 120_000);

  it('fails with the topic, partition and offset of a record the deserializer rejects, and names unknown topics and unreachable brokers', async () => {
    const cluster = await oneTaskManager();
    const input = uniqueTopic('bad');
    await createTopic(kafka.bootstrap, input, 1);
    await kcatProduce(kafka.bootstrap, input, [
      { key: 'a', value: '{"ok":1}' },
      { key: 'a', value: 'not json' },
    ]);
    const bad = await cluster.submit('test/jobs/kafka-json.ts', [kafka.bootstrap, input], 1);
    await cluster.waitForJob(bad, ['FAILED'], 60_000);
    const ex = (await cluster.rest(`/jobs/${bad}/exceptions`)).body['root-exception'] as string;
    expect(ex).toContain(`topic ${input} partition 0 offset 1`);
    const missing = uniqueTopic('missing');
    const unknown = await cluster.submit('test/jobs/kafka-json.ts', [kafka.bootstrap, missing, '2000'], 1);
    await cluster.waitForJob(unknown, ['FAILED'], 60_000);
    expect((await cluster.rest(`/jobs/${unknown}/exceptions`)).body['root-exception']).toContain(missing);
    const unreachable = await cluster.submit('test/jobs/kafka-json.ts', ['127.0.0.1:1', input, '2000'], 1);
    await cluster.waitForJob(unreachable, ['FAILED'], 60_000);
    expect((await cluster.rest(`/jobs/${unreachable}/exceptions`)).body['root-exception']).toMatch(/127\.0\.0\.1:1/);
  }, 120_000);

  it('discovers topics that appear while it runs, commits its offsets to the group, and reports its lag', async () => {
    const stem = uniqueTopic('disc');
    const output = uniqueTopic('copied');
    const group = `${stem}-group`;
    await createTopic(kafka.bootstrap, `${stem}-a`, 2);
    await createTopic(kafka.bootstrap, output, 1);
    await kcatProduce(
      kafka.bootstrap,
      `${stem}-a`,
      Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `a${i}` })),
    );
    const cluster = await oneTaskManager();
    const admin = new Kafka({ clientId: 'test-admin', brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
    try {
      const jobId = await cluster.submit(
        'test/jobs/kafka-pattern.ts',
        [kafka.bootstrap, `^${stem}-.*$`, output, group],
        1,
      );
      await cluster.waitFor(
        'the first topic copied',
        async () => (await kcatConsume(kafka.bootstrap, output, 'read_uncommitted')).length >= 50,
        30_000,
      );
      await createTopic(kafka.bootstrap, `${stem}-b`, 1);
      await kcatProduce(
        kafka.bootstrap,
        `${stem}-b`,
        Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `b${i}` })),
      );
      let out: string[] = [];
      await cluster.waitFor(
        'the discovered topic copied',
        async () => {
          out = await kcatConsume(kafka.bootstrap, output, 'read_uncommitted');
          return out.filter((v) => v.startsWith('B')).length >= 30;
        },
        30_000,
      );
      expect(new Set(out)).toEqual(
        new Set([...Array.from({ length: 50 }, (_, i) => `A${i}`), ...Array.from({ length: 30 }, (_, i) => `B${i}`)]),
      );
      // Offsets reach the group with the checkpoints (monitoring only; restores use the checkpoint).
      await admin.connect();
      await cluster.waitFor(
        'the group offsets at the end of both topics',
        async () => {
          const offsets = await admin.fetchOffsets({ groupId: group, topics: [`${stem}-a`, `${stem}-b`] });
          const sum = offsets.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
          return sum === 80;
        },
        20_000,
      );
      const tm = (await cluster.rest('/taskmanagers')).body.taskmanagers[0];
      const metrics = (await cluster.rest(`/taskmanagers/${tm.id}/metrics/prometheus`)).body as string;
      expect(metrics).toMatch(new RegExp(`^weir_task_source_records_lag_max\\{[^}]*job_id="${jobId}"[^}]*\\} 0$`, 'm'));
      expect(metrics).toMatch(new RegExp(`^weir_task_sink_records_send\\{[^}]*job_id="${jobId}"[^}]*\\} 80$`, 'm'));
      await cluster.rest(`/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
      await cluster.waitForJob(jobId, ['CANCELED'], 30_000);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }, 120_000);

  it('finishes a bounded job at parallelism 2 with every record committed once, checkpoints running while its subtasks end', async () => {
    const input = uniqueTopic('orders');
    const output = uniqueTopic('counts');
    await createTopic(kafka.bootstrap, input, 3);
    await createTopic(kafka.bootstrap, output, 2);
    const { records, reference } = orders(4000, 21);
    await kcatProduce(kafka.bootstrap, input, records);
    const cluster = await startCluster({ taskManagers: 2, slots: 2 });
    try {
      const jobId = await cluster.submit(
        'test/jobs/kafka-count.ts',
        [kafka.bootstrap, input, output, uniqueTopic('bd'), '100', '', 'bounded'],
        2,
      );
      const done = await cluster.waitForJob(jobId, ['FINISHED', 'FAILED'], 60_000);
      expect(done.state).toBe('FINISHED');
      const committed = (await kcatConsume(kafka.bootstrap, output, 'read_committed')).sort();
      expect(multisetDiff(committed, reference)).toEqual(NO_DIFF);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
