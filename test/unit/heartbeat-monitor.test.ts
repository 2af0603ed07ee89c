// The JobManager's verdict on silent TaskManagers (ResourceManager's heartbeat rounds): a round
// that runs late because the JobManager itself was paused waits for the heartbeats queued
// meanwhile; an answer to a heartbeat request counts as a sign of life.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { taskExecutorServiceDefinition } from '../../common/control.js';
import { silentLogger } from '../../common/logging.js';
import { bindServer, shutdownServer } from '../../common/rpc.js';
import { PROTOCOL_VERSION } from '../../common/version.js';
import { ResourceManager } from '../../jobmanager/resource-manager.js';

const INTERVAL_MS = 100;
const TIMEOUT_MS = 400;

let rm: ResourceManager | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  rm?.stop();
  rm = undefined;
  for (const close of closers.splice(0)) await close();
});

/** A TCP port that accepts and never speaks: heartbeat requests to it time out, not fail fast. */
async function silentAddress(): Promise<string> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A TaskExecutor gateway whose only method answers heartbeat requests with `known`. */
async function answeringAddress(known: boolean): Promise<string> {
  const server = new grpc.Server();
  server.addService(taskExecutorServiceDefinition(), {
    RequestHeartbeat: (_call: unknown, cb: grpc.sendUnaryData<{ known: boolean }>) => cb(null, { known }),
  });
  const port = await bindServer(server, '127.0.0.1', 0);
  closers.push(() => shutdownServer(server, 100));
  return `127.0.0.1:${port}`;
}

function register(r: ResourceManager, id: string, rpcAddress: string): void {
  const res = r.register({
    taskManagerId: id,
    rpcAddress,
    slots: 1,
    slotDataAddresses: ['127.0.0.1:1'],
    protocolVersion: PROTOCOL_VERSION,
    engineVersion: 'x',
    pid: 1,
    hostname: 'h',
    workingDir: '/tmp',
  });
  expect(res.accepted).toBe(true);
}

function heartbeat(r: ResourceManager, id: string): void {
  r.onHeartbeat({ taskManagerId: id, jobManagerId: 'jm', tasks: [], rssBytes: 0, heapUsedBytes: 0 });
}

/** Keeps this thread busy, as a JobManager paused by GC or a starved CPU is. */
function pause(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function monitor(): { r: ResourceManager; lost: string[] } {
  const r = new ResourceManager('jm', INTERVAL_MS, TIMEOUT_MS, silentLogger());
  const lost: string[] = [];
  r.on('taskManagerLost', (tm, cause) => lost.push(`${tm.id}: ${cause}`));
  r.start();
  rm = r;
  return { r, lost };
}

describe('the heartbeat monitor', () => {
  it('does not declare a TaskManager lost for heartbeats that queued while the JobManager was paused', async () => {
    const { r, lost } = monitor();
    register(r, 'a', await silentAddress());
    heartbeat(r, 'a');
    await sleep(10);
    pause(TIMEOUT_MS + 300);
    // Runs after the overdue round, as a heartbeat read from a socket after the pause does.
    setImmediate(() => heartbeat(r, 'a'));
    await sleep(INTERVAL_MS * 2.5);
    expect(lost).toEqual([]);
    expect(r.taskManagers.has('a')).toBe(true);
  });

  it('still declares a silent TaskManager lost one round later, and never postpones two rounds in a row', async () => {
    const { r, lost } = monitor();
    register(r, 'a', await silentAddress());
    register(r, 'b', await silentAddress());
    heartbeat(r, 'a');
    heartbeat(r, 'b');
    await sleep(10);
    pause(TIMEOUT_MS + 300);
    // The overdue round is postponed; b speaks once after the pause, a never does.
    setImmediate(() => heartbeat(r, 'b'));
    await sleep(INTERVAL_MS * 2.5);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/^a: TaskManager a .* sent no heartbeat and answered no heartbeat request for \d+ ms/);

    // Two pauses back to back: the second overdue round judges, since the first was postponed.
    pause(INTERVAL_MS * 3);
    await sleep(1);
    pause(TIMEOUT_MS + 300);
    await sleep(1);
    expect(lost.map((l) => l.slice(0, 2))).toEqual(['a:', 'b:']);
  });

  it('counts an answer to a heartbeat request as a sign of life, but not one that serves another JobManager', async () => {
    const { r, lost } = monitor();
    register(r, 'answers', await answeringAddress(true));
    register(r, 'stranger', await answeringAddress(false));
    // Neither sends a heartbeat of its own.
    await sleep(TIMEOUT_MS * 3);
    expect(lost.map((l) => l.split(':')[0])).toEqual(['stranger']);
    expect(r.taskManagers.has('answers')).toBe(true);
  });
});
