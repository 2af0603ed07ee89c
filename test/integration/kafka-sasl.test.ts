// SASL/PLAIN end to end, across real processes: the development broker started with
// --sasl-users, kcat (librdkafka) and kafkajs logging in with right and wrong passwords, and a
// Weir job (KafkaSource → EXACTLY_ONCE KafkaSink) configured as Flink users do it: it copies the
// records with the right credentials, and FAILS with a cause naming the user and the broker, never
// the password, with a wrong one.
import { execFile, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/eventually.js';
import { startKafka, uniqueTopic, type TestKafka } from '../helpers/kafka.js';
import { hasKcat, KCAT } from '../helpers/kcat.js';

const required = !!process.env.WEIR_REQUIRE_SERVICES;
if (!hasKcat && required) throw new Error('kcat is missing but WEIR_REQUIRE_SERVICES is set');
// The users are the development broker's (--sasl-users): an external KAFKA_BOOTSTRAP broker has others.
const external = !!process.env.KAFKA_BOOTSTRAP;

const USER = 'alice';
const PASSWORD = 'alice-s3cret "quoted" \\ ünïcode';
const WRONG = 'not-the-Password-42';

function saslArgs(password: string): string[] {
  return [
    '-X',
    'security.protocol=SASL_PLAINTEXT',
    '-X',
    'sasl.mechanisms=PLAIN',
    '-X',
    `sasl.username=${USER}`,
    '-X',
    `sasl.password=${password}`,
  ];
}

function kcat(
  args: string[],
  input?: string,
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(KCAT, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += String(d)));
    p.stderr!.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    if (input !== undefined) p.stdin!.end(input);
  });
}

function consume(bootstrap: string, topic: string, password: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      KCAT,
      [
        '-b',
        bootstrap,
        ...saslArgs(password),
        '-C',
        '-t',
        topic,
        '-e',
        '-q',
        '-f',
        '%s\\n',
        '-X',
        'isolation.level=read_committed',
      ],
      { timeout: 60_000 },
      (e, stdout, stderr) =>
        e
          ? reject(new Error(`kcat -C failed: ${e.message} ${stderr}`))
          : resolve(stdout.split('\n').filter((l) => l.length > 0)),
    );
  });
}

function kafkajs(bootstrap: string, password: string): Kafka {
  const sasl: SASLOptions = { mechanism: 'plain', username: USER, password };
  return new Kafka({
    clientId: 'weir-sasl-test',
    brokers: [bootstrap],
    sasl,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

/** Every log and output file under `dir` holding `needle` (not the JobManager's store: it keeps the job's arguments). */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      // Not through links: a bundle's node_modules/weir leads back to the engine's own tree.
      const st = lstatSync(p);
      if (st.isDirectory()) {
        if (name !== 'store') walk(p);
      } else if (/\.(log|out)$/.test(name) && st.size < 64 * 1024 * 1024 && readFileSync(p, 'utf8').includes(needle))
        found.push(p);
    }
  };
  walk(dir);
  return found;
}

describe.skipIf(!hasKcat || external)('Kafka SASL/PLAIN', () => {
  let dir: string;
  let kafka: TestKafka;
  let cluster: TestCluster | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sasl-'));
    const users = join(dir, 'users');
    writeFileSync(users, `# test users\n${USER}:${PASSWORD}\nbob:bob-pw\n`);
    kafka = await startKafka({ args: ['--sasl-users', users] });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await kafka?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kcat lists, produces and consumes with the right password, and is refused with a wrong one or none', async () => {
    const topic = uniqueTopic('kcat-sasl');
    const list = await kcat(['-b', kafka.bootstrap, ...saslArgs(PASSWORD), '-L', '-m', '10']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`broker 0 at ${kafka.bootstrap}`);
    const produced = await kcat(['-b', kafka.bootstrap, ...saslArgs(PASSWORD), '-P', '-t', topic], 'one\ntwo\nthree\n');
    expect(produced.code, produced.stderr).toBe(0);
    expect(await consume(kafka.bootstrap, topic, PASSWORD)).toEqual(['one', 'two', 'three']);

    const wrong = await kcat(['-b', kafka.bootstrap, ...saslArgs(WRONG), '-L', '-m', '3']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('SASL authentication error: Authentication failed: Invalid username or password');
    const none = await kcat(['-b', kafka.bootstrap, '-L', '-m', '3']);
    expect(none.code).not.toBe(0);
    expect(none.stdout).not.toContain('broker 0 at');
  }, 60_000);

  it('kafkajs produces and consumes with the right password, and is refused with a wrong one', async () => {
    const topic = uniqueTopic('kafkajs-sasl');
    const k = kafkajs(kafka.bootstrap, PASSWORD);
    const admin = k.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = k.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'a', value: 'x' },
        { key: 'b', value: 'y' },
      ],
    });
    await producer.disconnect();
    const consumer = k.consumer({ groupId: uniqueTopic('g') });
    const got: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) });
    const deadline = Date.now() + 20_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    expect(got.sort()).toEqual(['x', 'y']);

    const bad = kafkajs(kafka.bootstrap, WRONG).producer();
    const err = await bad.connect().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('KafkaJSSASLAuthenticationError');
    expect((err as Error).message).toBe(
      'SASL PLAIN authentication failed: Authentication failed: Invalid username or password',
    );
    await bad.disconnect().catch(() => undefined);
  }, 60_000);

  it('a Weir job copies records with the right credentials, and FAILS naming the user and broker (not the password) with a wrong one', async () => {
    const input = uniqueTopic('sasl-in');
    const output = uniqueTopic('sasl-out');
    const records = Array.from({ length: 500 }, (_, i) => `r${i}`);
    const produced = await kcat(
      ['-b', kafka.bootstrap, ...saslArgs(PASSWORD), '-P', '-t', input],
      records.join('\n') + '\n',
    );
    expect(produced.code, produced.stderr).toBe(0);
    cluster = await startCluster({ taskManagers: 1, slots: 4 });

    const good = await cluster.submit(
      'test/jobs/kafka-sasl-copy.ts',
      [kafka.bootstrap, input, output, USER, PASSWORD, uniqueTopic('sasl-tx')],
      2,
    );
    const done = await cluster.waitForJob(good, ['FINISHED', 'FAILED', 'CANCELED'], 90_000);
    if (done.state !== 'FINISHED')
      throw new Error(
        `the job ended ${done.state}: ${(await cluster.rest(`/jobs/${good}/exceptions`)).body['root-exception']}`,
      );
    expect((await consume(kafka.bootstrap, output, PASSWORD)).sort()).toEqual(records.map((r) => `copied:${r}`).sort());

    const bad = await cluster.submit(
      'test/jobs/kafka-sasl-copy.ts',
      [kafka.bootstrap, input, uniqueTopic('sasl-never'), USER, WRONG, uniqueTopic('sasl-tx')],
      2,
    );
    const failed = await cluster.waitForJob(bad, ['FAILED', 'FINISHED', 'CANCELED'], 90_000);
    expect(failed.state).toBe('FAILED');
    const root = String((await cluster.rest(`/jobs/${bad}/exceptions`)).body['root-exception'] ?? '');
    expect(root).toContain(`SASL/PLAIN authentication failed for user '${USER}' at ${kafka.bootstrap}`);
    expect(root).toContain('Authentication failed: Invalid username or password');
    expect(root).not.toContain(WRONG);
    // Nor does any log of the cluster or the broker hold a password, once the failure reached them.
    const clusterDir = cluster.dir;
    await waitFor(
      'the authentication failure in the logs', // the scan sees the logs
      () => filesContaining(clusterDir, `authentication failed for user '${USER}'`).length > 0,
    );
    for (const d of [cluster.dir, join(kafka.dir!, '..'), dir]) {
      expect(filesContaining(d, WRONG)).toEqual([]);
      expect(filesContaining(d, 'alice-s3cret')).toEqual([]);
    }
  }, 240_000);
});
