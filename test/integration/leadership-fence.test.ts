// Fencing of a JobManager that leads through etcd (a real etcd): a leader paused past two thirds
// of its lease (here: its thread blocked, as SIGSTOP or a suspended VM would) refuses every effect
// outside the process before any timer of its own runs, and stays fenced once it runs on (answers
// that waited in a socket arrive, its timers fire). TaskManagers refuse ReleaseJob from a
// JobManager they are not registered with (a job keeps its id across leaders).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointMetadata } from '../../common/checkpoint.js';
import { taskExecutorClient, type Ack } from '../../common/control.js';
import { silentLogger } from '../../common/logging.js';
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
