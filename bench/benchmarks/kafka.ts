// Kafka in and out, against kcat (librdkafka) on the same development broker in the same run:
//
// 1. Throughput. N small JSON records (1 M × scale) are produced into a 4-partition topic by
//    kcat -P (timed: kcat's produce rate) and read back by kcat -C -c N (timed: its consume rate).
//    Then bench/jobs/kafka-map.ts reads the topic with a KafkaSource from the earliest offsets, maps
//    each record (JSON parse, add a field, stringify) and writes it through a KafkaSink into another
//    4-partition topic, at parallelism 2 on two TaskManagers of one slot each, checkpoints every
//    second, once AT_LEAST_ONCE and once EXACTLY_ONCE. Weir's rate is N over the time from every
//    subtask RUNNING (the JobManager's timestamps) until a kcat consumer of the output, started
//    before the job, has read N records (read_committed for EXACTLY_ONCE: the time includes the
//    commit of the last transactions); the job is then canceled and its output checked. Ratios:
//    Weir / kcat consume and Weir / kcat produce (Weir does both, so neither ratio can reasonably
//    exceed 1). Each repetition uses fresh topics; the medians are reported, after one warm-up
//    round of N/10 records.
// 2. End-to-end latency. The same job, unbounded, EXACTLY_ONCE, checkpoints every second. This
//    process writes records into kcat -P at 20 000 records/s × scale for 12 s, each carrying its
//    creation time; two kcat -C consumers of the output topic, read_committed and
//    read_uncommitted, run at the same time, and this process takes now − creation time for each
//    output record as it reads kcat's line. Both timestamps come from this process's clock.
//    Records of the first 2 s are left out (connection set-up, JIT).
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { BenchKafka } from '../lib/kafka-broker.js';
import {
  kcatConsumeAll,
  kcatLiveConsumer,
  kcatPacedProducer,
  kcatProduceFile,
  requireKcat,
  stopAllKcat,
  type Isolation,
} from '../lib/kafka-kcat.js';
import type { JobDetails } from '../lib/rest-types.js';
import { formatCount, median, medianFigure, medianNote, perSecond } from '../lib/stats.js';

const JOB = 'bench/jobs/kafka-map.ts';
const RECORDS = 1_000_000;
const PARTITIONS = 4;
const PARALLELISM = 2;
const CHECKPOINT_MS = 1000;
const LATENCY_RATE = 20_000;
const LATENCY_SECONDS = 12;
const LATENCY_WARMUP_SECONDS = 2;
/** kcat -P's linger.ms in the latency part (librdkafka's default is 5 ms). */
const LATENCY_LINGER_MS = 1;
const GUARANTEES = ['AT_LEAST_ONCE', 'EXACTLY_ONCE'] as const;
type Guarantee = (typeof GUARANTEES)[number];

const now = () => performance.timeOrigin + performance.now();

/** One record value: about 50 bytes of JSON. */
function value(seq: number, created: number): string {
  return `{"seq":${seq},"t":${created.toFixed(3)},"p":"weir-bench-kafka"}\n`;
}

async function writeInput(file: string, records: number): Promise<void> {
  const out = createWriteStream(file);
  const CHUNK = 10_000;
  for (let i = 0; i < records; i += CHUNK) {
    let s = '';
    for (let j = i; j < Math.min(records, i + CHUNK); j++) s += value(j, 0);
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

interface Ctx {
  options: BenchOptions;
  broker: BenchKafka;
  cluster: BenchCluster;
  jarId: string;
  topics: number;
}

interface WeirKafkaRun {
  guarantee: Guarantee;
  jobId: string;
  durationMs: number;
  recordsPerSecond: number;
  checkpoints: number;
  /** Records in the output as a consumer sees them (read_committed for EXACTLY_ONCE). */
  outputRecords: number;
}

interface Round {
  records: number;
  inputPartitionRecords: number[];
  kcatProduce: { ms: number; recordsPerSecond: number };
  kcatConsume: { ms: number; recordsPerSecond: number };
  weir: Record<Guarantee, WeirKafkaRun>;
}

function taskManagersOf(job: JobDetails): number {
  return new Set(job.vertices.flatMap((v) => v.subtasks.map((s) => s['taskmanager-id']))).size;
}

/**
 * One Weir run over `inTopic` into a fresh topic. The source is unbounded and the job is canceled
 * once a consumer of the output (read_committed for EXACTLY_ONCE) has read all `records`; the rate
 * is `records` over the time from every subtask RUNNING (the JobManager's timestamps) to that
 * consumer's last record. A bounded source that FINISHES would be the simpler measure, but with
 * EXACTLY_ONCE, checkpoints and parallelism 2 the first sink subtask to finish fails the next
 * checkpoint (see the README), so both variants are measured this way.
 */
async function runWeir(
  ctx: Ctx,
  inTopic: string,
  records: number,
  guarantee: Guarantee,
  tag: string,
): Promise<WeirKafkaRun> {
  const { broker, cluster } = ctx;
  const outTopic = `out-${tag}-${guarantee.toLowerCase()}`;
  await broker.createTopic(outTopic, PARTITIONS);
  const prefix = `bench-${tag}-${guarantee.toLowerCase()}`;
  const isolation: Isolation = guarantee === 'EXACTLY_ONCE' ? 'read_committed' : 'read_uncommitted';
  const reader = kcatConsumeAll(broker.bootstrap, outTopic, isolation, records, 600_000, false).then((r) => ({
    ...r,
    endedAt: Date.now(),
  }));
  reader.catch(() => undefined);
  const jobId = await cluster.run(
    ctx.jarId,
    [broker.bootstrap, inTopic, outTopic, guarantee, String(CHECKPOINT_MS), '0', prefix],
    PARALLELISM,
  );
  let canceled = false;
  try {
    const running = await cluster.poll(
      `job ${jobId} to run`,
      async () => {
        const j = await cluster.job(jobId);
        if (['FAILED', 'CANCELED', 'FINISHED'].includes(j.state))
          throw new Error(`${guarantee} job ${jobId} ended ${j.state}`);
        return j.state === 'RUNNING' && j.vertices.every((v) => v.subtasks.every((s) => s.status === 'RUNNING'))
          ? j
          : undefined;
      },
      60_000,
      50,
    );
    if (taskManagersOf(running) !== 2)
      throw new Error(`${guarantee} job ${jobId} runs on ${taskManagersOf(running)} TaskManager(s), expected 2`);
    const allRunningAt = Math.max(...running.vertices.flatMap((v) => v.subtasks.map((s) => s.timestamps.RUNNING ?? 0)));
    // Wait for the consumer, failing early if the job fails.
    let done: Awaited<typeof reader> | undefined;
    void reader.then(
      (r) => (done = r),
      () => undefined,
    );
    await cluster.poll(
      `${isolation} consumer of ${outTopic} to read ${records} records`,
      async () => {
        if (done) return true;
        const j = await cluster.job(jobId);
        if (j.state !== 'RUNNING') {
          const ex = await cluster.client
            .get<{ 'root-exception'?: string }>(`/jobs/${jobId}/exceptions`)
            .catch(() => ({}) as { 'root-exception'?: string });
          throw new Error(
            `${guarantee} job ${jobId} is ${j.state}: ${ex['root-exception'] ?? 'no exception recorded'}`,
          );
        }
        broker.checkAlive();
        return false;
      },
      600_000,
      50,
    );
    const r = await reader;
    if (r.records !== records)
      throw new Error(`${guarantee} job ${jobId}: the consumer read ${r.records} records, expected ${records}`);
    const durationMs = r.endedAt - allRunningAt;
    const checkpoints = (await cluster.checkpoints(jobId)).counts.completed;
    await cluster.cancel(jobId);
    canceled = true;
    let outputRecords: number;
    if (guarantee === 'EXACTLY_ONCE') {
      // The whole output as a read_committed consumer sees it: every record once, nothing aborted.
      outputRecords = (await kcatConsumeAll(broker.bootstrap, outTopic, 'read_committed')).records;
      if (outputRecords !== records)
        throw new Error(
          `${guarantee} job ${jobId}: a read_committed consumer read ${outputRecords} records from ${outTopic}, expected ${records}`,
        );
    } else {
      outputRecords = (await broker.endOffsets(outTopic)).reduce((a, b) => a + b, 0);
      if (outputRecords < records)
        throw new Error(
          `${guarantee} job ${jobId}: ${outTopic} holds ${outputRecords} records, expected at least ${records}`,
        );
    }
    return {
      guarantee,
      jobId,
      durationMs,
      recordsPerSecond: perSecond(records, durationMs),
      checkpoints,
      outputRecords,
    };
  } finally {
    if (!canceled) await cluster.cancel(jobId).catch(() => undefined);
    await stopAllKcat();
    await broker.deleteTopics([outTopic]).catch(() => undefined);
  }
}

async function throughputRound(ctx: Ctx, label: string, file: string, records: number): Promise<Round> {
  const { broker, options } = ctx;
  const tag = `${label.replace(/[^a-z0-9]/gi, '')}-${ctx.topics++}`;
  const inTopic = `in-${tag}`;
  await broker.createTopic(inTopic, PARTITIONS);
  try {
    const produceMs = await kcatProduceFile(broker.bootstrap, inTopic, file);
    const inputPartitionRecords = await broker.endOffsets(inTopic);
    const produced = inputPartitionRecords.reduce((a, b) => a + b, 0);
    if (produced !== records) throw new Error(`kcat -P wrote ${produced} records into ${inTopic}, expected ${records}`);
    const consumed = await kcatConsumeAll(broker.bootstrap, inTopic, 'read_uncommitted', records);
    if (consumed.records !== records)
      throw new Error(`kcat -C read ${consumed.records} records from ${inTopic}, expected ${records}`);
    const round: Round = {
      records,
      inputPartitionRecords,
      kcatProduce: { ms: produceMs, recordsPerSecond: perSecond(records, produceMs) },
      kcatConsume: { ms: consumed.ms, recordsPerSecond: perSecond(records, consumed.ms) },
      weir: {} as Record<Guarantee, WeirKafkaRun>,
    };
    for (const g of GUARANTEES) round.weir[g] = await runWeir(ctx, inTopic, records, g, tag);
    broker.checkAlive();
    options.log(
      `kafka: ${label}: kcat produce ${formatCount(round.kcatProduce.recordsPerSecond)}/s, consume ${formatCount(round.kcatConsume.recordsPerSecond)}/s; ` +
        GUARANTEES.map(
          (g) =>
            `Weir ${g} ${formatCount(round.weir[g].recordsPerSecond)}/s (${(round.weir[g].durationMs / 1000).toFixed(2)} s, ${round.weir[g].checkpoints} checkpoints)`,
        ).join(', ') +
        `; input partitions ${inputPartitionRecords.join('/')}`,
    );
    return round;
  } finally {
    await broker.deleteTopics([inTopic]).catch(() => undefined);
  }
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface IsolationLatency {
  isolation: Isolation;
  received: number;
  duplicates: number;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

class LatencyCollector {
  private readonly seen: Uint8Array;
  private readonly latencies: number[] = [];
  received = 0;
  duplicates = 0;
  unparsable = 0;

  constructor(
    readonly isolation: Isolation,
    total: number,
    private readonly warmupRecords: number,
  ) {
    this.seen = new Uint8Array(total);
  }

  onValue = (v: string): void => {
    const arrived = now();
    const m = /^\{"seq":(\d+),"t":([\d.]+)/.exec(v);
    if (!m) {
      this.unparsable++;
      return;
    }
    const seq = Number(m[1]);
    if (seq >= this.seen.length) {
      this.unparsable++;
      return;
    }
    if (this.seen[seq]) {
      this.duplicates++;
      return;
    }
    this.seen[seq] = 1;
    this.received++;
    if (seq >= this.warmupRecords) this.latencies.push(arrived - Number(m[2]));
  };

  summary(): IsolationLatency {
    const s = Float64Array.from(this.latencies).sort();
    return {
      isolation: this.isolation,
      received: this.received,
      duplicates: this.duplicates,
      samples: s.length,
      p50: quantile(s, 0.5),
      p90: quantile(s, 0.9),
      p99: quantile(s, 0.99),
      p999: quantile(s, 0.999),
      max: s.length ? s[s.length - 1]! : NaN,
    };
  }
}

interface LatencyResult {
  rate: number;
  seconds: number;
  records: number;
  achievedRate: number;
  jobId: string;
  checkpoints: number;
  checkpointEndToEndMs: number | null;
  committed: IsolationLatency;
  uncommitted: IsolationLatency;
}

async function latencyRun(ctx: Ctx, rate: number, seconds: number): Promise<LatencyResult> {
  const { broker, cluster, options } = ctx;
  const tag = `latency-${ctx.topics++}`;
  const inTopic = `in-${tag}`;
  const outTopic = `out-${tag}`;
  await broker.createTopic(inTopic, PARTITIONS);
  await broker.createTopic(outTopic, PARTITIONS);
  const total = Math.round(rate * seconds);
  const jobId = await cluster.run(
    ctx.jarId,
    [broker.bootstrap, inTopic, outTopic, 'EXACTLY_ONCE', String(CHECKPOINT_MS), '0', `bench-${tag}`],
    PARALLELISM,
  );
  let canceled = false;
  try {
    await cluster.poll(
      `job ${jobId} to run`,
      async () => {
        const j = await cluster.job(jobId);
        if (['FAILED', 'CANCELED', 'FINISHED'].includes(j.state))
          throw new Error(`latency job ${jobId} ended ${j.state} before the run`);
        return j.state === 'RUNNING' && j.vertices.every((v) => v.subtasks.every((s) => s.status === 'RUNNING'));
      },
      60_000,
      100,
    );
    const committed = new LatencyCollector('read_committed', total, Math.round(rate * LATENCY_WARMUP_SECONDS));
    const uncommitted = new LatencyCollector('read_uncommitted', total, Math.round(rate * LATENCY_WARMUP_SECONDS));
    const consumers = [
      kcatLiveConsumer(broker.bootstrap, outTopic, 'read_committed', committed.onValue),
      kcatLiveConsumer(broker.bootstrap, outTopic, 'read_uncommitted', uncommitted.onValue),
    ];
    try {
      // Give the job's source and the consumers a moment to connect before the first record.
      await new Promise((r) => setTimeout(r, 1000));
      const producer = kcatPacedProducer(broker.bootstrap, inTopic, LATENCY_LINGER_MS);
      const t0 = now();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000));
        if (due > sent) {
          let s = '';
          const created = now();
          for (; sent < due; sent++) s += value(sent, created);
          producer.write(s);
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      const producedMs = now() - t0;
      await producer.end();
      const achievedRate = perSecond(total, producedMs);
      // read_committed sees the last records after the next checkpoint completes.
      const deadline = Date.now() + 30_000 + 5 * CHECKPOINT_MS;
      while ((committed.received < total || uncommitted.received < total) && Date.now() < deadline) {
        const j = await cluster.job(jobId);
        if (j.state !== 'RUNNING') {
          const ex = await cluster.client
            .get<{ 'root-exception'?: string }>(`/jobs/${jobId}/exceptions`)
            .catch(() => ({}) as { 'root-exception'?: string });
          throw new Error(`latency job ${jobId} is ${j.state}: ${ex['root-exception'] ?? 'no exception recorded'}`);
        }
        broker.checkAlive();
        await new Promise((r) => setTimeout(r, 200));
      }
      const cps = await cluster.checkpoints(jobId);
      const completed = cps.history.filter((c) => c.status === 'COMPLETED');
      const c = committed.summary();
      const u = uncommitted.summary();
      options.log(
        `kafka: latency at ${formatCount(rate)}/s (achieved ${formatCount(achievedRate)}/s): read_committed p50 ${c.p50.toFixed(1)} ms p99 ${c.p99.toFixed(1)} ms (${c.received}/${total} records), ` +
          `read_uncommitted p50 ${u.p50.toFixed(1)} ms p99 ${u.p99.toFixed(1)} ms (${u.received}/${total}); ${cps.counts.completed} checkpoints`,
      );
      if (c.received < total || u.received < total) {
        throw new Error(
          `latency job ${jobId}: of ${total} records produced, read_committed saw ${c.received} and read_uncommitted ${u.received} within 30 s`,
        );
      }
      if (c.duplicates > 0)
        throw new Error(`latency job ${jobId}: read_committed saw ${c.duplicates} duplicates (EXACTLY_ONCE)`);
      await cluster.cancel(jobId);
      canceled = true;
      return {
        rate,
        seconds,
        records: total,
        achievedRate,
        jobId,
        checkpoints: cps.counts.completed,
        checkpointEndToEndMs: completed.length ? median(completed.map((x) => x.end_to_end_duration)) : null,
        committed: c,
        uncommitted: u,
      };
    } finally {
      await Promise.all(consumers.map((x) => x.stop()));
    }
  } finally {
    if (!canceled) await cluster.cancel(jobId).catch(() => undefined);
    await broker.deleteTopics([inTopic, outTopic]).catch(() => undefined);
  }
}

export const kafka: Benchmark = {
  name: 'kafka',
  description: `Kafka → map → Kafka at parallelism 2 on 2 TaskManagers (${PARTITIONS}-partition topics, Weir's development broker) vs kcat producing and consuming through the same broker; end-to-end latency through Kafka with EXACTLY_ONCE`,
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    requireKcat();
    const records = Math.max(10_000, Math.round(RECORDS * options.scale));
    const warmupRecords = Math.max(10_000, Math.round(records / 10));
    const rate = Math.max(500, Math.round(LATENCY_RATE * options.scale));
    options.log('kafka: starting the development Kafka broker');
    const broker = await BenchKafka.start();
    let cluster: BenchCluster | undefined;
    try {
      options.log(`kafka: broker at ${broker.bootstrap}; starting 2 TaskManagers with 1 slot each`);
      cluster = await BenchCluster.start({ taskManagers: 2, slots: 1 });
      const ctx: Ctx = { options, broker, cluster, jarId: await cluster.upload(await cluster.bundle(JOB)), topics: 0 };
      const file = join(broker.dir, 'input.jsonl');
      const warmFile = join(broker.dir, 'warmup.jsonl');
      await writeInput(file, records);
      await writeInput(warmFile, warmupRecords);

      // 1. Throughput
      await throughputRound(ctx, 'warm-up', warmFile, warmupRecords);
      const rounds: Round[] = [];
      for (let r = 0; r < options.repetitions; r++)
        rounds.push(await throughputRound(ctx, `run ${r + 1}`, file, records));

      // 2. Latency
      const lat = await latencyRun(ctx, rate, LATENCY_SECONDS);

      const produce = rounds.map((r) => r.kcatProduce.recordsPerSecond);
      const consume = rounds.map((r) => r.kcatConsume.recordsPerSecond);
      const weir = Object.fromEntries(
        GUARANTEES.map((g) => [g, rounds.map((r) => r.weir[g].recordsPerSecond)]),
      ) as Record<Guarantee, number[]>;
      const p = median(produce);
      const c = median(consume);
      const alo = median(weir.AT_LEAST_ONCE);
      const eo = median(weir.EXACTLY_ONCE);
      const figures: Figure[] = [
        {
          name: 'kcat produce',
          value: p,
          unit: 'records/s',
          note: `${formatCount(records)} records, ${PARTITIONS} partitions; ${medianNote(produce)}`,
        },
        medianFigure('kcat consume', consume, 'records/s'),
        {
          name: 'Weir p2 AT_LEAST_ONCE',
          value: alo,
          unit: 'records/s',
          note: `Kafka → map → Kafka, checkpoint every ${CHECKPOINT_MS / 1000} s, RUNNING → last record read; ${medianNote(weir.AT_LEAST_ONCE)}`,
        },
        {
          name: 'Weir p2 EXACTLY_ONCE',
          value: eo,
          unit: 'records/s',
          note: `until a read_committed consumer read all (incl. the last commit); ${medianNote(weir.EXACTLY_ONCE)}`,
        },
        { name: 'AT_LEAST_ONCE / kcat consume', value: alo / c, unit: 'ratio' },
        { name: 'AT_LEAST_ONCE / kcat produce', value: alo / p, unit: 'ratio' },
        { name: 'EXACTLY_ONCE / kcat consume', value: eo / c, unit: 'ratio' },
        { name: 'EXACTLY_ONCE / kcat produce', value: eo / p, unit: 'ratio' },
        {
          name: 'latency p50, read_committed',
          value: lat.committed.p50,
          unit: 'ms',
          note: `EXACTLY_ONCE at ${formatCount(rate)} records/s: includes waiting for the checkpoint (every ${CHECKPOINT_MS} ms) whose completion commits the transaction`,
        },
        {
          name: 'latency p99, read_committed',
          value: lat.committed.p99,
          unit: 'ms',
          note: `up to one checkpoint interval + checkpoint duration above read_uncommitted; ${lat.committed.samples} records after the first ${LATENCY_WARMUP_SECONDS} s`,
        },
        {
          name: 'latency p50, read_uncommitted',
          value: lat.uncommitted.p50,
          unit: 'ms',
          note: 'the same run: records visible as soon as written, before their transaction commits',
        },
        {
          name: 'latency p99, read_uncommitted',
          value: lat.uncommitted.p99,
          unit: 'ms',
          note: `kcat -P (linger.ms=${LATENCY_LINGER_MS}) → Weir → kcat -C, both clocks this process's`,
        },
        {
          name: 'latency run rate achieved',
          value: lat.achievedRate,
          unit: 'records/s',
          note: `target ${formatCount(rate)} for ${LATENCY_SECONDS} s`,
        },
      ];
      return {
        benchmark: this.name,
        description: this.description,
        figures,
        details: {
          records,
          warmupRecords,
          partitions: PARTITIONS,
          parallelism: PARALLELISM,
          checkpointIntervalMs: CHECKPOINT_MS,
          recordsPerSecond: { kcatProduce: p, kcatConsume: c, atLeastOnce: alo, exactlyOnce: eo },
          ratios: {
            atLeastOnceOverConsume: alo / c,
            atLeastOnceOverProduce: alo / p,
            exactlyOnceOverConsume: eo / c,
            exactlyOnceOverProduce: eo / p,
            perRun: rounds.map((r) => ({
              atLeastOnceOverConsume: r.weir.AT_LEAST_ONCE.recordsPerSecond / r.kcatConsume.recordsPerSecond,
              exactlyOnceOverConsume: r.weir.EXACTLY_ONCE.recordsPerSecond / r.kcatConsume.recordsPerSecond,
            })),
          },
          runs: rounds,
          latency: lat,
        },
      };
    } finally {
      await stopAllKcat();
      await cluster?.stop();
      await broker.stop();
    }
  },
};
