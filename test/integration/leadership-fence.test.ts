// Fencing of a JobManager that leads through etcd (a real etcd): a leader paused past two thirds
// of its lease (here: its thread blocked, as SIGSTOP or a suspended VM would) refuses every effect
// outside the process before any timer of its own runs, and stays fenced once it runs on (answers
// that waited in a socket arrive, its timers fire). TaskManagers refuse ReleaseJob from a
// JobManager they are not registered with (a job keeps its id across leaders). A fenced
// JobManager answers TaskManagers' RPCs with UNAVAILABLE and sends no alert.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointMetadata } from '../../common/checkpoint.js';
import { taskExecutorClient, type Ack } from '../../common/control.js';
import { silentLogger, type Logger } from '../../common/logging.js';
import { AlertNotifier } from '../../jobmanager/alerts.js';
import { CheckpointStorage } from '../../jobmanager/checkpoint/checkpoint-storage.js';
import { EtcdLeaderElection } from '../../jobmanager/ha/etcd-leader-election.js';
import { FileJobStore } from '../../jobmanager/ha/file-job-store.js';
import { JOB_RECORD_VERSION } from '../../jobmanager/ha/job-record.js';
import {
  assertLeadership,
  fencedUnary,
  installLeadershipFence,
  LeadershipLostError,
} from '../../jobmanager/ha/leadership-fence.js';
import { jobManagerService } from '../../jobmanager/rpc-service.js';
import { TaskExecutor } from '../../taskmanager/task-executor.js';
import { etcdSkipReason, startEtcd, type EtcdServer } from '../helpers/etcd.js';

const skip = etcdSkipReason();
let etcd: EtcdServer | undefined;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-fence-'));
  if (!skip) etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Blocks this thread for `ms`, the way a paused process stands still: no timer, no I/O. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe.skipIf(!!skip)('leadership fence (etcd)', () => {
  it('a leader paused past its lease refuses effects at once and stays fenced', async () => {
    const ttlMs = 3000;
    const election = new EtcdLeaderElection([etcd!.endpoint], `fence-${Date.now()}`, ttlMs, silentLogger());
    const lost: string[] = [];
    const removeFence = installLeadershipFence(() => election.holds());
    try {
      expect(election.holds()).toBe('it is a standby');
      let elected!: () => void;
      const isElected = new Promise<void>((r) => (elected = r));
      await election.campaign(
        { jobManagerId: 'jm-1', restUrl: 'http://127.0.0.1:1', rpcAddress: '127.0.0.1:1' },
        { elected: () => elected(), lost: (reason) => lost.push(reason) },
      );
      await isElected;
      // Renewals flow while the leader runs: it keeps leading past its lease.
      await new Promise((r) => setTimeout(r, ttlMs + 500));
      expect(election.holds()).toBeUndefined();
      expect(() => assertLeadership('a test effect')).not.toThrow();

      pause((ttlMs * 3) / 4);
      // Nothing ran since the pause: not the watchdog, not the keepalive's answers.
      expect(lost).toEqual([]);
      expect(() => assertLeadership('completing checkpoint 7')).toThrow(LeadershipLostError);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatch(/not renewed for \d+ ms \(lease-ttl 3000 ms\)/);

      const storage = new CheckpointStorage(join(dir, 'checkpoints', 'job'), 1, silentLogger());
      await expect(storage.writeMetadata({ checkpointId: 7 } as CheckpointMetadata)).rejects.toThrow(
        /completing checkpoint 7 refused: this JobManager no longer leads \(the etcd lease was not renewed/,
      );
      expect(existsSync(join(storage.pathOf(7), '_metadata'))).toBe(false);
      const store = new FileJobStore(join(dir, 'ha'), silentLogger());
      await store.open();
      await expect(
        store.put({
          version: JOB_RECORD_VERSION,
          jobId: 'a'.repeat(32),
          jobName: 'j',
          jarName: 'j.weir',
          bundleId: 'b'.repeat(64),
          programArgs: [],
          startTime: 0,
          status: 'RESTARTING',
          exceptionHistory: [],
          updatedAt: 0,
        }),
      ).rejects.toThrow(LeadershipLostError);
      expect(await store.list()).toEqual([]);
      const client = taskExecutorClient('127.0.0.1:1');
      try {
        await expect(fencedUnary(client, 'ReleaseJob', { jobId: 'x' }, 1000)).rejects.toThrow(
          /ReleaseJob to a TaskManager refused/,
        );
      } finally {
        client.close();
      }

      // Answers that waited through the pause arrive now; leadership stays lost, reported once.
      await new Promise((r) => setTimeout(r, 300));
      expect(election.holds()).toMatch(/not renewed/);
      expect(lost).toHaveLength(1);
    } finally {
      removeFence();
      await election.close();
    }
  }, 30_000);
});

describe('TaskManager fencing of ReleaseJob', () => {
  it('cancels the tasks of a job only for the JobManager it is registered with', () => {
    const canceled: string[] = [];
    const slot = { cancelAll: (jobId: string) => canceled.push(jobId), tasks: new Map() };
    const executor = new TaskExecutor({
      slots: [slot as never],
      log: silentLogger(),
      logFile: join(dir, 'tm.log'),
      onJobManagerHeartbeat: () => true,
      registeredWith: (id) => id === 'new-leader',
    });
    const release = executor.service().ReleaseJob as grpc.handleUnaryCall<object, Ack>;
    const answers: Ack[] = [];
    const call = (request: object) =>
      release({ request } as grpc.ServerUnaryCall<object, Ack>, (_e, res) => answers.push(res!));
    call({ jobId: 'job-1', jobManagerId: 'old-leader' });
    expect(canceled).toEqual([]);
    expect(answers[0]).toMatchObject({ ok: false, error: expect.stringMatching(/refused: JobManager old-leader/) });
    call({ jobId: 'job-1', jobManagerId: 'new-leader' });
    expect(canceled).toEqual(['job-1']);
    expect(answers[1]).toEqual({ ok: true, error: '' });
  });
});

describe('a fenced JobManager', () => {
  it('answers TaskManagers with UNAVAILABLE, touching nothing, and sends no alert', async () => {
    const removeFence = installLeadershipFence(() => 'a test lost the lease');
    try {
      const touched: string[] = [];
      const rm = { register: () => touched.push('register'), onHeartbeat: () => touched.push('heartbeat') };
      const dispatcher = { jobs: { get: () => touched.push('job') } };
      const service = jobManagerService(rm as never, dispatcher as never, {} as never, silentLogger());
      for (const method of ['RegisterTaskManager', 'SendHeartbeat', 'AcknowledgeCheckpoint', 'ReportSourceWatermark']) {
        const handler = service[method] as grpc.handleUnaryCall<object, unknown>;
        const err = await new Promise<grpc.ServiceError | null>((resolve) =>
          handler({ request: { jobId: 'j' } } as grpc.ServerUnaryCall<object, unknown>, (e) =>
            resolve(e as grpc.ServiceError | null),
          ),
        );
        expect(err, method).toMatchObject({
          code: grpc.status.UNAVAILABLE,
          details: 'this JobManager does not lead: a test lost the lease',
        });
      }
      expect(touched).toEqual([]);

      const lines: Array<{ level: string; msg: string }> = [];
      const log = {
        error: (_o: object, msg: string) => lines.push({ level: 'error', msg }),
        info: (_o: object, msg: string) => lines.push({ level: 'info', msg }),
        warn: (_o: object, msg: string) => lines.push({ level: 'warn', msg }),
      } as unknown as Logger;
      let posted = 0;
      const server = (await import('node:http')).createServer((_req, res) => {
        posted++;
        res.writeHead(204).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const port = (server.address() as { port: number }).port;
        const alerts = new AlertNotifier(log, { webhookUrl: `http://127.0.0.1:${port}/hook`, retries: 0 });
        alerts.notify({
          type: 'job-alert',
          jobId: 'j',
          jobName: 'n',
          state: 'RESTARTING',
          cause: 'what a stale leader saw',
          timestamp: 0,
          jobManager: 'http://127.0.0.1:1',
        });
        await alerts.drain(1000);
      } finally {
        server.close();
      }
      expect(posted).toBe(0);
      expect(lines).toEqual([{ level: 'info', msg: 'alert not sent: this JobManager no longer leads' }]);
    } finally {
      removeFence();
    }
  });
});
