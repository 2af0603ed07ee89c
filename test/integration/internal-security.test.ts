// Internal authentication and mutual TLS across real processes: a cluster with a secret, and one
// with a secret and mutual TLS, each run a keyed job over two TaskManagers (the keyBy shuffle
// crosses processes on the data plane) with the right output; TaskManagers and raw gRPC clients
// without the secret or the CA are refused on the control and the data plane; and
// `weir cluster start --secure` generates everything, runs a job and stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobManagerClient, taskExecutorClient, type RegisterTaskManagerResponse } from '../../common/control.js';
import { unary } from '../../common/rpc.js';
import { packageRoot } from '../../common/package-root.js';
import { createCertificateAuthority, issueCertificate, type PemPair } from '../../common/security/certificates.js';
import { createClient } from '../../common/security/grpc-security.js';
import type { InternalSecurity, InternalTls } from '../../common/security/internal-security.js';
import { dataExchangeClientConstructor } from '../../taskmanager/network/data-messages.js';
import { keyOf } from '../jobs/keyed-count.js';
import { startCluster, startProcess, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { restApi } from '../helpers/rest-api.js';
import { killAllWith, pidsWith } from '../helpers/processes.js';

const SECRET = 'a shared secret of the test cluster';
const RECORDS = 20_000;
const KEYS = 200;
const scratch = mkdtempSync(join(tmpdir(), 'weir-internal-security-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The last running count of every key equals a plain loop over the same input. */
function expectKeyedCounts(outDir: string): void {
  const ref = new Map<number, { sum: number; n: number }>();
  for (let i = 0; i < RECORDS; i++) {
    const r = ref.get(keyOf(i, KEYS)) ?? { sum: 0, n: 0 };
    r.sum += i;
    r.n++;
    ref.set(keyOf(i, KEYS), r);
  }
  const last = new Map<number, { sum: number; n: number }>();
  for (const line of readCommittedLines(outDir)) {
    const [k, sum, n] = line.split(',').map(Number) as [number, number, number];
    if ((last.get(k)?.n ?? 0) < n) last.set(k, { sum, n });
  }
  expect(last).toEqual(ref);
}

/** Runs test/jobs/keyed-count.ts at parallelism 2 and checks both vertices ran on both TaskManagers. */
async function runKeyedJobAcrossTaskManagers(
  api: Pick<TestCluster, 'submit' | 'waitForJob'>,
  outDir: string,
): Promise<void> {
  const jobId = await api.submit('test/jobs/keyed-count.ts', [outDir, String(RECORDS), String(KEYS)], 2);
  const job = await api.waitForJob(jobId, ['FINISHED'], 90_000);
  for (const v of job.vertices)
    expect(new Set(v.subtasks.map((s: any) => s['taskmanager-id'])).size, `vertex ${v.name}`).toBe(2);
  expectKeyedCounts(outDir);
}

/** What a TaskManager logged when it started: its control address and its slots' data servers. */
async function taskManagerAddresses(c: TestCluster): Promise<{ rpcAddress: string; dataAddress: string }> {
  const logFile = join(c.dir, c.taskManagers[0]!.name, 'taskmanager.log');
  return c.waitFor('the TaskManager start line in its log', async () => {
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"TaskManager started"'));
    if (!line) return undefined;
    const entry = JSON.parse(line) as { rpcAddress: string; slotDataAddresses: string[] };
    return { rpcAddress: entry.rpcAddress, dataAddress: entry.slotDataAddresses[0]! };
  });
}

/** Opens a data-plane stream (DataExchange.Subscribe): the status code it failed with, or 'open' once the producer answers (or the stream still stands after 3 s). */
function subscribe(address: string, sec: InternalSecurity): Promise<grpc.status | 'open'> {
  const client = createClient(dataExchangeClientConstructor(), address, sec);
  return new Promise((resolve) => {
    const call = (client as unknown as { Subscribe(): grpc.ClientDuplexStream<unknown, unknown> }).Subscribe();
    const timer = setTimeout(() => finish('open'), 3000);
    const finish = (r: grpc.status | 'open') => {
      clearTimeout(timer);
      call.removeAllListeners();
      call.on('error', () => undefined);
      call.cancel();
      client.close();
      resolve(r);
    };
    call.on('error', (e: grpc.ServiceError) => finish(e.code));
    call.on('data', () => finish('open'));
    call.write({
      request: {
        partitionId: 'no-such-partition.e0',
        subpartition: 0,
        initialCredit: 1,
        protocolVersion: 1,
        consumerTaskManagerId: 'intruder',
      },
    });
  });
}

async function call<Res>(client: grpc.Client, method: string, req: object): Promise<Res | grpc.ServiceError> {
  try {
    return await unary<object, Res>(client, method, req, 5000);
  } catch (e) {
    return e as grpc.ServiceError;
  } finally {
    client.close();
  }
}

const registration = {
  taskManagerId: 'tm-intruder',
  rpcAddress: '127.0.0.1:1',
  slots: 1,
  protocolVersion: 999,
  engineVersion: 'x',
  pid: 1,
  hostname: 'x',
  workingDir: '/tmp',
};

/** A TaskManager with its own -D pairs; resolves with the message it failed to start with. */
async function refusedTaskManager(c: TestCluster, name: string, config: Record<string, string>): Promise<string> {
  const defines = Object.entries(config).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  let proc: ChildProcess | undefined;
  try {
    const started = await startProcess(
      c.dir,
      name,
      ['taskmanager', '--jobmanager', c.rpcAddress, '--slots', '1', '--dir', join(c.dir, name), ...defines],
      30_000,
    );
    proc = started.handle.proc;
    throw new Error(`${name} started although it should have been refused`);
  } catch (e) {
    return (e as Error).message;
  } finally {
    proc?.kill('SIGKILL');
  }
}

function jobManagerLog(c: TestCluster): string {
  return readFileSync(join(c.dir, 'jobmanager', 'jobmanager.log'), 'utf8');
}

describe('internal secret', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2, config: { 'security.internal.secret': SECRET } });
  });
  afterAll(() => cluster?.stop());

  it('runs a keyed job across two TaskManagers with the right output', async () => {
    await runKeyedJobAcrossTaskManagers(cluster, join(cluster.dir, 'out-secret'));
  });

  it('refuses a TaskManager with a wrong secret or none: it fails to start, and the JobManager logs the refusal with its address', async () => {
    const wrong = await refusedTaskManager(cluster, 'tm-wrong-secret', {
      'security.internal.secret': 'not the secret',
    });
    expect(wrong).toMatch(/exited \(1\) before it was ready/);
    expect(wrong).toMatch(
      /cannot start the TaskManager: the JobManager at 127\.0\.0\.1:\d+ refused this TaskManager: internal authentication refused: the proof does not match security\.internal\.secret/,
    );
    const none = await refusedTaskManager(cluster, 'tm-no-secret', {});
    expect(none).toMatch(
      /refused this TaskManager: internal authentication refused: the call carries no proof of security\.internal\.secret/,
    );
    await cluster.waitFor(
      'both refusals in the JobManager log',
      async () => {
        const log = jobManagerLog(cluster);
        return (
          /refused a gRPC call from 127\.0\.0\.1:\d+: the proof does not match/.test(log) &&
          /refused a gRPC call from 127\.0\.0\.1:\d+: the call carries no proof/.test(log)
        );
      },
      10_000,
    );
    expect((await cluster.rest('/overview')).body.taskmanagers).toBe(2);
  });

  it('answers UNAUTHENTICATED to raw clients without the secret: JobManager, TaskManager control and data plane', async () => {
    const tm = await taskManagerAddresses(cluster);
    // A slot whose job ended gets a new thread (and data server) first.
    await cluster.waitFor(
      'the data server to take a client with the secret',
      async () => (await subscribe(tm.dataAddress, { secret: SECRET })) === 'open',
    );
    const jm = await call<RegisterTaskManagerResponse>(
      jobManagerClient(cluster.rpcAddress),
      'RegisterTaskManager',
      registration,
    );
    expect(jm).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const control = await call(taskExecutorClient(tm.rpcAddress), 'ReadLog', { maxBytes: 100 });
    expect(control).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect(await subscribe(tm.dataAddress, {})).toBe(grpc.status.UNAUTHENTICATED);
    expect(await subscribe(tm.dataAddress, { secret: 'guess' })).toBe(grpc.status.UNAUTHENTICATED);
    // With the secret, the same calls get past authentication.
    expect(
      await call<RegisterTaskManagerResponse>(
        jobManagerClient(cluster.rpcAddress, { secret: SECRET }),
        'RegisterTaskManager',
        registration,
      ),
    ).toMatchObject({ accepted: false, reason: expect.stringMatching(/protocol version mismatch/) });
    expect(await subscribe(tm.dataAddress, { secret: SECRET })).toBe('open');
  });
});

describe('mutual TLS', () => {
  let cluster: TestCluster;
  let tls: InternalTls;
  let foreign: InternalTls;
  let foreignFiles: Record<string, string>;

  /** Writes a CA and a certificate for 127.0.0.1 under scratch/<name>; returns its PEMs and the -D keys naming them. */
  function certificates(name: string, ca: PemPair): { tls: InternalTls; config: Record<string, string> } {
    const leaf = issueCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] });
    const files = {
      ca: join(scratch, `${name}-ca.pem`),
      cert: join(scratch, `${name}.pem`),
      key: join(scratch, `${name}-key.pem`),
    };
    writeFileSync(files.ca, ca.certPem);
    writeFileSync(files.cert, leaf.certPem);
    writeFileSync(files.key, leaf.keyPem, { mode: 0o600 });
    return {
      tls: { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem, verifyHostname: true },
      config: {
        'security.ssl.internal.enabled': 'true',
        'security.ssl.internal.ca': files.ca,
        'security.ssl.internal.cert': files.cert,
        'security.ssl.internal.key': files.key,
      },
    };
  }

  beforeAll(async () => {
    const mine = certificates('cluster', createCertificateAuthority());
    const other = certificates('foreign', createCertificateAuthority({ commonName: 'Somebody else' }));
    tls = mine.tls;
    foreign = other.tls;
    foreignFiles = other.config;
    cluster = await startCluster({
      taskManagers: 2,
      slots: 2,
      config: { 'security.internal.secret': SECRET, ...mine.config },
    });
  });
  afterAll(() => cluster?.stop());

  it('runs a keyed job across two TaskManagers with the right output', async () => {
    await runKeyedJobAcrossTaskManagers(cluster, join(cluster.dir, 'out-tls'));
  });

  it('fails for clients without TLS or trusting another CA, on the control and the data plane', async () => {
    const tm = await taskManagerAddresses(cluster);
    // A slot whose job ended gets a new thread (and data server) first.
    await cluster.waitFor(
      "the data server to take a client with the cluster's CA",
      async () => (await subscribe(tm.dataAddress, { secret: SECRET, tls })) === 'open',
    );
    expect(
      await call(jobManagerClient(cluster.rpcAddress, { secret: SECRET }), 'RegisterTaskManager', registration),
    ).toMatchObject({ code: grpc.status.UNAVAILABLE });
    const distrust = await call(
      jobManagerClient(cluster.rpcAddress, { secret: SECRET, tls: foreign }),
      'RegisterTaskManager',
      registration,
    );
    expect(distrust).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringMatching(/self-signed certificate in certificate chain/),
    });
    // Trusting the CA is not enough: the client's own certificate must come from it too.
    const unknownClient = await call(
      jobManagerClient(cluster.rpcAddress, { secret: SECRET, tls: { ...tls, cert: foreign.cert, key: foreign.key } }),
      'RegisterTaskManager',
      registration,
    );
    expect(unknownClient).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await subscribe(tm.dataAddress, { secret: SECRET })).toBe(grpc.status.UNAVAILABLE);
    expect(await subscribe(tm.dataAddress, { secret: SECRET, tls: foreign })).toBe(grpc.status.UNAVAILABLE);
    // The cluster's CA and the secret get through.
    expect(
      await call(jobManagerClient(cluster.rpcAddress, { secret: SECRET, tls }), 'RegisterTaskManager', registration),
    ).toMatchObject({ accepted: false });
    expect(await subscribe(tm.dataAddress, { secret: SECRET, tls })).toBe('open');
  });

  it('a TaskManager that does not trust the JobManager fails to start and says why', async () => {
    const message = await refusedTaskManager(cluster, 'tm-foreign-ca', {
      'security.internal.secret': SECRET,
      ...foreignFiles,
    });
    expect(message).toMatch(
      /refused this TaskManager: its TLS certificate is not trusted here: self-signed certificate in certificate chain/,
    );
  });
});

describe('weir cluster start --secure', () => {
  let launcher: ChildProcess | undefined;
  let dir: string;
  afterEach(() => {
    killAllWith(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a CA, certificate, secret and REST token, runs a job across TaskManagers, and stops', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-secure-cluster-'));
    let output = '';
    const p = spawn(
      process.execPath,
      [
        join(packageRoot(), 'bin', 'weir.js'),
        'cluster',
        'start',
        '--secure',
        '--port',
        '0',
        '--rpc-port',
        '0',
        '--taskmanagers',
        '2',
        '--slots',
        '1',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    launcher = p;
    p.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    p.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes('Press Ctrl-C')) {
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`the secure cluster did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const restUrl = /REST API: (http:\/\/\S+)/.exec(output)![1]!;
    const token = /REST token: +([0-9a-f]{64})/.exec(output)![1]!;
    const security = join(dir, 'security');
    expect(output).toContain(
      `curl -H "Authorization: Bearer $(cat ${join(security, 'rest-token')})" ${restUrl}/overview`,
    );
    for (const f of ['ca.pem', 'internal.pem', 'internal-key.pem', 'internal-secret', 'rest-token'])
      expect(statSync(join(security, f)).mode & 0o777, f).toBe(0o600);
    expect(readFileSync(join(security, 'rest-token'), 'utf8')).toBe(token);

    expect((await fetch(`${restUrl}/overview`)).status).toBe(401);
    const api = restApi(() => restUrl, dir, token);
    expect((await api.rest('/overview')).body.taskmanagers).toBe(2);
    const logs = readFileSync(join(dir, 'jobmanager', 'jobmanager.log'), 'utf8');
    expect(logs).toMatch(/"internalSecret":true,"internalTls":true/);
    await runKeyedJobAcrossTaskManagers(api, join(dir, 'out'));

    p.kill('SIGTERM');
    expect(
      await new Promise<number | null>((r) =>
        p.exitCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code)),
      ),
    ).toBe(0);
    await api.waitFor('the cluster processes to stop', async () => pidsWith(dir).length === 0, 15_000);
  });

  afterAll(() => launcher?.kill('SIGKILL'));
});
