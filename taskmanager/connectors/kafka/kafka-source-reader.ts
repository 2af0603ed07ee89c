// The KafkaSource's reader: this subtask's topic partitions (Flink's assignment formula), fetched in
// the background into a bounded queue, emitted and deserialized on the task thread with a
// watermark per partition. Offsets are union operator state, so a restored or rescaled job gives
// every partition to its new owner at the position of the checkpoint.
import type { KafkaConsumerRecord, KafkaSource, OffsetSpec } from '../../../api/kafka-source.js';
import { KAFKA_SOURCE_DEFAULTS } from '../../../api/kafka-source.js';
import type { Collector } from '../../../api/functions.js';
import { UserCodeError, type Output, type TaskServices } from '../../operators/operator.js';
import type { SplitOutput } from '../../runtime/split-watermarks.js';
import type { SourceReader } from '../source-readers.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, errorName, isRetriable, KafkaProtocolError } from '../../../common/kafka/protocol/index.js';
import { KafkaClient, type ClusterMetadata } from './kafka-client.js';
import { fetchPartitions, type FetchedRecord } from './kafka-fetcher.js';
import { commitOffsets, groupByLeader, resolveOffsets, tpKey, type TopicPartition } from './kafka-offsets.js';
import { kafkaSplitOwner } from './kafka-partitioning.js';
import { kafkaSecurity } from './kafka-security.js';

/** A partition's state in checkpoints: the next offset to emit, and where a bounded read stops. */
export interface KafkaPartitionSplit {
  topic: string;
  partition: number;
  offset: number;
  stoppingOffset: number | null;
  finished?: boolean;
}

function isSplit(v: unknown): v is KafkaPartitionSplit {
  const s = v as KafkaPartitionSplit;
  return (
    !!s &&
    typeof s.topic === 'string' &&
    Number.isInteger(s.partition) &&
    typeof s.offset === 'number' &&
    (s.stoppingOffset === null || typeof s.stoppingOffset === 'number')
  );
}

class Split {
  readonly key: string;
  /** Next offset to fetch. */
  fetchOffset: number;
  /** Next offset to emit (records before it went downstream). */
  emitOffset: number;
  queued = 0;
  highWatermark = -1;
  finished = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    offset: number,
    readonly stoppingOffset: number | null,
  ) {
    this.key = tpKey(topic, partition);
    this.fetchOffset = offset;
    this.emitOffset = offset;
  }

  /** The offset a checkpoint records: past what was emitted, and past skipped batches once nothing is queued. */
  get position(): number {
    return this.queued > 0 ? this.emitOffset : Math.max(this.emitOffset, this.fetchOffset);
  }

  get fetchable(): boolean {
    return !this.finished && (this.stoppingOffset === null || this.fetchOffset < this.stoppingOffset);
  }

  get done(): boolean {
    return this.stoppingOffset !== null && this.queued === 0 && this.position >= this.stoppingOffset;
  }
}

interface Chunk {
  split: Split;
  records: FetchedRecord[];
  next: number;
}

const MAX_QUEUED_RECORDS = 20_000;

class KafkaSourceReader implements SourceReader {
  readonly unionSplitState = true;
  readonly perSplitOutput = true;
  readonly ratePerSecond = undefined;
  private readonly splits = new Map<string, Split>();
  private readonly finishedSplits = new Map<string, KafkaPartitionSplit>();
  private restored: Map<string, KafkaPartitionSplit> | undefined;
  private readonly queue: Chunk[] = [];
  private queuedRecords = 0;
  private out: SplitOutput | undefined;
  private client: KafkaClient | undefined;
  private meta: ClusterMetadata | undefined;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private spaceWake: (() => void) | undefined;
  /** Aborted by close(): ends every pause of the fetch loop and of partition discovery at once. */
  private readonly closing = new AbortController();
  private started = false;
  private loop: Promise<void> | undefined;
  private readonly pendingCommits = new Map<number, (TopicPartition & { offset: number })[]>();
  private readonly props: Record<string, string>;
  private readonly readCommitted: boolean;
  private readonly bounded: boolean;
  private readonly ignoreParseErrors: boolean;
  private skippedRecords = 0;
  private current: KafkaConsumerRecord | undefined;
  private readonly collector: Collector<unknown>;
  private currentSplit: Split | undefined;

  constructor(
    private readonly source: KafkaSource<unknown>,
    private readonly services: TaskServices,
    private readonly operatorName: string,
  ) {
    this.props = { ...KAFKA_SOURCE_DEFAULTS, ...source.properties };
    this.readCommitted = this.props['isolation.level'] === 'read_committed';
    this.bounded = source.stoppingOffsets !== undefined;
    this.ignoreParseErrors = this.props['deserialization.ignore-parse-errors'] === 'true';
    this.collector = { collect: (v: unknown) => this.out!.collect(this.currentSplit!.key, v, this.current!.timestamp) };
  }

  get finished(): boolean {
    if (this.failure) return false;
    return this.started && this.bounded && this.splits.size === 0;
  }

  private num(key: string): number {
    const v = Number(this.props[key]);
    if (!Number.isFinite(v))
      throw new Error(`KafkaSource '${this.operatorName}': property ${key} must be a number, got '${this.props[key]}'`);
    return v;
  }

  async start(out: SplitOutput): Promise<void> {
    this.out = out;
    const s = this.services;
    this.client = new KafkaClient({
      bootstrapServers: this.source.bootstrapServers,
      clientId: `${this.props['client.id.prefix']}-${s.subtaskIndex}`,
      requestTimeoutMs: this.num('request.timeout.ms'),
      ...kafkaSecurity(this.props, `KafkaSource '${this.operatorName}'`),
    });
    const owned = await this.discover();
    await this.assign(owned, this.restored ? { kind: 'earliest' } : this.source.startingOffsets);
    this.started = true;
    s.log.info(
      { partitions: [...this.splits.keys()], restored: this.restored !== undefined },
      `KafkaSource '${this.operatorName}' assigned ${this.splits.size} partition(s)`,
    );
    this.loop = this.fetchLoop();
  }

  /** The partitions of the subscribed topics this subtask owns, with fresh metadata. */
  private async discover(): Promise<TopicPartition[]> {
    const src = this.source;
    const client = this.client!;
    const deadline = Date.now() + this.num('request.timeout.ms');
    for (;;) {
      // Once closed, the client fails every request: retrying would hold a canceled task for the
      // whole request timeout.
      if (this.closed) throw new Error(`KafkaSource '${this.operatorName}' closed`);
      const names = src.topics ?? (src.partitions ? [...new Set(src.partitions.map((p) => p.topic))] : undefined);
      let meta: ClusterMetadata;
      try {
        meta = await client.metadata(names);
      } catch (e) {
        // A refused login or another error no retry can fix fails at once; an unreachable broker gets until the deadline.
        if (Date.now() > deadline || (e instanceof KafkaProtocolError && !e.retriable)) throw e;
        await this.pause(500);
        continue;
      }
      this.meta = meta;
      const parts: TopicPartition[] = [];
      const missing: string[] = [];
      for (const t of meta.topics.values()) {
        if (src.topicPattern && !src.topicPattern.test(t.name)) continue;
        if (t.errorCode !== 0) {
          missing.push(`${t.name} (${errorName(t.errorCode)})`);
          continue;
        }
        for (const p of t.partitions) {
          if (src.partitions && !src.partitions.some((x) => x.topic === t.name && x.partition === p.partition))
            continue;
          parts.push({ topic: t.name, partition: p.partition });
        }
      }
      if (missing.length > 0) {
        if (Date.now() > deadline)
          throw new Error(
            `KafkaSource '${this.operatorName}': topic(s) ${missing.join(', ')} not found on ${src.bootstrapServers.join(',')}`,
          );
        await this.pause(500);
        continue;
      }
      const { subtaskIndex, parallelism } = this.services;
      return parts.filter((p) => kafkaSplitOwner(p.topic, p.partition, parallelism) === subtaskIndex);
    }
  }

  /** Adds splits for owned partitions not yet read: restored ones at their offsets, others per `spec`. */
  private async assign(owned: TopicPartition[], spec: OffsetSpec): Promise<void> {
    const fresh: TopicPartition[] = [];
    for (const p of owned) {
      const k = tpKey(p.topic, p.partition);
      if (this.splits.has(k) || this.finishedSplits.has(k)) continue;
      const r = this.restored?.get(k);
      if (r?.finished) this.finishedSplits.set(k, r);
      else if (r) this.addSplit(new Split(r.topic, r.partition, r.offset, r.stoppingOffset));
      else fresh.push(p);
    }
    if (fresh.length === 0) return;
    const opts = { groupId: this.source.groupId, readCommitted: this.readCommitted };
    const starts = await resolveOffsets(this.client!, this.meta!, fresh, spec, opts);
    const stops = this.source.stoppingOffsets
      ? await resolveOffsets(this.client!, this.meta!, fresh, this.source.stoppingOffsets, opts)
      : undefined;
    for (const p of fresh) {
      const k = tpKey(p.topic, p.partition);
      this.addSplit(new Split(p.topic, p.partition, starts.get(k)!, stops ? (stops.get(k) ?? null) : null));
    }
  }

  private addSplit(split: Split): void {
    this.splits.set(split.key, split);
    this.out!.addSplit(split.key);
    if (split.done) this.finishSplit(split);
  }

  private finishSplit(split: Split): void {
    split.finished = true;
    this.splits.delete(split.key);
    this.finishedSplits.set(split.key, {
      topic: split.topic,
      partition: split.partition,
      offset: split.position,
      stoppingOffset: split.stoppingOffset,
      finished: true,
    });
    this.out!.removeSplit(split.key);
  }

  private async fetchLoop(): Promise<void> {
    const client = this.client!;
    const discoveryMs = this.bounded ? 0 : this.num('partition.discovery.interval.ms');
    let nextDiscovery = Date.now() + discoveryMs;
    let backoff = 100;
    const opts = {
      maxWaitMs: this.num('fetch.max.wait.ms'),
      minBytes: 1,
      maxBytes: this.num('fetch.max.bytes'),
      partitionMaxBytes: this.num('max.partition.fetch.bytes'),
      readCommitted: this.readCommitted,
    };
    while (!this.closed) {
      try {
        if (discoveryMs > 0 && Date.now() >= nextDiscovery) {
          nextDiscovery = Date.now() + discoveryMs;
          const before = this.splits.size;
          await this.assign(await this.discover(), { kind: 'earliest' });
          if (this.splits.size > before)
            this.services.log.info(
              { partitions: [...this.splits.keys()] },
              `KafkaSource '${this.operatorName}' discovered new partitions`,
            );
        }
        if (this.queuedRecords >= MAX_QUEUED_RECORDS) {
          await new Promise<void>((r) => (this.spaceWake = r));
          continue;
        }
        const fetchable = [...this.splits.values()].filter((s) => s.fetchable);
        if (fetchable.length === 0) {
          await this.pause(this.bounded ? 50 : Math.min(opts.maxWaitMs, 500));
          continue;
        }
        const byLeader = groupByLeader(this.meta!, fetchable);
        const results = await Promise.all(
          [...byLeader].map(([leader, splits]) =>
            fetchPartitions(
              client,
              leader,
              splits.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.fetchOffset })),
              opts,
            ),
          ),
        );
        if (this.closed) return;
        let refresh = false;
        for (const r of results.flat()) {
          const split = this.splits.get(tpKey(r.topic, r.partition));
          if (!split) continue;
          if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            const reset = await resolveOffsets(
              client,
              this.meta!,
              [split],
              { kind: 'earliest' },
              { groupId: undefined, readCommitted: this.readCommitted },
            );
            const to = reset.get(split.key)!;
            this.services.log.warn(
              { partition: split.key, offset: split.fetchOffset, resetTo: to },
              `KafkaSource '${this.operatorName}': offset out of range, resetting to the earliest offset`,
            );
            split.fetchOffset = to;
            if (split.queued === 0) split.emitOffset = to;
            continue;
          }
          if (r.errorCode !== 0) {
            if (!isRetriable(r.errorCode)) throw new Error(`fetching ${split.key} failed: ${errorName(r.errorCode)}`);
            refresh = true;
            continue;
          }
          split.highWatermark = r.highWatermark;
          let records = r.records;
          if (split.stoppingOffset !== null) records = records.filter((x) => x.offset < split.stoppingOffset!);
          split.fetchOffset =
            split.stoppingOffset !== null
              ? Math.min(r.nextOffset, Math.max(split.stoppingOffset, split.fetchOffset))
              : r.nextOffset;
          if (records.length > 0) {
            split.queued += records.length;
            this.queuedRecords += records.length;
            this.queue.push({ split, records, next: 0 });
          }
        }
        if (refresh) {
          this.meta = await client.metadata([...new Set([...this.splits.values()].map((s) => s.topic))]);
          await this.pause(backoff);
          backoff = Math.min(backoff * 2, 5_000);
        } else backoff = 100;
        this.signal();
      } catch (e) {
        if (this.closed) return;
        const err = e instanceof Error ? e : new Error(String(e));
        // Connection trouble is retried (the client reconnects); anything else fails the task.
        if (isConnectionError(err) && backoff < 10_000) {
          this.services.log.warn(
            { err: err.message },
            `KafkaSource '${this.operatorName}': fetch failed, retrying in ${backoff} ms`,
          );
          await this.pause(backoff);
          backoff *= 2;
          continue;
        }
        this.failure = new Error(
          `KafkaSource '${this.operatorName}' on ${this.source.bootstrapServers.join(',')}: ${err.message}`,
        );
        this.signal();
        return;
      }
    }
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  available(): Promise<void> {
    if (this.failure || this.queue.length > 0 || this.finished) return Promise.resolve();
    // Bounded splits that reach their end without records finish here.
    for (const s of [...this.splits.values()]) if (s.done) this.finishSplit(s);
    if (this.finished) return Promise.resolve();
    return new Promise<void>((r) => (this.wake = r));
  }

  emitBatch(max: number, _out: Output): number {
    if (this.failure) throw this.failure;
    let n = 0;
    while (n < max && this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const split = chunk.split;
      if (split.finished) {
        this.queue.shift();
        continue;
      }
      while (n < max && chunk.next < chunk.records.length) {
        const rec = chunk.records[chunk.next++]!;
        split.queued--;
        this.queuedRecords--;
        this.emitRecord(split, rec);
        split.emitOffset = rec.offset + 1;
        n++;
        if (this.services.pending !== undefined) break;
      }
      if (chunk.next >= chunk.records.length) this.queue.shift();
      if (split.done) this.finishSplit(split);
      if (this.services.pending !== undefined) break;
    }
    if (this.queuedRecords < MAX_QUEUED_RECORDS / 2 && this.spaceWake) {
      const w = this.spaceWake;
      this.spaceWake = undefined;
      w();
    }
    return n;
  }

  private emitRecord(split: Split, rec: FetchedRecord): void {
    this.current = rec;
    this.currentSplit = split;
    try {
      this.source.deserializer.deserialize(rec, this.collector);
    } catch (e) {
      if (e instanceof UserCodeError) throw e;
      const where = `topic ${split.topic} partition ${split.partition} offset ${rec.offset}`;
      if (this.ignoreParseErrors) {
        if (this.skippedRecords++ % 1000 === 0)
          this.services.log.warn(
            { err: String(e), skipped: this.skippedRecords },
            `KafkaSource '${this.operatorName}': skipping the record at ${where}`,
          );
        return;
      }
      const cause = e instanceof Error ? e : new Error(String(e));
      const err = new Error(`cannot deserialize the record at ${where}: ${cause.message}`);
      err.stack = `${err.message}\n${cause.stack?.split('\n').slice(1).join('\n') ?? ''}`;
      throw new UserCodeError(this.operatorName, err);
    }
  }

  snapshotSplits(checkpointId?: number): unknown[] {
    const splits: KafkaPartitionSplit[] = [...this.splits.values()].map((s) => ({
      topic: s.topic,
      partition: s.partition,
      offset: s.position,
      stoppingOffset: s.stoppingOffset,
    }));
    // Before start(): restored splits pass through unchanged.
    if (!this.started && this.restored) return [...this.restored.values()];
    if (checkpointId !== undefined && this.source.groupId && this.props['commit.offsets.on.checkpoint'] !== 'false') {
      this.pendingCommits.set(
        checkpointId,
        splits.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.offset })),
      );
    }
    return [...splits, ...this.finishedSplits.values()];
  }

  restoreSplits(splits: unknown[]): void {
    const restored = new Map<string, KafkaPartitionSplit>();
    for (const v of splits) {
      if (!isSplit(v))
        throw new Error(
          `operator '${this.operatorName}': restored source split ${JSON.stringify(v)} is not a Kafka partition split`,
        );
      restored.set(tpKey(v.topic, v.partition), v);
    }
    this.restored = restored;
  }

  /** Commits the checkpoint's offsets to the group, for lag monitoring only (as Flink). */
  notifyCheckpointComplete(checkpointId: number): void {
    const offsets = this.pendingCommits.get(checkpointId);
    for (const id of this.pendingCommits.keys()) if (id <= checkpointId) this.pendingCommits.delete(id);
    if (!offsets || !this.client || this.closed) return;
    commitOffsets(this.client, this.source.groupId!, offsets).catch((e: unknown) => {
      this.services.log.warn(
        { err: e instanceof Error ? e.message : String(e), checkpointId },
        `KafkaSource '${this.operatorName}': committing offsets to group '${this.source.groupId}' failed`,
      );
    });
  }

  /** records-lag-max: the largest distance of a partition's position from its end; pendingRecords: their sum. */
  metrics(): Record<string, number> {
    let max = 0;
    let sum = 0;
    for (const s of this.splits.values()) {
      if (s.highWatermark < 0) continue;
      const lag = Math.max(0, s.highWatermark - s.position);
      max = Math.max(max, lag);
      sum += lag;
    }
    return { 'records-lag-max': max, pendingRecords: sum };
  }

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Sleeps `ms`, or less if the reader closes meanwhile. */
  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.closing.signal }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.signal();
    this.spaceWake?.();
    this.client?.close();
    await this.loop?.catch(() => undefined);
  }
}

function isConnectionError(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number') return isRetriable(code);
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|closed|timed out|socket/i.test(`${String(code)} ${e.message}`);
}

export function createKafkaSourceReader(source: unknown, services: TaskServices, operatorName: string): SourceReader {
  const s = source as KafkaSource<unknown>;
  if (
    !s ||
    s.sourceKind !== 'kafka' ||
    !Array.isArray(s.bootstrapServers) ||
    typeof s.deserializer?.deserialize !== 'function'
  ) {
    throw new Error(`operator '${operatorName}': the bundle's KafkaSource is malformed`);
  }
  return new KafkaSourceReader(s, services, operatorName);
}
