// One partition's log: segment files of record batches v2 named by their base offset, as Kafka
// names them (00000000000000000000.log), an in-memory index of the batches, the producer state
// of idempotent and transactional producers, and the transaction index (ongoing transactions,
// which hold back the last stable offset, and aborted ones, which read_committed fetches report).
// Producer state is dropped for producers idle longer than producer.id.expiration.ms (unless they
// have a transaction open here), as Kafka does, so a long run with many producer ids stays bounded.
// Appends are plain writes (no fsync per request); the broker flushes periodically. On open the
// segments are scanned and a torn or corrupt tail is truncated, so a killed broker recovers.
import {
  closeSync,
  fdatasync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  controlRecordType,
  ControlRecordType,
  decodeRecordBatches,
  readRecordBatchHeader,
  RECORD_BATCH_OVERHEAD,
  setRecordBatchBaseOffset,
  setRecordBatchLeaderEpoch,
  verifyRecordBatchCrc,
  type DecodedRecord,
  type RecordBatchHeader,
} from '../../common/kafka/protocol/records.js';
import type { Logger } from '../../common/logging.js';

interface Segment {
  baseOffset: number;
  path: string;
  fd: number;
  size: number;
  dirty: boolean;
}

interface BatchEntry {
  baseOffset: number;
  lastOffset: number;
  pos: number;
  size: number;
  maxTimestamp: number;
  segment: Segment;
}

/** What the partition remembers of a producer: its epoch and its last batches (for duplicates). */
export interface ProducerState {
  epoch: number;
  lastSeq: number;
  recent: { firstSeq: number; lastSeq: number; baseOffset: number }[];
  /** When its last batch was appended (for a batch recovered from the log: the batch's max timestamp). */
  lastTimestamp: number;
}

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
}

/**
 * The aborted transactions of a partition, in the order of their abort markers, so by ascending
 * last offset. A fetch's range is found by binary search: the transactions overlapping
 * [from, to) are those with lastOffset >= from and firstOffset < to, and since no transaction
 * spans more than `maxSpan` offsets, none with lastOffset >= to + maxSpan can start below `to`.
 */
export class AbortedTxnIndex {
  private entries: AbortedTxn[] = [];
  /** Entries before this index were dropped (removed from the array in batches). */
  private head = 0;
  private maxSpan = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  add(t: AbortedTxn): void {
    const last = this.entries[this.entries.length - 1];
    if (this.length > 0 && last && t.lastOffset < last.lastOffset)
      throw new Error(`aborted transaction out of order: last offset ${t.lastOffset} after ${last.lastOffset}`);
    this.entries.push(t);
    this.maxSpan = Math.max(this.maxSpan, t.lastOffset - t.firstOffset);
  }

  /** Index of the first live entry whose last offset is >= offset. */
  private lowerBound(offset: number): number {
    return firstEndingAtOrAfter(this.entries, this.head, offset);
  }

  /** Aborted transactions overlapping [from, to), in marker order. */
  overlapping(from: number, to: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    const end = to + this.maxSpan; // entries from here on start at or after `to`
    for (let i = this.lowerBound(from); i < this.entries.length; i++) {
      const t = this.entries[i]!;
      if (t.lastOffset >= end) break;
      if (t.firstOffset < to) out.push(t);
    }
    return out;
  }

  /** Forgets transactions that ended below `offset` (the log start offset). */
  dropBefore(offset: number): void {
    this.head = this.lowerBound(offset);
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  toArray(): AbortedTxn[] {
    return this.entries.slice(this.head);
  }
}

export interface ReadResult {
  records: Buffer | null;
  bytes: number;
  /** Offset after the last returned batch. */
  nextOffset: number;
}

const MAX_RECENT_BATCHES = 5;
const SCAN_CHUNK = 4 * 1024 * 1024;

function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0') + '.log';
}

export class PartitionLog {
  private segments: Segment[] = [];
  private entries: BatchEntry[] = [];
  readonly logStartOffset = 0;
  logEndOffset = 0;
  readonly producers = new Map<number, ProducerState>();
  /** producerId -> first offset of its ongoing transaction in this partition. */
  readonly ongoingTxns = new Map<number, number>();
  readonly abortedTxns = new AbortedTxnIndex();
  private readonly waiters = new Set<() => void>();
  private readonly openedAt = Date.now();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    private readonly segmentBytes: number,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    this.recover();
  }

  get highWatermark(): number {
    return this.logEndOffset;
  }

  /** The last stable offset: nothing at or after it belongs to an undecided transaction. */
  get lastStableOffset(): number {
    let lso = this.logEndOffset;
    for (const first of this.ongoingTxns.values()) if (first < lso) lso = first;
    return lso;
  }

  get maxProducerId(): number {
    let max = -1;
    for (const pid of this.producers.keys()) if (pid > max) max = pid;
    return max;
  }

  // ------------------------------------------------------------------------------------------
  // Recovery

  private recover(): void {
    const files = readdirSync(this.dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .sort();
    let expected = 0;
    let truncated = false;
    for (const f of files) {
      const path = join(this.dir, f);
      if (truncated) {
        rmSync(path, { force: true });
        continue;
      }
      const baseOffset = Number(f.slice(0, 20));
      const fd = openSync(path, 'r+');
      const seg: Segment = { baseOffset, path, fd, size: statSync(path).size, dirty: false };
      if (this.segments.length === 0) expected = baseOffset;
      const validEnd = this.scanSegment(seg, expected);
      if (validEnd < seg.size) {
        this.log.warn(
          { topic: this.topic, partition: this.partition, segment: f, validBytes: validEnd, fileBytes: seg.size },
          'truncating a torn or corrupt log tail',
        );
        ftruncateSync(fd, validEnd);
        seg.size = validEnd;
        truncated = true;
      }
      this.segments.push(seg);
      expected = this.logEndOffset;
    }
    if (this.segments.length === 0) this.roll(0);
  }

  /** Indexes the valid batches of a segment; returns the byte length of its valid prefix. */
  private scanSegment(seg: Segment, expectedOffset: number): number {
    let pos = 0;
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = 0;
    let next = expectedOffset;
    while (pos < seg.size) {
      let rel = pos - chunkStart;
      if (rel + RECORD_BATCH_OVERHEAD > chunk.length) {
        chunk = this.readAt(seg, pos, Math.min(SCAN_CHUNK, seg.size - pos));
        chunkStart = pos;
        rel = 0;
      }
      if (rel + RECORD_BATCH_OVERHEAD > chunk.length) break;
      const size = chunk.readInt32BE(rel + 8) + 12;
      if (size < RECORD_BATCH_OVERHEAD || pos + size > seg.size) break;
      if (rel + size > chunk.length) {
        chunk = this.readAt(seg, pos, Math.max(size, Math.min(SCAN_CHUNK, seg.size - pos)));
        chunkStart = pos;
        rel = 0;
      }
      let h: RecordBatchHeader | undefined;
      try {
        h = readRecordBatchHeader(chunk, rel);
      } catch {
        break;
      }
      if (!h || !verifyRecordBatchCrc(chunk, rel, h) || h.baseOffset !== next) break;
      const lastOffset = h.baseOffset + h.lastOffsetDelta;
      this.entries.push({
        baseOffset: h.baseOffset,
        lastOffset,
        pos,
        size,
        maxTimestamp: h.maxTimestamp,
        segment: seg,
      });
      this.applyProducerState(
        h,
        chunk.subarray(rel, rel + size),
        h.maxTimestamp >= 0 ? Math.min(h.maxTimestamp, this.openedAt) : this.openedAt,
      );
      next = lastOffset + 1;
      this.logEndOffset = next;
      pos += size;
    }
    return pos;
  }

  private readAt(seg: Segment, pos: number, len: number): Buffer {
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(seg.fd, buf, got, len - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    return got === len ? buf : buf.subarray(0, got);
  }

  // ------------------------------------------------------------------------------------------
  // Producer state

  /**
   * Updates producer and transaction state for a batch just appended at `now` (or recovered:
   * then `now` is the batch's max timestamp, as Kafka rebuilds it).
   */
  private applyProducerState(h: RecordBatchHeader, batch: Buffer, now: number): void {
    if (h.producerId < 0) return;
    const pid = h.producerId;
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    if (h.isControl) {
      let type: ControlRecordType | undefined;
      try {
        const rec: DecodedRecord | undefined = decodeRecordBatches(batch, { verifyCrc: false })[0]?.records[0];
        type = rec ? controlRecordType(rec) : undefined;
      } catch {
        type = undefined;
      }
      const first = this.ongoingTxns.get(pid);
      if (first !== undefined) {
        this.ongoingTxns.delete(pid);
        if (type === ControlRecordType.Abort) this.abortedTxns.add({ producerId: pid, firstOffset: first, lastOffset });
      }
      const st = this.producers.get(pid);
      if (!st || h.producerEpoch > st.epoch)
        this.producers.set(pid, { epoch: h.producerEpoch, lastSeq: -1, recent: [], lastTimestamp: now });
      else st.lastTimestamp = Math.max(st.lastTimestamp, now);
      return;
    }
    if (h.isTransactional && !this.ongoingTxns.has(pid)) this.ongoingTxns.set(pid, h.baseOffset);
    let st = this.producers.get(pid);
    if (!st || st.epoch !== h.producerEpoch) {
      st = { epoch: h.producerEpoch, lastSeq: -1, recent: [], lastTimestamp: now };
      this.producers.set(pid, st);
    } else st.lastTimestamp = Math.max(st.lastTimestamp, now);
    if (h.baseSequence >= 0) {
      const lastSeq = h.baseSequence + h.lastOffsetDelta;
      st.lastSeq = lastSeq;
      st.recent.push({ firstSeq: h.baseSequence, lastSeq, baseOffset: h.baseOffset });
      if (st.recent.length > MAX_RECENT_BATCHES) st.recent.shift();
    }
  }

  /**
   * Drops the state of producers whose last batch is older than `expirationMs` and that have no
   * transaction open in this partition (Kafka's producer.id.expiration.ms). Returns how many went.
   */
  expireProducers(expirationMs: number, now = Date.now()): number {
    let removed = 0;
    for (const [pid, st] of this.producers) {
      if (now - st.lastTimestamp >= expirationMs && !this.ongoingTxns.has(pid)) {
        this.producers.delete(pid);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Checks an idempotent batch against the producer's state: 'append', a duplicate (with the
   * original base offset) or an error code.
   */
  checkSequence(
    h: RecordBatchHeader,
  ): { kind: 'append' } | { kind: 'duplicate'; baseOffset: number } | { kind: 'error'; code: number } {
    if (h.producerId < 0 || h.baseSequence < 0) return { kind: 'append' };
    const st = this.producers.get(h.producerId);
    if (!st) return { kind: 'append' };
    if (h.producerEpoch < st.epoch) return { kind: 'error', code: 47 }; // INVALID_PRODUCER_EPOCH
    if (h.producerEpoch > st.epoch) return h.baseSequence === 0 ? { kind: 'append' } : { kind: 'error', code: 45 };
    const lastSeq = h.baseSequence + h.lastOffsetDelta;
    const dup = st.recent.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === lastSeq);
    if (dup) return { kind: 'duplicate', baseOffset: dup.baseOffset };
    const expected = st.lastSeq === 0x7fffffff ? 0 : st.lastSeq + 1;
    if (h.baseSequence !== expected) return { kind: 'error', code: 45 }; // OUT_OF_ORDER_SEQUENCE_NUMBER
    return { kind: 'append' };
  }

  // ------------------------------------------------------------------------------------------
  // Appending

  private roll(baseOffset: number): Segment {
    const path = join(this.dir, segmentName(baseOffset));
    const fd = openSync(path, 'a+');
    const seg: Segment = { baseOffset, path, fd, size: statSync(path).size, dirty: false };
    this.segments.push(seg);
    return seg;
  }

  /**
   * Appends one batch (the buffer is modified: its base offset and leader epoch are assigned).
   * Returns the base offset it got.
   */
  append(batch: Buffer, h: RecordBatchHeader): number {
    const baseOffset = this.logEndOffset;
    setRecordBatchBaseOffset(batch, 0, baseOffset);
    setRecordBatchLeaderEpoch(batch, 0, 0);
    let seg = this.segments[this.segments.length - 1]!;
    if (seg.size > 0 && seg.size + batch.length > this.segmentBytes) seg = this.roll(baseOffset);
    let written = 0;
    while (written < batch.length)
      written += writeSync(seg.fd, batch, written, batch.length - written, seg.size + written);
    const entry: BatchEntry = {
      baseOffset,
      lastOffset: baseOffset + h.lastOffsetDelta,
      pos: seg.size,
      size: batch.length,
      maxTimestamp: h.maxTimestamp,
      segment: seg,
    };
    seg.size += batch.length;
    seg.dirty = true;
    this.entries.push(entry);
    this.logEndOffset = entry.lastOffset + 1;
    this.applyProducerState({ ...h, baseOffset }, batch, Date.now());
    this.notify();
    return baseOffset;
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  /** Index of the first batch whose last offset is >= offset. */
  private findEntry(offset: number): number {
    return firstEndingAtOrAfter(this.entries, 0, offset);
  }

  /**
   * Whole batches from the one holding `offset`, below `limit` (the high watermark or the last
   * stable offset), up to `maxBytes` (the first batch is returned whatever its size when
   * `atLeastOne`, as Kafka does since KIP-74).
   */
  read(offset: number, limit: number, maxBytes: number, atLeastOne: boolean): ReadResult {
    let i = this.findEntry(offset);
    const parts: Buffer[] = [];
    let bytes = 0;
    let nextOffset = offset;
    while (i < this.entries.length) {
      const first = this.entries[i]!;
      if (first.baseOffset >= limit) break;
      if (bytes + first.size > maxBytes && !(atLeastOne && bytes === 0)) break;
      // A run of contiguous batches in one segment is read with one call.
      let j = i;
      let runBytes = first.size;
      bytes += first.size;
      while (j + 1 < this.entries.length) {
        const e = this.entries[j + 1]!;
        if (e.segment !== first.segment || e.baseOffset >= limit || bytes + e.size > maxBytes) break;
        j++;
        runBytes += e.size;
        bytes += e.size;
      }
      parts.push(this.readAt(first.segment, first.pos, runBytes));
      nextOffset = this.entries[j]!.lastOffset + 1;
      i = j + 1;
      if (i < this.entries.length && this.entries[i]!.segment === first.segment) break; // stopped by a limit
    }
    if (parts.length === 0) return { records: null, bytes: 0, nextOffset: offset };
    const records = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return { records, bytes: records.length, nextOffset };
  }

  /** Aborted transactions overlapping [from, to). */
  abortedIn(from: number, to: number): AbortedTxn[] {
    return this.abortedTxns.overlapping(from, to);
  }

  /** The first offset whose record timestamp is >= ts (and its timestamp), or undefined. */
  offsetForTimestamp(ts: number, limit: number): { offset: number; timestamp: number } | undefined {
    for (const e of this.entries) {
      if (e.baseOffset >= limit) return undefined;
      if (e.maxTimestamp < ts) continue;
      const batch = this.readAt(e.segment, e.pos, e.size);
      for (const b of decodeRecordBatches(batch, { verifyCrc: false })) {
        if (b.isControl) continue;
        for (const r of b.records)
          if (r.timestamp >= ts && r.offset < limit) return { offset: r.offset, timestamp: r.timestamp };
      }
    }
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Waiting for data

  /** Calls `fn` once at the next append or transaction marker. Returns a canceller. */
  onChange(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  private notify(): void {
    if (this.waiters.size === 0) return;
    const fns = [...this.waiters];
    this.waiters.clear();
    for (const fn of fns) fn();
  }

  // ------------------------------------------------------------------------------------------

  flush(): void {
    for (const seg of this.segments) {
      if (!seg.dirty) continue;
      seg.dirty = false;
      fdatasync(seg.fd, () => {});
    }
  }

  close(): void {
    for (const seg of this.segments) {
      try {
        closeSync(seg.fd);
      } catch {
        // already closed
      }
    }
    this.segments = [];
    this.notify();
  }
}

/** Binary search in entries sorted by offset: the index of the first one from `from` whose last offset is >= offset. */
function firstEndingAtOrAfter(entries: ReadonlyArray<{ lastOffset: number }>, from: number, offset: number): number {
  let lo = from;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.lastOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
