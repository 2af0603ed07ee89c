// The development Kafka broker's state stays bounded in a long run: the aborted-transactions
// index answers a fetch's range by binary search (and matches a full scan), idle producers'
// idempotence state expires (producer.id.expiration.ms), and the transaction coordinator forgets
// idle transactional ids (transactional.id.expiration.ms) and compacts its journal while running,
// a reopened coordinator restoring the same live state.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../cli/kafka-broker/group-coordinator.js';
import { LogManager } from '../../cli/kafka-broker/log-manager.js';
import { AbortedTxnIndex, PartitionLog, type AbortedTxn } from '../../cli/kafka-broker/partition-log.js';
import { TxnCoordinator } from '../../cli/kafka-broker/txn-coordinator.js';
import { encodeRecordBatch, readRecordBatchHeader } from '../../common/kafka/protocol/records.js';
import { silentLogger } from '../../common/logging.js';
import { waitFor } from '../helpers/eventually.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-kafka-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A small deterministic PRNG. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('AbortedTxnIndex', () => {
  /** A log's aborted transactions, interleaved as producers really interleave them. */
  function randomAborted(seed: number, n: number): AbortedTxn[] {
    const r = rng(seed);
    const out: AbortedTxn[] = [];
    let offset = 0;
    const open = new Map<number, number>();
    let pid = 1;
    while (out.length < n) {
      offset += 1 + Math.floor(r() * 5);
      if (open.size < 4 && r() < 0.5) open.set(pid++, offset);
      else if (open.size > 0) {
        const pids = [...open.keys()];
        const p = pids[Math.floor(r() * pids.length)]!;
        const first = open.get(p)!;
        open.delete(p);
        if (r() < 0.6) out.push({ producerId: p, firstOffset: first, lastOffset: offset });
      }
      // now and then a long transaction spanning many others
      if (r() < 0.01) open.set(pid++, Math.max(0, offset - Math.floor(r() * 500)));
    }
    return out.sort((a, b) => a.lastOffset - b.lastOffset);
  }

  const scan = (all: AbortedTxn[], from: number, to: number) =>
    all.filter((t) => t.lastOffset >= from && t.firstOffset < to);

  it('finds the transactions overlapping a range exactly as a full scan does', () => {
    for (const seed of [1, 2, 3]) {
      const all = randomAborted(seed, 3000);
      const idx = new AbortedTxnIndex();
      for (const t of all) idx.add(t);
      expect(idx.length).toBe(all.length);
      const end = all[all.length - 1]!.lastOffset + 10;
      const r = rng(seed + 100);
      for (let q = 0; q < 2000; q++) {
        const from = Math.floor(r() * end);
        const to = from + Math.floor(r() * (q % 3 === 0 ? 2000 : 50));
        expect(idx.overlapping(from, to)).toEqual(scan(all, from, to));
      }
      expect(idx.overlapping(0, end)).toEqual(all);
      expect(idx.overlapping(end, end + 100)).toEqual([]);
    }
  });

  it('drops transactions that ended below the log start offset and refuses out-of-order entries', () => {
    const all = randomAborted(7, 5000);
    const idx = new AbortedTxnIndex();
    for (const t of all) idx.add(t);
    const start = all[2500]!.lastOffset;
    idx.dropBefore(start);
    const kept = all.filter((t) => t.lastOffset >= start);
    expect(idx.length).toBe(kept.length);
    expect(idx.toArray()).toEqual(kept);
    expect(idx.overlapping(0, start + 100)).toEqual(scan(kept, 0, start + 100));
    idx.dropBefore(Number.MAX_SAFE_INTEGER);
    expect(idx.length).toBe(0);
    idx.add({ producerId: 1, firstOffset: 10, lastOffset: 20 });
    expect(() => idx.add({ producerId: 2, firstOffset: 5, lastOffset: 19 })).toThrow(/out of order/);
    expect(idx.overlapping(0, 11)).toEqual([{ producerId: 1, firstOffset: 10, lastOffset: 20 }]);
  });
});

describe('producer state expiration (producer.id.expiration.ms)', () => {
  const append = (
    pl: PartitionLog,
    o: { producerId: number; seq: number; transactional?: boolean; timestamp?: number },
  ) => {
    const b = encodeRecordBatch({
      producerId: o.producerId,
      producerEpoch: 0,
      baseSequence: o.seq,
      isTransactional: o.transactional,
      records: [{ key: null, value: `v${o.producerId}-${o.seq}`, timestamp: o.timestamp ?? Date.now() }],
    });
    return pl.append(b, readRecordBatchHeader(b)!);
  };

  it('drops idle producers but not one with a transaction open in the partition', () => {
    const pl = new PartitionLog('t', 0, join(tempDir(), 't-0'), 1 << 20, silentLogger());
    for (let pid = 1; pid <= 200; pid++) append(pl, { producerId: pid, seq: 0 });
    append(pl, { producerId: 500, seq: 0, transactional: true });
    expect(pl.producers.size).toBe(201);
    const now = Date.now();
    expect(pl.expireProducers(60_000, now)).toBe(0);
    expect(pl.expireProducers(60_000, now + 60_001)).toBe(200);
    expect([...pl.producers.keys()]).toEqual([500]);
    // An expired producer is a new one again: its next sequence is accepted wherever it starts.
    const b = encodeRecordBatch({
      producerId: 7,
      producerEpoch: 0,
      baseSequence: 5,
      records: [{ key: null, value: 'x', timestamp: now }],
    });
    expect(pl.checkSequence(readRecordBatchHeader(b)!)).toEqual({ kind: 'append' });
    pl.close();
  });

  it("rebuilds producer state on recovery with the batches' timestamps, so long-idle producers expire", () => {
    const dir = join(tempDir(), 't-0');
    const pl = new PartitionLog('t', 0, dir, 1 << 20, silentLogger());
    const now = Date.now();
    append(pl, { producerId: 1, seq: 0, timestamp: now - 10 * 86_400_000 });
    append(pl, { producerId: 2, seq: 0, timestamp: now });
    pl.close();
    const again = new PartitionLog('t', 0, dir, 1 << 20, silentLogger());
    expect(again.producers.size).toBe(2);
    expect(again.expireProducers(86_400_000, now + 1000)).toBe(1);
    expect([...again.producers.keys()]).toEqual([2]);
    again.close();
  });
});

describe('transaction coordinator in a long run', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  function open(dir: string, expirationMs: number) {
    const log = silentLogger();
    const logs = new LogManager(join(dir, 'logs'), 1 << 24, log);
    const groups = new GroupCoordinator(
      dir,
      logs,
      { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 },
      log,
    );
    const txns = new TxnCoordinator(
      dir,
      logs,
      groups,
      { maxTimeoutMs: 900_000, abortCheckIntervalMs: 10, transactionalIdExpirationMs: expirationMs },
      log,
    );
    return {
      logs,
      groups,
      txns,
      close() {
        txns.close();
        groups.close();
        logs.close();
      },
    };
  }

  /** One transaction of an exactly-once sink: a fresh transactional id, one record, commit (or abort). */
  function transaction(
    b: ReturnType<typeof open>,
    id: string,
    commit: boolean,
    end = true,
  ): { producerId: number; producerEpoch: number } {
    const init = b.txns.initProducerId(id, 60_000);
    expect(init.errorCode).toBe(0);
    const { producerId, producerEpoch } = init;
    const added = b.txns.addPartitions(id, producerId, producerEpoch, [{ name: 'out', partitions: [0] }], 47);
    expect(added[0]!.partitions[0]!.errorCode).toBe(0);
    expect(b.txns.checkProduce(producerId, producerEpoch, 'out', 0)).toBe(0);
    const batch = encodeRecordBatch({
      producerId,
      producerEpoch,
      baseSequence: 0,
      isTransactional: true,
      records: [{ key: null, value: id, timestamp: Date.now() }],
    });
    b.logs.partition('out', 0)!.append(batch, readRecordBatchHeader(batch)!);
    if (end) expect(b.txns.endTxn(id, producerId, producerEpoch, commit, 47)).toBe(0);
    return { producerId, producerEpoch };
  }

  it('forgets expired transactional ids, compacts its journal while running, and restores the live state when reopened', async () => {
    const dir = tempDir();
    const journal = join(dir, 'transactions.journal');
    const expirationMs = 100;
    let b = open(dir, expirationMs);
    b.logs.create('out', 1);
    const N = 5000;
    let maxIds = 0;
    let maxJournal = 0;
    const first = transaction(b, 'sink-0', true);
    for (let i = 1; i < N; i++) {
      transaction(b, `sink-${i}`, i % 10 !== 0);
      if (i % 100 === 0) {
        maxIds = Math.max(maxIds, b.txns.stats().transactionalIds);
        maxJournal = Math.max(maxJournal, statSync(journal).size);
        await sleep(20); // lets the expiration tick run (and caps the rate: at most ~5000 transactions/s)
      }
    }
    const open1 = transaction(b, 'still-open', true, false);
    const after = await waitFor('the ids to expire', () => b.txns.stats(), {
      until: (st) => st.transactionalIds === 1,
      timeoutMs: 10_000,
    });
    maxJournal = Math.max(maxJournal, statSync(journal).size);
    // Without expiration the coordinator would hold all 5001 ids; with it, only the recent ones.
    expect(maxIds).toBeLessThan(1500);
    expect(after).toMatchObject({ transactionalIds: 1, ongoing: 1 }); // only the open transaction is left
    // Uncompacted, the journal would have ~5 entries of ~250 bytes per transaction (~5 MB); it
    // is compacted at max(1 MiB, 4x the live state).
    expect(maxJournal).toBeLessThan(1.5 * 1024 * 1024);
    console.log(
      `5000 transactions: at most ${maxIds} live transactional ids, journal at most ${maxJournal} bytes; after expiry ${after.transactionalIds} ids, journal ${after.journalBytes} bytes`,
    );
    // An expired id is a new id again: a new producer id at epoch 0.
    const reborn = b.txns.initProducerId('sink-0', 60_000);
    expect(reborn).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    expect(reborn.producerId).not.toBe(first.producerId);
    expect(reborn.producerId).toBeGreaterThan(open1.producerId);
    const pl = b.logs.partition('out', 0)!;
    const lso = pl.lastStableOffset;
    const aborted = pl.abortedTxns.length;
    expect(aborted).toBe(Math.floor((N - 1) / 10));

    // Reopened on the same directory (the journal as a crash leaves it: appends, no close).
    b.close();
    b = open(dir, 60_000);
    expect(b.txns.stats()).toMatchObject({ transactionalIds: 2, ongoing: 1 });
    const pl2 = b.logs.partition('out', 0)!;
    expect(pl2.lastStableOffset).toBe(lso);
    expect(pl2.abortedTxns.length).toBe(aborted);
    // The open transaction survives and can still be committed by its producer id and epoch.
    expect(b.txns.endTxn('still-open', open1.producerId, open1.producerEpoch, true, 47)).toBe(0);
    expect(pl2.lastStableOffset).toBe(pl2.logEndOffset);
    // Producer ids never go back, though the ids that had them were forgotten.
    const fresh = b.txns.initProducerId('brand-new', 60_000);
    expect(fresh.producerId).toBeGreaterThan(reborn.producerId);
    expect(b.txns.initProducerId('sink-0', 60_000)).toMatchObject({ producerId: reborn.producerId, producerEpoch: 1 });
    b.close();
  });

  it('compacts the journal of a coordinator whose live state stays small', () => {
    const dir = tempDir();
    const b = open(dir, 7 * 86_400_000);
    b.logs.create('out', 1);
    // The same transactional id over and over: one live id, an ever longer history.
    for (let i = 0; i < 6000; i++) transaction(b, 'one-id', true);
    const size = statSync(join(dir, 'transactions.journal')).size;
    expect(size).toBeLessThan(1.1 * 1024 * 1024);
    expect(b.txns.stats().transactionalIds).toBe(1);
    b.close();
    const again = open(dir, 7 * 86_400_000);
    expect(again.txns.initProducerId('one-id', 60_000)).toMatchObject({ errorCode: 0, producerEpoch: 6000 });
    again.close();
  });
});

describe('group coordinator journal', () => {
  it('is compacted while running: offsets committed at every checkpoint do not grow it without bound', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-kafka-state-'));
    dirs.push(dir);
    const log = silentLogger();
    const logs = new LogManager(join(dir, 'logs'), 1 << 24, log);
    const opts = { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 };
    let groups = new GroupCoordinator(dir, logs, opts, log);
    for (let i = 0; i < 40_000; i++)
      groups.commit('job-group', 'in', i % 4, { offset: i, metadata: null, leaderEpoch: 0 });
    // ~80 bytes per commit: ~3 MB uncompacted.
    expect(statSync(join(dir, 'consumer-offsets.journal')).size).toBeLessThan(1.1 * 1024 * 1024);
    groups.close();
    groups = new GroupCoordinator(dir, logs, opts, log);
    expect([0, 1, 2, 3].map((p) => groups.committed('job-group', 'in', p)?.offset)).toEqual([
      39_996, 39_997, 39_998, 39_999,
    ]);
    groups.close();
    logs.close();
  });
});
