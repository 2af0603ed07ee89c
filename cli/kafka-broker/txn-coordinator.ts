// The transaction coordinator: producer ids and epochs (InitProducerId), the partitions and
// groups of each ongoing transaction, pending transactional offset commits, and the end of a
// transaction (commit or abort markers written into every partition it touched, then the
// offsets applied). Nothing ties a transaction to a connection: any client presenting the
// transactional id, producer id and epoch may end it (Flink's Kafka sink resumes transactions
// after a crash this way). Transactions older than their timeout are aborted with an epoch bump,
// fencing their producer. State is journaled (PrepareCommit/PrepareAbort before the markers,
// Complete* after), and a transaction found prepared at start is completed then.
//
// Bounded in a long run (an exactly-once sink uses a new transactional id per checkpoint), as
// Kafka is: a transactional id whose transaction is complete (or that never began one) and that
// has not been used for transactional.id.expiration.ms is forgotten (a tombstone in the journal);
// ids are kept in last-update order, so finding the expired ones costs only what expires. The
// timeout check looks only at the index of ongoing transactions. The journal is compacted (a
// snapshot of the live state) whenever it has grown well past that state.
import { join } from 'node:path';
import { ErrorCode } from '../../common/kafka/protocol/errors.js';
import { encodeEndTxnMarker, readRecordBatchHeader } from '../../common/kafka/protocol/records.js';
import type { Logger } from '../../common/logging.js';
import type { GroupCoordinator } from './group-coordinator.js';
import { Journal } from './journal.js';
import type { LogManager } from './log-manager.js';

type TxnState = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort';

interface PendingOffset {
  group: string;
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
  leaderEpoch: number;
}

export interface TxnMetadata {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** "topic:partition" keys. */
  partitions: string[];
  groups: string[];
  pendingOffsets: PendingOffset[];
  startedAt: number;
  /** When the coordinator last changed it (Kafka's txnLastUpdateTimestamp), for expiration. */
  updatedAt: number;
}

/** A transaction's state, a producer-id high-water mark, or the removal of an expired transactional id. */
type JournalEntry = { t: 'txn'; txn: TxnMetadata } | { t: 'pid'; next: number } | { t: 'rm'; id: string };

export interface TxnCoordinatorOptions {
  /** transaction.max.timeout.ms (Kafka's default: 15 minutes). */
  maxTimeoutMs: number;
  /** How often timed-out transactions (and expired transactional ids) are looked for. */
  abortCheckIntervalMs: number;
  /** transactional.id.expiration.ms (Kafka's default: 7 days). */
  transactionalIdExpirationMs: number;
  /** Journal compaction thresholds (defaults: 1 MiB, 4x the live state). */
  journalMinCompactBytes?: number;
  journalCompactRatio?: number;
}

const MAX_EPOCH = 32767;

function tpKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function parseTp(key: string): { topic: string; partition: number } {
  const i = key.indexOf(':');
  return { partition: Number(key.slice(0, i)), topic: key.slice(i + 1) };
}

function isComplete(state: TxnState): boolean {
  return state === 'Empty' || state === 'CompleteCommit' || state === 'CompleteAbort';
}

export class TxnCoordinator {
  private readonly txns = new Map<string, TxnMetadata>();
  private readonly byProducerId = new Map<number, TxnMetadata>();
  /** Transactions in state Ongoing: what the timeout check looks at. */
  private readonly ongoing = new Map<string, TxnMetadata>();
  /** Transactional ids whose transaction is complete (or empty), least recently updated first. */
  private readonly idle = new Map<string, TxnMetadata>();
  private nextProducerId = 1000;
  private readonly journal: Journal<JournalEntry>;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    dir: string,
    private readonly logs: LogManager,
    private readonly groups: GroupCoordinator,
    private readonly opts: TxnCoordinatorOptions,
    private readonly log: Logger,
  ) {
    this.journal = new Journal(join(dir, 'transactions.journal'), {
      minCompactBytes: opts.journalMinCompactBytes,
      compactRatio: opts.journalCompactRatio,
    });
    const loadedAt = Date.now();
    for (const e of this.journal.load()) {
      if (e.t === 'pid') this.nextProducerId = Math.max(this.nextProducerId, e.next);
      else if (e.t === 'rm') this.txns.delete(e.id);
      else {
        e.txn.updatedAt ??= loadedAt; // journals written before expiration existed
        this.txns.set(e.txn.transactionalId, e.txn);
      }
    }
    for (const pl of logs.allPartitions()) this.nextProducerId = Math.max(this.nextProducerId, pl.maxProducerId + 1);
    for (const t of this.txns.values()) {
      this.byProducerId.set(t.producerId, t);
      this.nextProducerId = Math.max(this.nextProducerId, t.producerId + 1);
    }
    for (const t of [...this.txns.values()].sort((a, b) => a.updatedAt - b.updatedAt)) this.index(t);
    this.compact();
    // Transactions a crash left between their prepare record and their markers are finished now.
    for (const t of [...this.txns.values()]) {
      if (t.state === 'PrepareCommit' || t.state === 'PrepareAbort')
        this.writeMarkersAndComplete(t, t.state === 'PrepareCommit', true);
    }
    this.ticker = setInterval(() => {
      this.abortTimedOut();
      this.expireTransactionalIds();
    }, opts.abortCheckIntervalMs);
    this.ticker.unref();
  }

  /** Files a transaction under the ongoing or the idle index by its state. */
  private index(t: TxnMetadata): void {
    this.idle.delete(t.transactionalId); // re-inserted last: the idle map stays in update order
    if (t.state === 'Ongoing') this.ongoing.set(t.transactionalId, t);
    else {
      this.ongoing.delete(t.transactionalId);
      if (isComplete(t.state)) this.idle.set(t.transactionalId, t);
    }
  }

  private persist(t: TxnMetadata): void {
    t.updatedAt = Date.now();
    this.index(t);
    this.append({ t: 'txn', txn: t });
  }

  private append(e: JournalEntry): void {
    this.journal.append(e);
    if (this.journal.shouldCompact) this.compact();
  }

  /** Rewrites the journal as a snapshot of the live state. */
  private compact(): void {
    const txns = this.txns;
    const next = this.nextProducerId;
    this.journal.rewrite(
      (function* (): Generator<JournalEntry> {
        yield { t: 'pid', next };
        for (const txn of txns.values()) yield { t: 'txn', txn };
      })(),
    );
  }

  private allocateProducerId(): number {
    const pid = this.nextProducerId++;
    this.append({ t: 'pid', next: this.nextProducerId });
    return pid;
  }

  /** Live transactional ids, ongoing transactions, and the journal's size (for tests and logs). */
  stats(): { transactionalIds: number; ongoing: number; journalBytes: number } {
    return { transactionalIds: this.txns.size, ongoing: this.ongoing.size, journalBytes: this.journal.size };
  }

  /** The transaction of a producer id, for produce-time checks. */
  ofProducer(producerId: number): TxnMetadata | undefined {
    return this.byProducerId.get(producerId);
  }

  /** Whether a transactional batch of this producer may go to this partition. */
  checkProduce(producerId: number, producerEpoch: number, topic: string, partition: number): number {
    const t = this.byProducerId.get(producerId);
    if (!t) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch < t.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (producerEpoch > t.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (t.state !== 'Ongoing' || !t.partitions.includes(tpKey(topic, partition))) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  initProducerId(
    transactionalId: string | null,
    timeoutMs: number,
  ): { errorCode: number; producerId: number; producerEpoch: number } {
    if (transactionalId === null || transactionalId === '') {
      return { errorCode: ErrorCode.NONE, producerId: this.allocateProducerId(), producerEpoch: 0 };
    }
    if (timeoutMs <= 0 || timeoutMs > this.opts.maxTimeoutMs)
      return { errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT, producerId: -1, producerEpoch: -1 };
    let t = this.txns.get(transactionalId);
    if (!t) {
      t = {
        transactionalId,
        producerId: this.allocateProducerId(),
        producerEpoch: 0,
        timeoutMs,
        state: 'Empty',
        partitions: [],
        groups: [],
        pendingOffsets: [],
        startedAt: 0,
        updatedAt: 0,
      };
      this.txns.set(transactionalId, t);
      this.byProducerId.set(t.producerId, t);
      this.persist(t);
      return { errorCode: ErrorCode.NONE, producerId: t.producerId, producerEpoch: 0 };
    }
    if (t.state === 'Ongoing') {
      // A new incarnation of the producer: abort what the old one left open, fencing it.
      this.log.info(
        { transactionalId, producerId: t.producerId, epoch: t.producerEpoch },
        'aborting the ongoing transaction of a re-initialized transactional producer',
      );
      this.bumpEpoch(t);
      this.end(t, false);
    }
    this.bumpEpoch(t);
    t.timeoutMs = timeoutMs;
    t.state = 'Empty';
    this.persist(t);
    return { errorCode: ErrorCode.NONE, producerId: t.producerId, producerEpoch: t.producerEpoch };
  }

  private bumpEpoch(t: TxnMetadata): void {
    if (t.producerEpoch >= MAX_EPOCH - 1) {
      // Epochs exhausted: a new producer id, as Kafka does.
      this.byProducerId.delete(t.producerId);
      t.producerId = this.allocateProducerId();
      t.producerEpoch = 0;
      this.byProducerId.set(t.producerId, t);
    } else t.producerEpoch++;
  }

  /** Validates the producer of a coordinator request; fencedCode is what an old epoch gets. */
  private check(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    fencedCode: number,
  ): { t?: TxnMetadata; errorCode: number } {
    const t = this.txns.get(transactionalId);
    if (!t || t.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (producerEpoch !== t.producerEpoch) return { errorCode: fencedCode };
    if (t.state === 'PrepareCommit' || t.state === 'PrepareAbort')
      return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    return { t, errorCode: ErrorCode.NONE };
  }

  private begin(t: TxnMetadata): void {
    if (t.state !== 'Ongoing') {
      t.state = 'Ongoing';
      t.startedAt = Date.now();
      t.partitions = [];
      t.groups = [];
      t.pendingOffsets = [];
    }
  }

  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topics: { name: string; partitions: number[] }[],
    fencedCode: number,
  ): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
    const { t, errorCode } = this.check(transactionalId, producerId, producerEpoch, fencedCode);
    const unknown = (topic: string, p: number) => this.logs.partition(topic, p) === undefined;
    const anyUnknown = topics.some((tp) => tp.partitions.some((p) => unknown(tp.name, p)));
    const result = topics.map((tp) => ({
      name: tp.name,
      partitions: tp.partitions.map((p) => ({
        partitionIndex: p,
        errorCode:
          errorCode !== ErrorCode.NONE
            ? errorCode
            : unknown(tp.name, p)
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : anyUnknown
                ? ErrorCode.OPERATION_NOT_ATTEMPTED
                : ErrorCode.NONE,
      })),
    }));
    if (t && errorCode === ErrorCode.NONE && !anyUnknown) {
      this.begin(t);
      for (const tp of topics)
        for (const p of tp.partitions)
          if (!t.partitions.includes(tpKey(tp.name, p))) t.partitions.push(tpKey(tp.name, p));
      this.persist(t);
    }
    return result;
  }

  addOffsets(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    groupId: string,
    fencedCode: number,
  ): number {
    const { t, errorCode } = this.check(transactionalId, producerId, producerEpoch, fencedCode);
    if (!t) return errorCode;
    if (!groupId) return ErrorCode.INVALID_GROUP_ID;
    this.begin(t);
    if (!t.groups.includes(groupId)) t.groups.push(groupId);
    this.persist(t);
    return ErrorCode.NONE;
  }

  txnOffsetCommit(
    transactionalId: string,
    groupId: string,
    producerId: number,
    producerEpoch: number,
    offsets: { topic: string; partition: number; offset: number; metadata: string | null; leaderEpoch: number }[],
    fencedCode: number,
  ): number[] {
    const { t, errorCode } = this.check(transactionalId, producerId, producerEpoch, fencedCode);
    if (!t) return offsets.map(() => errorCode);
    if (t.state !== 'Ongoing' || !t.groups.includes(groupId)) return offsets.map(() => ErrorCode.INVALID_TXN_STATE);
    const codes = offsets.map((o) =>
      this.logs.partition(o.topic, o.partition) ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    offsets.forEach((o, i) => {
      if (codes[i] !== ErrorCode.NONE) return;
      t.pendingOffsets = t.pendingOffsets.filter(
        (p) => !(p.group === groupId && p.topic === o.topic && p.partition === o.partition),
      );
      t.pendingOffsets.push({ group: groupId, ...o });
    });
    this.persist(t);
    return codes;
  }

  endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    fencedCode: number,
  ): number {
    const t = this.txns.get(transactionalId);
    if (!t || t.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== t.producerEpoch) return fencedCode;
    switch (t.state) {
      case 'Ongoing':
        this.end(t, commit);
        return ErrorCode.NONE;
      case 'CompleteCommit':
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE; // a retried commit succeeds again
      case 'CompleteAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case 'PrepareCommit':
      case 'PrepareAbort':
        return ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  private end(t: TxnMetadata, commit: boolean): void {
    t.state = commit ? 'PrepareCommit' : 'PrepareAbort';
    this.persist(t);
    this.writeMarkersAndComplete(t, commit);
  }

  private writeMarkersAndComplete(t: TxnMetadata, commit: boolean, recovering = false): void {
    const now = Date.now();
    for (const key of t.partitions) {
      const { topic, partition } = parseTp(key);
      const pl = this.logs.partition(topic, partition);
      if (!pl) continue; // deleted meanwhile
      // After a crash between markers, a partition that already has its marker is skipped.
      if (recovering && !pl.ongoingTxns.has(t.producerId)) continue;
      const marker = encodeEndTxnMarker({
        producerId: t.producerId,
        producerEpoch: t.producerEpoch,
        commit,
        timestamp: now,
      });
      pl.append(marker, readRecordBatchHeader(marker)!);
    }
    if (commit) {
      for (const o of t.pendingOffsets)
        this.groups.commit(o.group, o.topic, o.partition, {
          offset: o.offset,
          metadata: o.metadata,
          leaderEpoch: o.leaderEpoch,
        });
    }
    this.log.info(
      {
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        epoch: t.producerEpoch,
        partitions: t.partitions.length,
        offsets: t.pendingOffsets.length,
      },
      commit ? 'transaction committed' : 'transaction aborted',
    );
    t.state = commit ? 'CompleteCommit' : 'CompleteAbort';
    t.partitions = [];
    t.groups = [];
    t.pendingOffsets = [];
    this.persist(t);
  }

  private abortTimedOut(): void {
    const now = Date.now();
    const timedOut = [...this.ongoing.values()].filter((t) => now - t.startedAt > t.timeoutMs);
    for (const t of timedOut) {
      if (t.state !== 'Ongoing') continue;
      this.log.info(
        { transactionalId: t.transactionalId, producerId: t.producerId, timeoutMs: t.timeoutMs },
        'aborting a transaction that exceeded its timeout',
      );
      this.bumpEpoch(t);
      this.end(t, false);
    }
  }

  /**
   * Forgets transactional ids whose transaction is complete (or empty) and that were not updated
   * for transactional.id.expiration.ms, as Kafka does: the next InitProducerId for such an id
   * gets a new producer id at epoch 0.
   */
  private expireTransactionalIds(now = Date.now()): void {
    const cutoff = now - this.opts.transactionalIdExpirationMs;
    let expired = 0;
    for (const t of this.idle.values()) {
      if (t.updatedAt > cutoff) break; // the rest were updated later
      this.idle.delete(t.transactionalId);
      this.txns.delete(t.transactionalId);
      if (this.byProducerId.get(t.producerId) === t) this.byProducerId.delete(t.producerId);
      this.append({ t: 'rm', id: t.transactionalId });
      expired++;
    }
    if (expired > 0) this.log.debug({ expired, remaining: this.txns.size }, 'expired idle transactional ids');
  }

  flush(): void {
    this.journal.flush();
  }

  close(): void {
    clearInterval(this.ticker);
    this.journal.flush();
    this.journal.close();
  }
}
