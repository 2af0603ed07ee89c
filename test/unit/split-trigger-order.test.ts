// Through the JobManager's real checkpoint path (JobCheckpointing and its CheckpointCoordinator), not
// a model of it: with every call to a TaskManager answered after a random delay, a split handed out
// before a checkpoint's enumerator snapshot reaches its subtask before that checkpoint's trigger, and
// one handed out after reaches it after. Each completed checkpoint's `_metadata` gives the snapshot.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AddSplitsRequest, TriggerCheckpointRequest } from '../../common/control.js';
import type { JobGraph, JobVertex } from '../../common/jobgraph.js';
import { silentLogger } from '../../common/logging.js';
import { ExecutionGraph } from '../../jobmanager/execution-graph.js';
import { JobCheckpointing } from '../../jobmanager/job-checkpointing.js';
import type { ResourceManager } from '../../jobmanager/resource-manager.js';
import { SourceCoordinator } from '../../jobmanager/source-coordinator.js';
import { unary } from '../../common/rpc.js';
import { mulberry32 } from '../reference/random.js';
import { checkpointSettings } from '../helpers/checkpoint-settings.js';

const JOB = 'ab'.repeat(16);
const dir = mkdtempSync(join(tmpdir(), 'weir-split-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Entry = { trigger: number } | { start: number; end: number };

describe('splits and checkpoint triggers', () => {
  it('reach a subtask in the order of the enumerator snapshot, whatever the delays', async () => {
    const random = mulberry32(7);
    const delay = () => new Promise((r) => setTimeout(r, Math.floor(random() * 4)));
    const vertex = {
      id: 'gen',
      name: 'Source: Gen',
      parallelism: 2,
      maxParallelism: 128,
      numInputs: 0,
      operators: [
        {
          id: 'gen',
          name: 'Source: Gen',
          kind: 'source',
          config: { sourceKind: 'datagen', bounded: true, count: 1e10 },
        },
      ],
    } as unknown as JobVertex;
    const jobGraph = { jobId: JOB, name: 'j', vertices: [vertex], edges: [], config: {} } as unknown as JobGraph;
    const graph = new ExecutionGraph(JOB, jobGraph, Date.now());
    const execs = graph.allExecutions();
    for (const e of execs) {
      for (const s of ['SCHEDULED', 'DEPLOYING', 'INITIALIZING', 'RUNNING'] as const) e.transition(s);
      e.taskManagerId = 'tm';
    }
    expect(execs.every((e) => e.state === 'RUNNING')).toBe(true);
    const arrived = new Map<string, Entry[]>(execs.map((e) => [e.executionId, []]));
    // A TaskManager that passes a call on at some point during its delay, and answers after it.
    const answer =
      <Req>(take: (r: Req) => void) =>
      (req: Req, _opts: unknown, cb: (err: null, res: unknown) => void) =>
        void delay()
          .then(() => take(req))
          .then(delay)
          .then(() => cb(null, { ok: true, error: '' }));
    const client = {
      AddSplits: answer<AddSplitsRequest>((r) => arrived.get(r.executionId)!.push(...r.ranges)),
      TriggerCheckpoint: answer<TriggerCheckpointRequest>((r) =>
        arrived.get(r.executionId)!.push({ trigger: Number(r.checkpointId) }),
      ),
    };
    const rm = { taskManagers: new Map([['tm', { client }]]) } as unknown as ResourceManager;
    const sources = new SourceCoordinator(JOB, {
      send: (r) => unary(client as never, 'AddSplits', r, 5000).then(() => undefined),
      undelivered: (_e, m) => {
        throw new Error(m);
      },
      failed: (m) => {
        throw new Error(m);
      },
      warn: () => {},
    });
    sources.reset([vertex], undefined);
    const cp = new JobCheckpointing({
      graph,
      settings: checkpointSettings(),
      checkpointsDir: dir,
      numRetained: 100,
      stateBackend: 'heap',
      historySize: 10,
      rm,
      rpcTimeoutMs: 5000,
      log: silentLogger(),
      periodic: false,
      describeJob: () => ({ jobName: 'j', bundleHash: 'b'.repeat(64), engineVersion: '0' }),
      onFailureThresholdExceeded: () => undefined,
      sources,
    });
    // Requests keep coming from both subtasks while checkpoints are taken.
    let requesting = true;
    const requests = (async () => {
      while (requesting) {
        sources.onSplitRequest(execs[Math.floor(random() * 2)]!.executionId, 'gen');
        await delay();
      }
    })();
    const snapshotOf = new Map<number, number>();
    for (let k = 0; k < 15; k++) {
      const done = cp.coordinator.triggerCheckpoint();
      const id = cp.coordinator.stats().history[0]!.id;
      while (execs.some((e) => !arrived.get(e.executionId)!.some((x) => 'trigger' in x && x.trigger === id)))
        await delay();
      for (const e of execs)
        cp.coordinator.receiveAcknowledge({
          jobId: JOB,
          executionId: e.executionId,
          checkpointId: id,
          handles: [],
          syncDurationMs: 0,
          asyncDurationMs: 0,
          alignmentDurationMs: 0,
        });
      const info = await done;
      const meta = JSON.parse(readFileSync(join(info.dir, '_metadata'), 'utf8'));
      snapshotOf.set(id, meta.operators[0].coordinatorState.next);
      await delay();
    }
    requesting = false;
    await requests;
    await new Promise((r) => setTimeout(r, 50));
    cp.coordinator.stop('test over');
    let checked = 0;
    for (const entries of arrived.values()) {
      for (const [j, x] of entries.entries()) {
        if (!('trigger' in x)) continue;
        const next = snapshotOf.get(x.trigger)!;
        for (const before of entries.slice(0, j)) if ('end' in before) expect(before.end).toBeLessThanOrEqual(next);
        for (const after of entries.slice(j + 1))
          if ('start' in after) expect(after.start).toBeGreaterThanOrEqual(next);
        checked++;
      }
    }
    expect(checked).toBe(30);
    expect([...arrived.values()].flat().filter((x) => 'start' in x).length).toBeGreaterThan(30);
  });
});
