// The REST calls Flink's clients make, against the real REST server (createRestServer) over a
// stub dispatcher: upload with any file field, run with a jobId, execution result, status,
// config, manual checkpoints, /config and /taskmanagers.
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { silentLogger } from '../../common/logging.js';
import { RequestError, type RunRequest } from '../../jobmanager/dispatcher.js';
import type { ArchivedJob } from '../../jobmanager/job-archive.js';
import { JobMaster } from '../../jobmanager/job-master.js';
import { AsyncOperations } from '../../jobmanager/rest/async-operations.js';
import type { ClusterContext } from '../../jobmanager/rest/cluster-routes.js';
import { createRestServer } from '../../jobmanager/rest/server.js';

const LIVE = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const ENDED = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const UNKNOWN = 'cccccccccccccccccccccccccccccccc';

/** A JobMaster with just the state these routes read (instanceof must hold, as in the routes). */
function fakeJobMaster(
  over: { status?: string; endTime?: number; checkpoint?: () => Promise<{ checkpointId: number }> } = {},
): JobMaster {
  const jm = Object.create(JobMaster.prototype) as JobMaster;
  const stats = { counts: {}, history: [{ id: 1, status: 'COMPLETED' }] };
  Object.assign(jm, {
    opts: { jobId: LIVE },
    graph: {
      status: over.status ?? 'RUNNING',
      startTime: 1_000,
      endTime: over.endTime ?? -1,
      exceptionHistory: [],
      jobGraph: {
        name: 'Counts',
        vertices: [{ parallelism: 2 }, { parallelism: 3 }],
        config: { restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 100 } },
      },
    },
    checkpointing: {
      coordinator: {
        isPeriodic: true,
        stats: () => stats,
        configJson: () => ({ mode: 'exactly_once', interval: 500 }),
      },
    },
    triggerManualCheckpoint: over.checkpoint ?? (async () => ({ checkpointId: 7 })),
  });
  return jm;
}

const archived: ArchivedJob = {
  jid: ENDED,
  overview: { jid: ENDED, name: 'Old', state: 'FAILED', 'start-time': 5_000, 'end-time': 9_500, duration: 4_500 },
  details: { vertices: [{ parallelism: 4 }] },
  exceptions: {
    exceptionHistory: {
      entries: [
        { exceptionName: 'TaskException', stacktrace: 'boom\n\tat x' },
        { exceptionName: 'Older', stacktrace: 'old' },
      ],
    },
  },
  plan: {},
};

let app: FastifyInstance;
let runs: RunRequest[];
let uploads: { name: string; bytes: number }[];
let jobs: Map<string, JobMaster>;
let conf: Configuration;

async function start(): Promise<void> {
  const lookup = (id: string) => {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new RequestError(`invalid job id '${id}' (expected 32 hex characters)`);
    const j = jobs.get(id) ?? (id === ENDED ? archived : undefined);
    if (!j) throw new RequestError(`job ${id} not found`, 404);
    return j;
  };
  const dispatcher = {
    jobs,
    archive: { get: (id: string) => (id === ENDED ? archived : undefined), list: () => [archived] },
    operations: new AsyncOperations(),
    jars: {
      add: async (name: string, data: Buffer) => {
        uploads.push({ name, bytes: data.length });
        return { id: `abc_${name}`, manifest: { name: 'job' } };
      },
      list: () => [],
    },
    runJar: async (req: RunRequest) => {
      runs.push(req);
      return req.jobId ?? LIVE;
    },
    lookup,
    job: (id: string) => {
      const j = lookup(id);
      if (!(j instanceof JobMaster)) throw new RequestError(`job ${id} has ended`, 409);
      return j;
    },
    overviews: () => [],
  };
  const rm = {
    taskManagers: new Map([
      [
        'tm-1',
        {
          id: 'tm-1',
          rpcAddress: '127.0.0.1:40001',
          hostname: hostname(),
          pid: 42,
          workingDir: '/tmp',
          metricsAddress: '127.0.0.1:9100',
          slots: 4,
          allocations: [LIVE, null, null, null],
          registeredAt: 1,
          lastHeartbeat: 2,
          failedRequests: 0,
          rssBytes: 100 << 20,
          heapUsedBytes: 30 << 20,
        },
      ],
    ]),
    totalSlots: () => 4,
    freeSlots: () => 3,
  };
  const ctx = {
    conf,
    log: silentLogger(),
    logFile: '/dev/null',
    rm,
    dispatcher,
    metrics: {},
  } as unknown as ClusterContext;
  app = await createRestServer(ctx);
}

beforeEach(async () => {
  runs = [];
  uploads = [];
  jobs = new Map([[LIVE, fakeJobMaster()]]);
  conf = new Configuration({ 'state.savepoints.dir': '/data/savepoints' });
  await start();
});
afterEach(() => app.close());

/** A multipart body as Flink's RestClient (Netty's HttpPostRequestEncoder) writes it: a `request` attribute, then file_0, file_1, ... */
function multipart(parts: { name: string; filename?: string; content: string | Buffer; type?: string }[]): {
  payload: Buffer;
  headers: Record<string, string>;
} {
  const boundary = '----weirtest5e2c1';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: ${disposition}\r\ncontent-type: ${p.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(p.content) ? p.content : Buffer.from(p.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function call(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await app.inject({ method, url, ...(body !== undefined ? { payload: body as object } : {}) });
  return { status: res.statusCode, body: res.json() };
}

describe('POST /jars/upload', () => {
  it("takes the one file whatever its field, as Flink's RestClient sends it (request + file_0)", async () => {
    const m = multipart([
      { name: 'request', content: '{}', type: 'text/plain; charset=UTF-8' },
      { name: 'file_0', filename: 'job.weir', content: Buffer.alloc(1000, 1), type: 'application/x-java-archive' },
    ]);
    const res = await app.inject({ method: 'POST', url: '/jars/upload', ...m });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ filename: '/jars/abc_job.weir', status: 'success' });
    expect(uploads).toEqual([{ name: 'job.weir', bytes: 1000 }]);
  });

  it('still takes jarfile, and a field after the file', async () => {
    const m = multipart([
      { name: 'jarfile', filename: 'a.weir', content: 'x' },
      { name: 'note', content: 'ignored', type: 'text/plain' },
    ]);
    expect((await app.inject({ method: 'POST', url: '/jars/upload', ...m })).statusCode).toBe(200);
    expect(uploads).toEqual([{ name: 'a.weir', bytes: 1 }]);
  });

  it('refuses an upload without a file, with several files, or not multipart', async () => {
    const none = await app.inject({
      method: 'POST',
      url: '/jars/upload',
      ...multipart([{ name: 'request', content: '{}', type: 'application/json' }]),
    });
    expect(none.statusCode).toBe(400);
    expect(none.json().errors[0]).toMatch(/^the upload has no file/);
    const two = multipart([
      { name: 'file_0', filename: 'a.weir', content: 'x' },
      { name: 'file_1', filename: 'b.weir', content: 'y' },
    ]);
    const several = await app.inject({ method: 'POST', url: '/jars/upload', ...two });
    expect(several.statusCode).toBe(400);
    expect(several.json().errors[0]).toMatch(/^the upload has several files/);
    const json = await call('POST', '/jars/upload', { jar: 'x' });
    expect(json.status).toBe(400);
    expect(json.body.errors[0]).toMatch(/^expected a multipart\/form-data upload/);
    expect(uploads).toEqual([]);
  });
});

describe('POST /jars/:jarid/run', () => {
  it("passes Flink's JarRunRequestBody on, jobId included; flinkConfiguration's job keys become the job's settings, its cluster keys and entryClass are ignored", async () => {
    const jobId = '0123456789abcdef0123456789abcdef';
    const res = await call('POST', '/jars/abc_job.weir/run', {
      entryClass: null,
      programArgsList: ['--rate', '10'],
      parallelism: 2,
      jobId,
      allowNonRestoredState: true,
      savepointPath: '/data/savepoints/savepoint-1',
      restoreMode: 'NO_CLAIM',
      flinkConfiguration: {
        'taskmanager.numberOfTaskSlots': '2',
        'execution.checkpointing.interval': '10 s',
        'kubernetes.cluster-id': 'weir',
      },
    });
    expect(res).toEqual({ status: 200, body: { jobid: jobId } });
    expect(runs).toEqual([
      {
        jarId: 'abc_job.weir',
        parallelism: 2,
        programArgs: ['--rate', '10'],
        savepointPath: '/data/savepoints/savepoint-1',
        allowNonRestoredState: true,
        jobId,
        config: { 'execution.checkpointing.interval': '10 s' },
      },
    ]);
  });

  it('refuses a malformed jobId before running anything; reads the query string as Flink does', async () => {
    for (const bad of ['ABCDEF0123456789ABCDEF0123456789', 'abc', 42]) {
      const res = await call('POST', '/jars/abc_job.weir/run', { jobId: bad });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toBe(`jobId must be 32 lowercase hex characters, got '${bad}'`);
    }
    expect(runs).toEqual([]);
    await call('POST', '/jars/abc_job.weir/run?allowNonRestoredState=true&parallelism=3');
    expect(runs[0]).toMatchObject({ parallelism: 3, allowNonRestoredState: true });
  });
});

describe('job status, execution result and configuration', () => {
  it('answers IN_PROGRESS while the job runs, then its result', async () => {
    expect(await call('GET', `/jobs/${LIVE}/status`)).toEqual({ status: 200, body: { status: 'RUNNING' } });
    expect(await call('GET', `/jobs/${LIVE}/execution-result`)).toEqual({
      status: 200,
      body: { status: { id: 'IN_PROGRESS' } },
    });
    jobs.set(LIVE, fakeJobMaster({ status: 'FINISHED', endTime: 4_000 }));
    expect((await call('GET', `/jobs/${LIVE}/execution-result`)).body).toEqual({
      status: { id: 'COMPLETED' },
      'job-execution-result': {
        id: LIVE,
        'application-status': 'SUCCEEDED',
        'accumulator-results': {},
        'net-runtime': 3_000,
      },
    });
  });

  it('reports a failed job of an earlier JobManager with its latest failure', async () => {
    expect((await call('GET', `/jobs/${ENDED}/execution-result`)).body).toEqual({
      status: { id: 'COMPLETED' },
      'job-execution-result': {
        id: ENDED,
        'application-status': 'FAILED',
        'accumulator-results': {},
        'net-runtime': 4_500,
        'failure-cause': { class: 'TaskException', 'stack-trace': 'boom\n\tat x' },
      },
    });
    expect((await call('GET', `/jobs/${ENDED}/status`)).body).toEqual({ status: 'FAILED' });
  });

  it("serves Flink's JobConfigInfo", async () => {
    const live = (await call('GET', `/jobs/${LIVE}/config`)).body;
    expect(live).toEqual({
      jid: LIVE,
      name: 'Counts',
      'execution-config': {
        'execution-mode': 'PIPELINED',
        'restart-strategy': 'FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3, backoffTimeMS=100)',
        'job-parallelism': 3,
        'object-reuse-mode': false,
        'user-config': {},
      },
    });
    const old = (await call('GET', `/jobs/${ENDED}/config`)).body;
    expect(old['execution-config']['job-parallelism']).toBe(4);
    expect(old.name).toBe('Old');
  });

  it('answers 404 and 400 for unknown and malformed job ids', async () => {
    for (const path of ['status', 'execution-result', 'config']) {
      expect(await call('GET', `/jobs/${UNKNOWN}/${path}`)).toEqual({
        status: 404,
        body: { errors: [`job ${UNKNOWN} not found`] },
      });
      expect((await call('GET', `/jobs/nope/${path}`)).status).toBe(400);
    }
  });
});

describe('manual checkpoints', () => {
  const poll = async (trigger: string) => {
    for (;;) {
      const r = await call('GET', `/jobs/${LIVE}/checkpoints/${trigger}`);
      if (r.body.status?.id !== 'IN_PROGRESS') return r;
      await new Promise((res) => setTimeout(res, 5));
    }
  };

  it('triggers one (CheckpointTriggerRequestBody) and reports its id under the trigger id', async () => {
    const res = await call('POST', `/jobs/${LIVE}/checkpoints`, { checkpointType: 'FULL' });
    expect(res.status).toBe(202);
    expect(res.body['request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(await poll(res.body['request-id'])).toEqual({
      status: 200,
      body: { status: { id: 'COMPLETED' }, operation: { checkpointId: 7 } },
    });
    expect((await call('POST', `/jobs/${LIVE}/checkpoints`)).status).toBe(202);
  });

  it('reports a refused checkpoint as a CheckpointException failure cause', async () => {
    jobs.set(
      LIVE,
      fakeJobMaster({
        checkpoint: async () =>
          Promise.reject(new Error(`cannot take a checkpoint of job ${LIVE}: it is RESTARTING, not RUNNING`)),
      }),
    );
    const res = await call('POST', `/jobs/${LIVE}/checkpoints`, {});
    const done = await poll(res.body['request-id']);
    expect(done.body.operation['failure-cause']).toEqual({
      class: 'CheckpointException',
      'stack-trace': `CheckpointException: cannot take a checkpoint of job ${LIVE}: it is RESTARTING, not RUNNING`,
    });
  });

  it('refuses a bad checkpointType, unknown trigger ids, unknown and ended jobs', async () => {
    const bad = await call('POST', `/jobs/${LIVE}/checkpoints`, { checkpointType: 'SAVEPOINT' });
    expect(bad).toEqual({
      status: 400,
      body: { errors: ['checkpointType must be one of CONFIGURED, FULL, INCREMENTAL, got "SAVEPOINT"'] },
    });
    const unknown = await call('GET', `/jobs/${LIVE}/checkpoints/ffffffffffffffffffffffffffffffff`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toMatch(/^There is no checkpoint operation with trigger id ffff/);
    expect((await call('POST', `/jobs/${UNKNOWN}/checkpoints`, {})).status).toBe(404);
    expect((await call('POST', `/jobs/${ENDED}/checkpoints`, {})).status).toBe(409);
  });

  it('leaves /checkpoints/config and /checkpoints/details/:id to the checkpoint routes', async () => {
    expect(await call('GET', `/jobs/${LIVE}/checkpoints/config`)).toEqual({
      status: 200,
      body: { mode: 'exactly_once', interval: 500 },
    });
    expect(await call('GET', `/jobs/${LIVE}/checkpoints/details/1`)).toEqual({
      status: 200,
      body: { id: 1, status: 'COMPLETED' },
    });
    expect((await call('GET', `/jobs/${LIVE}/checkpoints`)).body.history).toHaveLength(1);
  });
});

describe('cluster views', () => {
  it("/config has Flink's DashboardConfiguration fields and the savepoint directory", async () => {
    const c = (await call('GET', '/config')).body;
    expect(Object.keys(c)).toEqual(
      expect.arrayContaining([
        'refresh-interval',
        'timezone-name',
        'timezone-offset',
        'flink-version',
        'flink-revision',
        'weir-version',
      ]),
    );
    expect(c.features).toEqual({ 'web-submit': true, 'web-cancel': true, 'web-rescale': false, 'web-history': false });
    expect(c['savepoints-dir']).toBe('/data/savepoints');
    conf = new Configuration();
    await app.close();
    await start();
    expect((await call('GET', '/config')).body['savepoints-dir']).toBeNull();
  });

  it("/taskmanagers has every field of Flink's TaskManagerInfo", async () => {
    const [tm] = (await call('GET', '/taskmanagers')).body.taskmanagers;
    expect(tm).toMatchObject({
      id: 'tm-1',
      path: '127.0.0.1:40001',
      dataPort: 40001,
      jmxPort: -1,
      slotsNumber: 4,
      freeSlots: 3,
      blocked: false,
      totalResource: {
        cpuCores: 4,
        taskHeapMemory: 0,
        taskOffHeapMemory: 0,
        managedMemory: 0,
        networkMemory: 0,
        extendedResources: {},
      },
      freeResource: { cpuCores: 3 },
      memoryConfiguration: { taskHeap: 30 << 20, totalProcessMemory: 100 << 20, managedMemory: 0, jvmMetaspace: 0 },
      memory: { rss: 100 << 20, heapUsed: 30 << 20 },
    });
    expect(tm.hardware.cpuCores).toBeGreaterThan(0);
    expect(tm.hardware.physicalMemory).toBeGreaterThan(0);
    expect(tm.hardware.managedMemory).toBe(0);
    const detail = (await call('GET', '/taskmanagers/tm-1')).body;
    expect(detail).toMatchObject({ id: 'tm-1', jmxPort: -1, allocations: [LIVE, null, null, null] });
  });
});
