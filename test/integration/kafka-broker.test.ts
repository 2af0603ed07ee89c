// Weir's development Kafka broker (`weir kafka-broker`) as a real process, exercised by
// independent clients: kafkajs, librdkafka (kcat) and Weir's own KafkaConnection.
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer, type EachMessagePayload, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiKeys,
  Compression,
  decodeRecordBatches,
  decodeResponse,
  encodeRecordBatch,
  FrameReader,
  KafkaConnection,
} from '../../common/kafka/protocol/index.js';
import { sleep, waitFor } from '../helpers/eventually.js';
import { createTopic, startKafka, uniqueTopic, type TestKafka } from '../helpers/kafka.js';

const KCAT = '/usr/bin/kcat';
const haveKcat = existsSync(KCAT);
if (!haveKcat && process.env.WEIR_REQUIRE_SERVICES)
  throw new Error(`${KCAT} is missing and WEIR_REQUIRE_SERVICES is set`);
/** kcat tests run when kcat is installed; without it they are skipped (unless WEIR_REQUIRE_SERVICES). */
const itKcat = haveKcat ? it : it.skip;
const KCAT_MISSING = haveKcat ? '' : ' (skipped: /usr/bin/kcat is not installed)';

let kafka: TestKafka;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  kafka = await startKafka();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await kafka?.stop();
});

function client(clientId = 'weir-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: [kafka.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
}

async function producer(opts: Parameters<Kafka['producer']>[0] = {}): Promise<Producer> {
  const p = client().producer(opts);
  await p.connect();
  cleanups.push(() => p.disconnect());
  return p;
}

interface Got {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function toGot({ partition, message }: EachMessagePayload): Got {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
  return {
    partition,
    offset: Number(message.offset),
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers,
  };
}

/** A started consumer that collects what it receives. */
async function consume(
  topic: string,
  groupId: string,
  opts: { readUncommitted?: boolean; autoCommit?: boolean } = {},
): Promise<{ consumer: Consumer; got: Got[]; stop(): Promise<void> }> {
  const consumer = client(`c-${groupId}`).consumer({
    groupId,
    readUncommitted: opts.readUncommitted ?? false,
    heartbeatInterval: 300,
    sessionTimeout: 6000,
    maxWaitTimeInMs: 200,
  });
  const got: Got[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: opts.autoCommit ?? true,
    autoCommitInterval: 100,
    eachMessage: async (p) => void got.push(toGot(p)),
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await consumer.disconnect();
  };
  cleanups.push(stop);
  return { consumer, got, stop };
}

function kcat(args: string[], input?: string, timeoutMs = 20_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = execFile(KCAT, ['-b', kafka.bootstrap, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
    if (input !== undefined) p.stdin!.end(input);
  });
}

describe('kafka-broker with kafkajs', () => {
  it('creates, lists and deletes topics with the admin client', async () => {
    const admin = client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const a = uniqueTopic('admin-a');
    const b = uniqueTopic('admin-b');
    await admin.createTopics({
      topics: [
        { topic: a, numPartitions: 3 },
        { topic: b, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([a, b]));
    const meta = await admin.fetchTopicMetadata({ topics: [a] });
    expect(meta.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    expect(meta.topics[0]!.partitions.every((p) => p.leader === 0)).toBe(true);
    // Creating it again is refused with TOPIC_ALREADY_EXISTS.
    expect(await admin.createTopics({ topics: [{ topic: a, numPartitions: 1 }] })).toBe(false);
    await admin.deleteTopics({ topics: [b] });
    const after = await admin.listTopics();
    expect(after).toContain(a);
    expect(after).not.toContain(b);
  });

  it('produces and consumes records with keys and headers', async () => {
    const topic = uniqueTopic('kv');
    await createTopic(kafka.bootstrap, topic, 2);
    const p = await producer();
    await p.send({
      topic,
      messages: Array.from({ length: 20 }, (_, i) => ({
        key: `k${i}`,
        value: `v${i}`,
        headers: { h: `x${i}`, n: String(i) },
        partition: i % 2,
      })),
    });
    const c = await consume(topic, uniqueTopic('g-kv'));
    await waitFor('20 records', () => c.got.length >= 20);
    expect(c.got).toHaveLength(20);
    for (const g of c.got) {
      const i = Number(g.key!.slice(1));
      expect(g.value).toBe(`v${i}`);
      expect(g.headers).toEqual({ h: `x${i}`, n: String(i) });
      expect(g.partition).toBe(i % 2);
    }
    for (const part of [0, 1])
      expect(c.got.filter((g) => g.partition === part).map((g) => g.offset)).toEqual([...Array(10).keys()]);
  });

  it('shares a 3-partition topic between two group members, rebalances when one leaves, and resumes from committed offsets', async () => {
    const topic = uniqueTopic('group');
    const groupId = uniqueTopic('g');
    await createTopic(kafka.bootstrap, topic, 3);
    const p = await producer();
    const send = (from: number, n: number) =>
      p.send({
        topic,
        messages: Array.from({ length: n }, (_, i) => ({ value: String(from + i), partition: (from + i) % 3 })),
      });
    await send(0, 30);
    const c1 = await consume(topic, groupId);
    const c2 = await consume(topic, groupId);
    await waitFor('30 records across both members', () => c1.got.length + c2.got.length >= 30);
    // Both members got some partitions (a rebalance happened when the second joined).
    const admin = client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await waitFor('two members with assignments', async () => {
      const d = (await admin.describeGroups([groupId])).groups[0]!;
      return d.state === 'Stable' && d.members.length === 2 && d.members.every((m) => m.memberAssignment.length > 0);
    });
    await send(30, 30);
    await waitFor('60 records', () => new Set([...c1.got, ...c2.got].map((g) => g.value)).size >= 60);
    expect(c1.got.length).toBeGreaterThan(0);
    expect(c2.got.length).toBeGreaterThan(0);
    // One member leaves: the other takes over all three partitions.
    await c2.stop();
    await waitFor('one member left', async () => {
      const d = (await admin.describeGroups([groupId])).groups[0]!;
      return d.state === 'Stable' && d.members.length === 1;
    });
    await send(60, 30);
    await waitFor(
      'the remaining member to get the new records',
      () => c1.got.filter((g) => Number(g.value) >= 60).length >= 30,
    );
    const seen = new Set([...c1.got, ...c2.got].map((g) => g.value));
    expect(seen.size).toBe(90);
    await waitFor('offsets committed', async () => {
      const offs = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offs[0]!.partitions.every((x) => x.offset === '30');
    });
    await c1.stop();
    // A new member of the group resumes from the committed offsets: only new records arrive.
    await send(90, 9);
    const c3 = await consume(topic, groupId);
    await waitFor('9 new records', () => c3.got.length >= 9);
    // No more may come, a non-event: 500 ms is many fetch rounds of a consumer on localhost.
    await sleep(500);
    expect(c3.got.map((g) => Number(g.value)).sort((a, b) => a - b)).toEqual([...Array(9).keys()].map((i) => 90 + i));
  });

  it("appends an idempotent producer's records exactly once", async () => {
    const topic = uniqueTopic('idem');
    await createTopic(kafka.bootstrap, topic, 1);
    const p = await producer({ idempotent: true, maxInFlightRequests: 1 });
    for (let i = 0; i < 5; i++)
      await p.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `${i}-${j}` })) });
    const c = await consume(topic, uniqueTopic('g-idem'));
    await waitFor('50 records', () => c.got.length >= 50);
    expect(c.got.map((g) => g.offset)).toEqual([...Array(50).keys()]);
  });

  it('shows committed transactions to read_committed consumers, and aborted ones only to read_uncommitted ones', async () => {
    const topic = uniqueTopic('txn');
    await createTopic(kafka.bootstrap, topic, 2);
    const p = await producer({ transactionalId: uniqueTopic('tx'), idempotent: true, maxInFlightRequests: 1 });
    const t1 = await p.transaction();
    await t1.send({ topic, messages: [0, 1, 2, 3].map((i) => ({ value: `committed-${i}`, partition: i % 2 })) });
    await t1.commit();
    const t2 = await p.transaction();
    await t2.send({ topic, messages: [0, 1, 2, 3].map((i) => ({ value: `aborted-${i}`, partition: i % 2 })) });
    await t2.abort();
    const t3 = await p.transaction();
    await t3.send({ topic, messages: [{ value: 'committed-4', partition: 0 }] });
    await t3.commit();
    const committed = await consume(topic, uniqueTopic('g-rc'), { readUncommitted: false });
    const uncommitted = await consume(topic, uniqueTopic('g-ru'), { readUncommitted: true });
    await waitFor('committed records', () => committed.got.length >= 5);
    await waitFor('all records', () => uncommitted.got.length >= 9);
    // No more may come, a non-event: 500 ms is many fetch rounds of a consumer on localhost.
    await sleep(500);
    expect(committed.got.map((g) => g.value).sort()).toEqual([
      'committed-0',
      'committed-1',
      'committed-2',
      'committed-3',
      'committed-4',
    ]);
    expect(uncommitted.got.map((g) => g.value).sort()).toEqual([
      'aborted-0',
      'aborted-1',
      'aborted-2',
      'aborted-3',
      'committed-0',
      'committed-1',
      'committed-2',
      'committed-3',
      'committed-4',
    ]);
  });

  it('commits consumer offsets inside a transaction (sendOffsets), visible only once it commits', async () => {
    const topic = uniqueTopic('txo');
    const groupId = uniqueTopic('g-txo');
    await createTopic(kafka.bootstrap, topic, 1);
    const admin = client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const p = await producer({ transactionalId: uniqueTopic('tx-o'), idempotent: true, maxInFlightRequests: 1 });
    const committedOffset = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset;
    const t = await p.transaction();
    await t.send({ topic, messages: [{ value: 'a' }] });
    await t.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset: '42' }] }],
    });
    expect(await committedOffset()).toBe('-1');
    await t.commit();
    expect(await committedOffset()).toBe('42');
    const t2 = await p.transaction();
    await t2.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic, partitions: [{ partition: 0, offset: '50' }] }],
    });
    await t2.abort();
    expect(await committedOffset()).toBe('42');
  });
});

describe("kafka-broker with Weir's KafkaConnection", () => {
  it('publishes a transaction with EndTxn sent from a fresh connection that presents its producer id and epoch', async () => {
    const topic = uniqueTopic('resume');
    const txnId = uniqueTopic('resume-tx');
    await createTopic(kafka.bootstrap, topic, 1);
    // Connection 1 opens a transaction and writes into it, then goes away without ending it.
    const c1 = await KafkaConnection.connect(kafka.host, kafka.port, { clientId: 'writer' });
    const init = await c1.request(ApiKeys.InitProducerId, 1, { transactionalId: txnId, transactionTimeoutMs: 60_000 });
    expect(init.errorCode).toBe(0);
    const { producerId, producerEpoch } = init;
    const add = await c1.request(ApiKeys.AddPartitionsToTxn, 1, {
      v3AndBelowTransactionalId: txnId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions: [0] }],
    });
    expect(add.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(0);
    const records = encodeRecordBatch({
      producerId,
      producerEpoch,
      baseSequence: 0,
      isTransactional: true,
      records: [{ key: 'k', value: 'resumed', timestamp: Date.now() }],
    });
    const produced = await c1.request(ApiKeys.Produce, 7, {
      transactionalId: txnId,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
    await c1.close();
    const lso = async (c: KafkaConnection) =>
      (
        await c.request(ApiKeys.ListOffsets, 2, {
          replicaId: -1,
          isolationLevel: 1,
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
        })
      ).topics[0].partitions[0].offset;
    // Connection 2 (a restarted process) ends the transaction with the recorded producer id and epoch.
    const c2 = await KafkaConnection.connect(kafka.host, kafka.port, { clientId: 'resumer' });
    expect(await lso(c2)).toBe(0);
    const end = await c2.request(ApiKeys.EndTxn, 1, {
      transactionalId: txnId,
      producerId,
      producerEpoch,
      committed: true,
    });
    expect(end.errorCode).toBe(0);
    expect(await lso(c2)).toBe(2); // the record and the commit marker
    // Retrying the commit is harmless; a wrong epoch is fenced.
    expect(
      (await c2.request(ApiKeys.EndTxn, 1, { transactionalId: txnId, producerId, producerEpoch, committed: true }))
        .errorCode,
    ).toBe(0);
    expect(
      (
        await c2.request(ApiKeys.EndTxn, 2, {
          transactionalId: txnId,
          producerId,
          producerEpoch: producerEpoch - 1,
          committed: true,
        })
      ).errorCode,
    ).toBe(90);
    await c2.close();
    const c = await consume(topic, uniqueTopic('g-resume'));
    await waitFor('the resumed record', () => c.got.length >= 1);
    expect(c.got[0]!.value).toBe('resumed');
  });

  it('survives malformed requests: the connection is closed, the broker keeps serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const s = connect(kafka.port, kafka.host, () => {
        // A frame whose body is garbage for its header (Metadata v1 with a truncated topic array).
        const body = Buffer.from([0, 3, 0, 1, 0, 0, 0, 7, 0xff, 0xff, 0, 0, 0, 5, 0, 9]);
        const frame = Buffer.alloc(4 + body.length);
        frame.writeInt32BE(body.length, 0);
        body.copy(frame, 4);
        s.write(frame);
      });
      s.on('close', () => resolve());
      s.on('error', reject);
      s.setTimeout(5000, () => reject(new Error('the broker did not close the connection')));
    });
    const c = await KafkaConnection.connect(kafka.host, kafka.port);
    const versions = await c.apiVersions();
    expect(versions.get(ApiKeys.Fetch)).toEqual({ minVersion: 4, maxVersion: 11 });
    await c.close();
  });
});

describe('kafka-broker protocol behaviour (KafkaConnection)', () => {
  const batch = (o: {
    producerId?: number;
    producerEpoch?: number;
    baseSequence?: number;
    isTransactional?: boolean;
    values: string[];
    timestamp?: number;
  }) =>
    encodeRecordBatch({
      producerId: o.producerId ?? -1,
      producerEpoch: o.producerEpoch ?? -1,
      baseSequence: o.baseSequence ?? -1,
      isTransactional: o.isTransactional,
      records: o.values.map((v, i) => ({ key: null, value: v, timestamp: (o.timestamp ?? 1_000_000) + i })),
    });
  const produce = async (c: KafkaConnection, topic: string, records: Buffer, transactionalId: string | null = null) =>
    (
      await c.request(ApiKeys.Produce, 7, {
        transactionalId,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
      })
    ).responses[0].partitionResponses[0] as {
      errorCode: number;
      baseOffset: number;
    };
  const listOffset = async (c: KafkaConnection, topic: string, timestamp: number, isolationLevel = 0) =>
    (
      await c.request(ApiKeys.ListOffsets, 5, {
        replicaId: -1,
        isolationLevel,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
      })
    ).topics[0].partitions[0];
  const fetch = (
    c: KafkaConnection,
    topic: string,
    fetchOffset: number,
    o: { maxWaitMs?: number; partitionMaxBytes?: number; isolationLevel?: number } = {},
  ) =>
    c.request(ApiKeys.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: o.maxWaitMs ?? 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: o.isolationLevel ?? 0,
      topics: [
        { topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: o.partitionMaxBytes ?? 1 << 20 }] },
      ],
    });
  let conn: KafkaConnection;
  beforeAll(async () => {
    conn = await KafkaConnection.connect(kafka.host, kafka.port, { clientId: 'protocol-test' });
    cleanups.push(() => conn.close());
  });

  it('acknowledges a duplicate idempotent batch with its original offset and refuses out-of-order sequences', async () => {
    const topic = uniqueTopic('dup');
    await createTopic(kafka.bootstrap, topic, 1);
    const { producerId, producerEpoch } = await conn.request(ApiKeys.InitProducerId, 1, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
    });
    const b0 = batch({ producerId, producerEpoch, baseSequence: 0, values: ['a', 'b'] });
    expect(await produce(conn, topic, Buffer.from(b0))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(
      await produce(conn, topic, batch({ producerId, producerEpoch, baseSequence: 2, values: ['c'] })),
    ).toMatchObject({ errorCode: 0, baseOffset: 2 });
    // The first batch again (a retry after a lost response): acknowledged at offset 0, not appended.
    expect(await produce(conn, topic, Buffer.from(b0))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(
      (await produce(conn, topic, batch({ producerId, producerEpoch, baseSequence: 9, values: ['x'] }))).errorCode,
    ).toBe(45);
    expect((await listOffset(conn, topic, -1)).offset).toBe(3);
    // Older epochs are refused.
    expect(
      (
        await produce(
          conn,
          topic,
          batch({ producerId, producerEpoch: producerEpoch - 1, baseSequence: 3, values: ['y'] }),
        )
      ).errorCode,
    ).toBe(47);
  });

  it('refuses transactional records for a partition not added to the transaction, and fences the old producer on re-initialization', async () => {
    const topic = uniqueTopic('fence');
    const txnId = uniqueTopic('fence-tx');
    await createTopic(kafka.bootstrap, topic, 1);
    const init = await conn.request(ApiKeys.InitProducerId, 1, {
      transactionalId: txnId,
      transactionTimeoutMs: 60_000,
    });
    const { producerId, producerEpoch } = init;
    const rec = (seq: number, v: string, epoch = producerEpoch) =>
      batch({ producerId, producerEpoch: epoch, baseSequence: seq, isTransactional: true, values: [v] });
    expect((await produce(conn, topic, rec(0, 'early'), txnId)).errorCode).toBe(48); // INVALID_TXN_STATE
    await conn.request(ApiKeys.AddPartitionsToTxn, 1, {
      v3AndBelowTransactionalId: txnId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions: [0] }],
    });
    expect((await produce(conn, topic, rec(0, 'open'), txnId)).errorCode).toBe(0);
    expect(await listOffset(conn, topic, -1, 1)).toMatchObject({ offset: 0 });
    // A new incarnation: the open transaction is aborted and the old epoch fenced.
    const again = await conn.request(ApiKeys.InitProducerId, 1, {
      transactionalId: txnId,
      transactionTimeoutMs: 60_000,
    });
    expect(again).toMatchObject({ errorCode: 0, producerId });
    expect(again.producerEpoch).toBeGreaterThan(producerEpoch);
    expect(await listOffset(conn, topic, -1, 1)).toMatchObject({ offset: 2 }); // record + abort marker
    expect((await produce(conn, topic, rec(1, 'zombie'), txnId)).errorCode).toBe(47);
    expect(
      (await conn.request(ApiKeys.EndTxn, 2, { transactionalId: txnId, producerId, producerEpoch, committed: true }))
        .errorCode,
    ).toBe(90);
    const fetched = await fetch(conn, topic, 0, { isolationLevel: 1 });
    expect(fetched.responses[0].partitions[0].abortedTransactions).toEqual([{ producerId, firstOffset: 0 }]);
  });

  it('aborts a transaction that outlives its timeout', async () => {
    const topic = uniqueTopic('timeout');
    const txnId = uniqueTopic('timeout-tx');
    await createTopic(kafka.bootstrap, topic, 1);
    const { producerId, producerEpoch } = await conn.request(ApiKeys.InitProducerId, 1, {
      transactionalId: txnId,
      transactionTimeoutMs: 1000,
    });
    await conn.request(ApiKeys.AddPartitionsToTxn, 1, {
      v3AndBelowTransactionalId: txnId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions: [0] }],
    });
    expect(
      (
        await produce(
          conn,
          topic,
          batch({ producerId, producerEpoch, baseSequence: 0, isTransactional: true, values: ['slow'] }),
          txnId,
        )
      ).errorCode,
    ).toBe(0);
    expect((await listOffset(conn, topic, -1, 1)).offset).toBe(0);
    await waitFor(
      'the broker to abort the transaction',
      async () => (await listOffset(conn, topic, -1, 1)).offset === 2,
      { timeoutMs: 10_000 },
    );
    expect(
      (await conn.request(ApiKeys.EndTxn, 1, { transactionalId: txnId, producerId, producerEpoch, committed: true }))
        .errorCode,
    ).toBe(47);
  });

  it('long-polls a fetch until data arrives, honours partition max bytes, and finds offsets by timestamp', async () => {
    const topic = uniqueTopic('poll');
    await createTopic(kafka.bootstrap, topic, 1);
    const other = await KafkaConnection.connect(kafka.host, kafka.port);
    cleanups.push(() => other.close());
    // A long maxWaitMs (below the connection's 30 s request timeout): answering at it instead of on
    // the data would take far longer than any slow machine needs for the round trip.
    const LONG_POLL_MS = 20_000;
    const pending = fetch(conn, topic, 0, { maxWaitMs: LONG_POLL_MS });
    let answered = false;
    void pending.then(
      () => (answered = true),
      () => (answered = true),
    );
    // Holding an empty fetch is a non-event: 300 ms is far beyond a round trip on localhost.
    await sleep(300);
    expect(answered, 'an empty fetch was answered at once').toBe(false);
    const producedAt = performance.now();
    await produce(other, topic, batch({ values: ['t0', 't1'], timestamp: 5000 }));
    const got = await pending;
    expect(performance.now() - producedAt).toBeLessThan(LONG_POLL_MS / 2);
    expect(
      decodeRecordBatches(got.responses[0].partitions[0].records).flatMap((b) =>
        b.records.map((r) => r.value!.toString()),
      ),
    ).toEqual(['t0', 't1']);
    // Nothing new: the fetch waits maxWaitMs and returns empty.
    const t = Date.now();
    const empty = await fetch(conn, topic, 2, { maxWaitMs: 400 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(350);
    expect(empty.responses[0].partitions[0].records.length).toBe(0);
    // acks=0: no response at all; the records still land.
    const noAck = await other.request(ApiKeys.Produce, 7, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 5000,
      topicData: [
        { name: topic, partitionData: [{ index: 0, records: batch({ values: ['t2', 't3'], timestamp: 6000 }) }] },
      ],
    });
    expect(noAck).toBeUndefined();
    await waitFor('the acks=0 records', async () => (await listOffset(conn, topic, -1)).offset === 4);
    // A tiny partitionMaxBytes still returns the first whole batch (KIP-74), and only that one.
    const small = await fetch(conn, topic, 0, { partitionMaxBytes: 10 });
    expect(decodeRecordBatches(small.responses[0].partitions[0].records).map((b) => b.baseOffset)).toEqual([0]);
    expect(await listOffset(conn, topic, 5001)).toMatchObject({ offset: 1, timestamp: 5001 });
    expect(await listOffset(conn, topic, 5500)).toMatchObject({ offset: 2, timestamp: 6000 });
    expect(await listOffset(conn, topic, 9999)).toMatchObject({ offset: -1 });
    expect(await listOffset(conn, topic, -2)).toMatchObject({ offset: 0 });
    const outOfRange = await fetch(conn, topic, 99);
    expect(outOfRange.responses[0].partitions[0].errorCode).toBe(1);
  });

  it('sustains a high produce and fetch rate of small records', async () => {
    const topic = uniqueTopic('rate');
    await createTopic(kafka.bootstrap, topic, 1);
    const N = 200_000;
    const perBatch = 500;
    const value = Buffer.alloc(100, 'x');
    let t = Date.now();
    const inflight: Promise<{ errorCode: number }>[] = [];
    for (let i = 0; i < N; i += perBatch) {
      inflight.push(
        produce(
          conn,
          topic,
          encodeRecordBatch({ records: Array.from({ length: perBatch }, () => ({ key: null, value, timestamp: t })) }),
        ),
      );
      if (inflight.length >= 8) expect((await inflight.shift()!).errorCode).toBe(0);
    }
    for (const r of await Promise.all(inflight)) expect(r.errorCode).toBe(0);
    const produceRate = N / ((Date.now() - t) / 1000);
    t = Date.now();
    let offset = 0;
    let count = 0;
    while (offset < N) {
      const r = await fetch(conn, topic, offset, { partitionMaxBytes: 4 << 20 });
      for (const b of decodeRecordBatches(r.responses[0].partitions[0].records)) {
        count += b.records.length;
        offset = b.baseOffset + b.lastOffsetDelta + 1;
      }
    }
    const fetchRate = count / ((Date.now() - t) / 1000);
    process.stdout.write(
      `kafka-broker: produced ${Math.round(produceRate)} records/s, fetched and decoded ${Math.round(fetchRate)} records/s (100-byte records)\n`,
    );
    expect(count).toBe(N);
    // ~100k records/s is the target; the floor leaves room for a busy test machine.
    expect(produceRate).toBeGreaterThan(30_000);
    expect(fetchRate).toBeGreaterThan(30_000);
  });

  it('answers an ApiVersions version it does not know with a v0 response carrying UNSUPPORTED_VERSION (KIP-511)', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = connect(kafka.port, kafka.host, () => {
        // ApiVersions v42, request header v2, with an opaque future body.
        const body = Buffer.from([0, 18, 0, 42, 0, 0, 0, 9, 0, 1, 0x63, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0]);
        const frame = Buffer.alloc(4 + body.length);
        frame.writeInt32BE(body.length, 0);
        body.copy(frame, 4);
        s.write(frame);
      });
      const frames = new FrameReader();
      s.on('data', (chunk) => {
        const [f] = frames.push(chunk);
        if (f) {
          s.destroy();
          resolve(f);
        }
      });
      s.on('error', reject);
    });
    const res = decodeResponse(ApiKeys.ApiVersions, 0, reply);
    expect(res.correlationId).toBe(9);
    expect(res.body.errorCode).toBe(35);
    expect(res.body.apiKeys).toContainEqual({ apiKey: ApiKeys.ApiVersions, minVersion: 0, maxVersion: 3 });
  });
});

describe('kafka-broker with kcat (librdkafka)', () => {
  itKcat(`lists metadata, produces keys and headers, consumes them${KCAT_MISSING}`, async () => {
    const topic = uniqueTopic('kcat');
    await kcat(['-P', '-t', topic, '-K:', '-H', 'k=v', '-H', 'n=1'], 'a:1\nb:2\nc:3\n');
    const meta = await kcat(['-L', '-t', topic]);
    expect(meta.stdout).toContain(`topic "${topic}" with 1 partitions`);
    expect(meta.stdout).toContain('broker 0 at 127.0.0.1:');
    const out = await kcat(['-C', '-t', topic, '-e', '-f', '%k %s %h\n']);
    expect(out.stdout.trim().split('\n')).toEqual(['a 1 k=v,n=1', 'b 2 k=v,n=1', 'c 3 k=v,n=1']);
    // kafkajs reads what librdkafka wrote.
    const c = await consume(topic, uniqueTopic('g-kcat'));
    await waitFor('3 records', () => c.got.length >= 3);
    expect(c.got[0]).toMatchObject({ key: 'a', value: '1', headers: { k: 'v', n: '1' } });
    await c.stop();
    // Compressed batches: librdkafka sends snappy (as a raw block) and gzip; kcat reads them back,
    // and so does Weir's codec.
    const big = 'x'.repeat(300);
    for (const codec of ['snappy', 'gzip'])
      await kcat(['-P', '-t', topic, '-z', codec], `${codec}-1 ${big}\n${codec}-2 ${big}\n`);
    const all = await kcat(['-C', '-t', topic, '-e', '-f', '%s\n']);
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual(['1', '2', '3', 'snappy-1', 'snappy-2', 'gzip-1', 'gzip-2']);
    const conn = await KafkaConnection.connect(kafka.host, kafka.port);
    const fetched = await conn.request(ApiKeys.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 3, partitionMaxBytes: 1 << 20 }] }],
    });
    await conn.close();
    const batches = decodeRecordBatches(fetched.responses[0].partitions[0].records);
    // librdkafka may split one codec's records over batches (its linger timer); the codecs' order holds.
    expect(batches.map((b) => b.compression).filter((c, i, all) => c !== all[i - 1])).toEqual([
      Compression.Snappy,
      Compression.Gzip,
    ]);
    expect(batches.flatMap((b) => b.records.map((r) => r.value!.toString().split(' ')[0]))).toEqual([
      'snappy-1',
      'snappy-2',
      'gzip-1',
      'gzip-2',
    ]);
  });

  itKcat(`consumes as a balanced consumer group (-G) and commits offsets${KCAT_MISSING}`, async () => {
    const topic = uniqueTopic('kcat-g');
    const groupId = uniqueTopic('kg');
    await createTopic(kafka.bootstrap, topic, 3);
    const p = await producer();
    await p.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ value: `m${i}`, partition: i % 3 })) });
    const out = await kcat(
      [
        '-G',
        groupId,
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'enable.auto.commit=true',
        '-X',
        'auto.commit.interval.ms=100',
        '-c',
        '30',
        '-f',
        '%s\n',
        topic,
      ],
      undefined,
      30_000,
    );
    expect(out.stdout.trim().split('\n').sort()).toEqual(Array.from({ length: 30 }, (_, i) => `m${i}`).sort());
    const admin = client().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const offs = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(offs[0]!.partitions.map((x) => x.offset)).toEqual(['10', '10', '10']);
  });

  itKcat(
    `reads only committed records with isolation.level=read_committed while another transaction is open${KCAT_MISSING}`,
    async () => {
      const topic = uniqueTopic('kcat-rc');
      await createTopic(kafka.bootstrap, topic, 1);
      const p = await producer({ transactionalId: uniqueTopic('tx-k'), idempotent: true, maxInFlightRequests: 1 });
      const t1 = await p.transaction();
      await t1.send({ topic, messages: [{ value: 'c1' }, { value: 'c2' }] });
      await t1.commit();
      const t2 = await p.transaction();
      await t2.send({ topic, messages: [{ value: 'a1' }] });
      await t2.abort();
      const t3 = await p.transaction();
      await t3.send({ topic, messages: [{ value: 'c3' }] });
      await t3.commit();
      const open = await p.transaction();
      await open.send({ topic, messages: [{ value: 'open1' }] });
      const rc = await kcat(['-C', '-t', topic, '-e', '-f', '%s\n', '-X', 'isolation.level=read_committed']);
      expect(rc.stdout.trim().split('\n')).toEqual(['c1', 'c2', 'c3']);
      const ru = await kcat(['-C', '-t', topic, '-e', '-f', '%s\n', '-X', 'isolation.level=read_uncommitted']);
      expect(ru.stdout.trim().split('\n')).toEqual(['c1', 'c2', 'a1', 'c3', 'open1']);
      await open.abort();
    },
  );
});

describe('kafka-broker restart', () => {
  it('keeps topics, the log and committed offsets across a SIGKILL', async () => {
    const topic = uniqueTopic('restart');
    const groupId = uniqueTopic('g-restart');
    await createTopic(kafka.bootstrap, topic, 2);
    const p = client().producer();
    await p.connect();
    await p.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })),
    });
    await p.disconnect();
    // Offsets committed as Flink's Kafka source commits them: no group membership, generation -1.
    const conn = await KafkaConnection.connect(kafka.host, kafka.port);
    const commit = await conn.request(ApiKeys.OffsetCommit, 7, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, committedOffset: 3, committedMetadata: '' },
            { partitionIndex: 1, committedOffset: 4, committedMetadata: null },
          ],
        },
      ],
    });
    expect(commit.topics[0].partitions.map((x: { errorCode: number }) => x.errorCode)).toEqual([0, 0]);
    await conn.close();
    const port = kafka.port;
    await kafka.restart();
    expect(kafka.port).toBe(port);
    const admin2 = client().admin();
    await admin2.connect();
    cleanups.push(() => admin2.disconnect());
    expect(await admin2.listTopics()).toContain(topic);
    const offs = await admin2.fetchOffsets({ groupId, topics: [topic] });
    expect(offs[0]!.partitions.map((x) => [x.partition, x.offset]).sort()).toEqual([
      [0, '3'],
      [1, '4'],
    ]);
    const c = await consume(topic, groupId);
    await waitFor('the records after the committed offsets', () => c.got.length >= 3);
    // No more may come, a non-event: 500 ms is many fetch rounds of a consumer on localhost.
    await sleep(500);
    expect(c.got.map((g) => g.value).sort()).toEqual(['v6', 'v8', 'v9']);
    // New records get the next offsets.
    const p2 = await producer();
    const [meta] = await p2.send({ topic, messages: [{ value: 'after', partition: 0 }] });
    expect(meta!.baseOffset).toBe('5');
  });

  it('recovers from a torn log tail after a SIGKILL by truncating it', async () => {
    if (!kafka.dir) return; // an external broker's files are out of reach
    const topic = uniqueTopic('torn');
    await createTopic(kafka.bootstrap, topic, 1);
    const p = await producer();
    await p.send({ topic, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    const segment = join(kafka.dir, 'logs', `${topic}-0`, '00000000000000000000.log');
    await kafka.restart(() => {
      // Half of a batch, as a crash in the middle of a write leaves it.
      const half = encodeRecordBatch({ baseOffset: 3, records: [{ key: null, value: 'torn', timestamp: 1 }] });
      appendFileSync(segment, half.subarray(0, half.length - 7));
    });
    const p2 = await producer();
    const [meta] = await p2.send({ topic, messages: [{ value: 'd' }] });
    expect(meta!.baseOffset).toBe('3');
    const c = await consume(topic, uniqueTopic('g-torn'));
    await waitFor('4 records', () => c.got.length >= 4);
    expect(c.got.map((g) => g.value)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('kafka-broker in a long run of short transactions', () => {
  // An exactly-once sink's pattern: a new transactional id per subtask and checkpoint, thousands
  // of them, on a broker whose transactional ids expire after half a second (-D), as do idle producers.
  const EXPIRATION_MS = 500;
  let broker: TestKafka | undefined;
  const external = !!process.env.KAFKA_BOOTSTRAP; // a real Kafka's expiration cannot be set from here
  const itOwn = external ? it.skip : it;
  beforeAll(async () => {
    if (external) return;
    broker = await startKafka({
      args: [
        '-D',
        `transactional.id.expiration.ms=${EXPIRATION_MS}`,
        '-D',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms=100',
        '-D',
        `producer.id.expiration.ms=${EXPIRATION_MS}`,
        '-D',
        'producer.id.expiration.check.interval.ms=100',
      ],
    });
    cleanups.push(() => broker!.stop());
  });

  const TXN = (c: KafkaConnection) => ({
    init: (transactionalId: string | null) =>
      c.request<{ errorCode: number; producerId: number; producerEpoch: number }>(ApiKeys.InitProducerId, 1, {
        transactionalId,
        transactionTimeoutMs: 60_000,
      }),
    add: async (transactionalId: string, producerId: number, producerEpoch: number, topic: string) =>
      (
        await c.request(ApiKeys.AddPartitionsToTxn, 1, {
          v3AndBelowTransactionalId: transactionalId,
          v3AndBelowProducerId: producerId,
          v3AndBelowProducerEpoch: producerEpoch,
          v3AndBelowTopics: [{ name: topic, partitions: [0] }],
        })
      ).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode as number,
    produce: async (transactionalId: string | null, topic: string, records: Buffer) =>
      (
        await c.request(ApiKeys.Produce, 7, {
          transactionalId,
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
        })
      ).responses[0].partitionResponses[0] as { errorCode: number; baseOffset: number },
    end: async (transactionalId: string, producerId: number, producerEpoch: number, committed: boolean) =>
      (await c.request(ApiKeys.EndTxn, 1, { transactionalId, producerId, producerEpoch, committed }))
        .errorCode as number,
    lso: async (topic: string) =>
      (
        await c.request(ApiKeys.ListOffsets, 2, {
          replicaId: -1,
          isolationLevel: 1,
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
        })
      ).topics[0].partitions[0].offset as number,
  });

  /** The live transactional ids a replay of the journal yields. */
  const liveIdsInJournal = (file: string) => {
    const live = new Set<string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { t: string; id?: string; txn?: { transactionalId: string } };
      if (e.t === 'txn') live.add(e.txn!.transactionalId);
      else if (e.t === 'rm') live.delete(e.id!);
    }
    return live;
  };

  /** Values read_committed consumers see: every fetched batch but control batches and aborted transactions'. */
  async function committedValues(c: KafkaConnection, topic: string, upTo: number): Promise<string[]> {
    const values: string[] = [];
    const abortedPids = new Set<number>();
    let offset = 0;
    while (offset < upTo) {
      const r = await c.request(ApiKeys.Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 4 << 20,
        isolationLevel: 1,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 4 << 20 }] }],
      });
      const p = r.responses[0].partitions[0];
      expect(p.errorCode).toBe(0);
      for (const a of p.abortedTransactions as { producerId: number }[]) abortedPids.add(a.producerId);
      const batches = decodeRecordBatches(p.records);
      if (batches.length === 0) break;
      for (const b of batches) {
        if (!b.isControl && !abortedPids.has(b.producerId))
          for (const rec of b.records) values.push(rec.value!.toString());
        offset = b.baseOffset + b.lastOffsetDelta + 1;
      }
    }
    return values;
  }

  itOwn(
    'forgets expired transactional ids, keeps its journal bounded, and restores the live state after a SIGKILL',
    async () => {
      const k = broker!;
      const topic = uniqueTopic('eos-long');
      await createTopic(k.bootstrap, topic, 1);
      const journal = join(k.dir!, 'transactions.journal');
      const WORKERS = 8;
      const PER_WORKER = 625; // 5000 transactions
      let maxJournal = 0;
      const sampler = setInterval(() => {
        if (existsSync(journal)) maxJournal = Math.max(maxJournal, statSync(journal).size);
      }, 20);
      const expected: string[] = [];
      let maxProducerId = -1;
      const firstPids = new Map<string, number>();
      const started = Date.now();
      try {
        await Promise.all(
          Array.from({ length: WORKERS }, async (_, w) => {
            const c = await KafkaConnection.connect(k.host, k.port, { clientId: `sink-${w}` });
            const t = TXN(c);
            try {
              for (let n = 0; n < PER_WORKER; n++) {
                const id = `sink-${w}-${n}`;
                const init = await t.init(id);
                expect(init).toMatchObject({ errorCode: 0, producerEpoch: 0 });
                if (n === 0) firstPids.set(id, init.producerId);
                maxProducerId = Math.max(maxProducerId, init.producerId);
                expect(await t.add(id, init.producerId, init.producerEpoch, topic)).toBe(0);
                const records = encodeRecordBatch({
                  producerId: init.producerId,
                  producerEpoch: init.producerEpoch,
                  baseSequence: 0,
                  isTransactional: true,
                  records: [{ key: null, value: id, timestamp: Date.now() }],
                });
                expect((await t.produce(id, topic, records)).errorCode).toBe(0);
                const commit = n % 10 !== 9;
                expect(await t.end(id, init.producerId, init.producerEpoch, commit)).toBe(0);
                if (commit) expected.push(id);
              }
            } finally {
              await c.close();
            }
          }),
        );
      } finally {
        clearInterval(sampler);
      }
      const elapsed = Date.now() - started;
      const c = await KafkaConnection.connect(k.host, k.port, { clientId: 'checker' });
      cleanups.push(() => c.close());
      const t = TXN(c);
      // An open transaction (which never expires) and an idle idempotent producer.
      const open = await t.init('long-open');
      expect(await t.add('long-open', open.producerId, open.producerEpoch, topic)).toBe(0);
      const openRecord = encodeRecordBatch({
        producerId: open.producerId,
        producerEpoch: open.producerEpoch,
        baseSequence: 0,
        isTransactional: true,
        records: [{ key: null, value: 'long-open', timestamp: Date.now() }],
      });
      const openOffset = (await t.produce('long-open', topic, openRecord)).baseOffset;
      const idem = await t.init(null);
      const plain = (seq: number, value: string) =>
        encodeRecordBatch({
          producerId: idem.producerId,
          producerEpoch: idem.producerEpoch,
          baseSequence: seq,
          records: [{ key: null, value, timestamp: Date.now() }],
        });
      const idemTopic = uniqueTopic('idem-expiry');
      await createTopic(k.bootstrap, idemTopic, 1);
      expect((await t.produce(null, idemTopic, plain(0, 'a'))).errorCode).toBe(0);
      expect((await t.produce(null, idemTopic, plain(5, 'gap'))).errorCode).toBe(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
      // Expired ids are gone from memory and journal: InitProducerId treats them as new.
      const live = await waitFor('the journal to hold only the open transaction', () => liveIdsInJournal(journal), {
        until: (ids) => ids.size === 1 && ids.has('long-open'),
      });
      // The producer's state expired: it is a new producer to the partition, whatever its sequence.
      // (A refused batch leaves the producer's state as it was, so probing does not delay the expiry.)
      await waitFor(
        "the idle producer's state to expire",
        async () => (await t.produce(null, idemTopic, plain(5, 'gap'))).errorCode,
        { until: (code) => code !== 45 },
      ).then((code) => expect(code).toBe(0));
      const again = await t.init('sink-0-0');
      expect(again).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      expect(again.producerId).not.toBe(firstPids.get('sink-0-0'));
      expect(again.producerId).toBeGreaterThan(maxProducerId);
      const journalBytes = statSync(journal).size;
      // Uncompacted, 5000 transactions leave ~5 MB; compaction holds it to max(1 MiB, 4x the live state).
      expect(maxJournal).toBeLessThan(3 * 1024 * 1024);
      console.log(
        `5000 transactions in ${elapsed} ms: journal at most ${maxJournal} bytes, ${journalBytes} bytes once the ids expired (live ids: ${live.size})`,
      );

      // SIGKILL and restart on the same directory: the open transaction is preserved (it holds back
      // the last stable offset and can still be committed), committed data is visible, expired ids stay gone.
      const lastPid = again.producerId;
      await k.restart();
      const c2 = await KafkaConnection.connect(k.host, k.port, { clientId: 'after-restart' });
      cleanups.push(() => c2.close());
      const t2 = TXN(c2);
      expect(await t2.lso(topic)).toBe(openOffset);
      expect(await t2.end('long-open', open.producerId, open.producerEpoch, true)).toBe(0);
      const end = await t2.lso(topic);
      expect(end).toBe(openOffset + 2);
      const values = await committedValues(c2, topic, end);
      expect(values.length).toBe(expected.length + 1);
      expect(new Set(values)).toEqual(new Set([...expected, 'long-open']));
      const fresh = await t2.init('sink-1-0');
      expect(fresh).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      expect(fresh.producerId).toBeGreaterThan(lastPid);
    },
    120_000,
  );
});
