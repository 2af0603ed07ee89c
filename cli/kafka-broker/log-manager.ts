// The broker's topics: their partition logs under <dir>/<topic>-<partition>/ and the topic list
// in <dir>/topics.json (rewritten atomically on every create and delete).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../common/logging.js';
import { PartitionLog } from './partition-log.js';

export interface TopicInfo {
  name: string;
  partitions: number;
  topicId: string;
  configs: Record<string, string | null>;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules; the reason a name is refused, or undefined. */
export function invalidTopicName(name: string): string | undefined {
  if (!name) return 'the topic name is empty';
  if (name === '.' || name === '..') return `'${name}' is not a legal topic name`;
  if (name.length > 249) return 'topic names are at most 249 characters';
  if (!LEGAL_TOPIC.test(name)) return `'${name}' contains characters other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

export class LogManager {
  readonly topics = new Map<string, TopicInfo>();
  private readonly logs = new Map<string, PartitionLog[]>();

  constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'topics.json');
    if (existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { topics: TopicInfo[] };
      for (const t of stored.topics) this.open(t);
    }
  }

  private open(t: TopicInfo): void {
    this.topics.set(t.name, t);
    const parts: PartitionLog[] = [];
    for (let p = 0; p < t.partitions; p++)
      parts.push(new PartitionLog(t.name, p, join(this.dir, `${t.name}-${p}`), this.segmentBytes, this.log));
    this.logs.set(t.name, parts);
  }

  private persist(): void {
    const file = join(this.dir, 'topics.json');
    writeFileSync(file + '.tmp', JSON.stringify({ topics: [...this.topics.values()] }, null, 2));
    renameSync(file + '.tmp', file);
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic)?.[partition];
  }

  partitionsOf(topic: string): PartitionLog[] {
    return this.logs.get(topic) ?? [];
  }

  allPartitions(): PartitionLog[] {
    return [...this.logs.values()].flat();
  }

  create(name: string, partitions: number, configs: Record<string, string | null> = {}): TopicInfo {
    const topicId = randomBytes(16).toString('base64url');
    const t: TopicInfo = { name, partitions, topicId, configs };
    // Leftovers of an earlier topic of the same name (deleted while the broker was down) go first.
    for (let p = 0; p < partitions; p++) rmSync(join(this.dir, `${name}-${p}`), { recursive: true, force: true });
    this.open(t);
    this.persist();
    this.log.info({ topic: name, partitions }, 'created topic');
    return t;
  }

  delete(name: string): boolean {
    const t = this.topics.get(name);
    if (!t) return false;
    for (const pl of this.logs.get(name) ?? []) pl.close();
    this.logs.delete(name);
    this.topics.delete(name);
    this.persist();
    for (let p = 0; p < t.partitions; p++) rmSync(join(this.dir, `${name}-${p}`), { recursive: true, force: true });
    this.log.info({ topic: name }, 'deleted topic');
    return true;
  }

  /** Drops producer state idle for longer than `expirationMs` in every partition (producer.id.expiration.ms). */
  expireProducers(expirationMs: number, now = Date.now()): number {
    let removed = 0;
    for (const parts of this.logs.values()) for (const pl of parts) removed += pl.expireProducers(expirationMs, now);
    if (removed > 0) this.log.debug({ removed }, 'expired idle producer ids');
    return removed;
  }

  flush(): void {
    for (const pl of this.allPartitions()) pl.flush();
  }

  close(): void {
    for (const pl of this.allPartitions()) {
      pl.flush();
      pl.close();
    }
  }
}
