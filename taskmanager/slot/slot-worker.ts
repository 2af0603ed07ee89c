// The thread of one TaskManager slot: runs the slot's tasks with their own mailboxes, timers,
// state backends and user code (bundles load into this thread's module cache and go away with
// it), owns the slot's result partitions and input gates, and serves its partitions to other
// TaskManagers on its own gRPC data server. The main thread keeps the control plane.
import { triggerCheckpointAt } from '../trigger-checkpoint.js';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData, type MessagePort, type Transferable } from 'node:worker_threads';
import type { TaskCheckpointAck } from '../../common/checkpoint.js';
import type { SourceWatermarkReportRequest, SplitRequest } from '../../common/control.js';
import { createForwardingLogger } from '../../common/logging.js';
import { bindServer, shutdownServer } from '../../common/rpc.js';
import { createRpcServer, serverCredentials } from '../../common/security/grpc-security.js';
import { NetworkEnvironment } from '../network/network-environment.js';
import { Task, type TaskStateListener } from '../task.js';
import type { FromSlot, SlotWorkerData, ToSlot } from './slot-messages.js';
import { AlignmentBoard } from '../runtime/alignment-board.js';

const data = workerData as SlotWorkerData;
const port = parentPort as MessagePort;
const send = (m: FromSlot, transfer?: Transferable[]) => port.postMessage(m, transfer);

process.setSourceMapsEnabled(true);
const log = createForwardingLogger('taskmanager', (line) => send({ t: 'log', line })).child({
  taskManagerId: data.taskManagerId,
  slot: data.slotIndex,
});
// A rejection nobody handles (user code's fire-and-forget, say) fails this slot's tasks, as an
// exception in a user function does: thrown again, it ends the thread, and the slot reports why.
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(`unhandled promise rejection: ${String(reason)}`);
});

const network = new NetworkEnvironment({
  taskManagerId: data.taskManagerId,
  segmentSize: data.segmentSize,
  buffersPerChannel: data.buffersPerChannel,
  buffersPerRemoteChannel: data.buffersPerRemoteChannel,
  requestBackoff: data.requestBackoff,
  security: data.security,
  logger: log,
  connectThread: (producerDataAddress, consumerPort) =>
    send({ t: 'connect', producerDataAddress, port: consumerPort }, [consumerPort]),
});
const server = createRpcServer(data.security, log);
network.addToServer(server);

const tasks = new Map<string, Task>();
let bundleRequests = 0;
const pendingBundles = new Map<number, { resolve: (path: string) => void; reject: (e: Error) => void }>();
const bundles = {
  entryPath(bundleId: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = ++bundleRequests;
      pendingBundles.set(req, { resolve, reject });
      send({ t: 'bundle', req, bundleId });
    });
  },
};

const onState: TaskStateListener = (task, state, failure) => {
  const terminal = state === 'FINISHED' || state === 'FAILED' || state === 'CANCELED';
  send({
    t: 'state',
    executionId: task.executionId,
    jobId: task.tdd.jobId,
    name: task.name,
    state,
    ...(failure ? { failure } : {}),
    ...(terminal ? { metrics: task.metrics() } : {}),
  });
};

const checkpointResponder = {
  acknowledge: (ack: TaskCheckpointAck) => send({ t: 'ack', ack }),
  decline: (jobId: string, executionId: string, checkpointId: number, reason: string) =>
    send({ t: 'decline', jobId, executionId, checkpointId, reason }),
};

const alignmentBoard = new AlignmentBoard(data.alignmentBoard, data.boardOwner);

const sourceGateway = {
  reportSourceWatermark: (report: SourceWatermarkReportRequest) => send({ t: 'watermark', report }),
  requestSplit: (request: SplitRequest) => send({ t: 'split-request', request }),
};

function submit(msg: Extract<ToSlot, { t: 'submit' }>): void {
  const tdd = msg.tdd;
  const task = new Task(tdd, {
    network,
    bundles,
    bufferTimeoutMs: data.bufferTimeoutMs,
    bufferDebloat: data.bufferDebloat,
    log,
    onState,
    stateDir: data.stateDir,
    checkpointResponder,
    sourceGateway,
    alignmentBoard,
  });
  tasks.set(tdd.executionId, task);
  log.info({ jobId: tdd.jobId, task: task.name, executionId: tdd.executionId }, 'deploying task');
  void task.run().finally(() => tasks.delete(tdd.executionId));
}

// Metrics travel to the main thread at a fixed pace, which answers heartbeats and /metrics from them.
let reportedEmpty = false;
const metricsTimer = setInterval(() => {
  if (tasks.size === 0 && reportedEmpty) return;
  reportedEmpty = tasks.size === 0;
  const list = [...tasks.values()].map((t) => ({
    executionId: t.executionId,
    jobId: t.tdd.jobId,
    name: t.name,
    subtaskIndex: t.tdd.subtaskIndex,
    metrics: t.metrics(),
  }));
  send({ t: 'metrics', tasks: list, heapUsedBytes: getHeapStatistics().used_heap_size });
}, data.metricsIntervalMs);
metricsTimer.unref();

async function close(): Promise<void> {
  for (const t of tasks.values()) t.cancel();
  await Promise.race([
    Promise.all([...tasks.values()].map((t) => t.terminated)),
    new Promise((r) => setTimeout(r, 5000)),
  ]);
  clearInterval(metricsTimer);
  network.close();
  await shutdownServer(server, 500);
  send({ t: 'closed' });
}

port.on('message', (msg: ToSlot) => {
  switch (msg.t) {
    case 'submit':
      submit(msg);
      return;
    case 'cancel':
      tasks.get(msg.executionId)?.cancel();
      return;
    case 'trigger': {
      send({
        t: 'triggered',
        req: msg.req,
        ...triggerCheckpointAt(tasks.get(msg.executionId), msg.executionId, msg.barrier),
      });
      return;
    }
    case 'notify':
      for (const id of msg.executionIds) tasks.get(id)?.notifyCheckpoint(msg.checkpointId, msg.complete);
      return;
    case 'aligned':
      tasks.get(msg.executionId)?.alignWatermark(msg.limit);
      return;
    case 'splits':
      tasks.get(msg.executionId)?.addSplits(msg.splits);
      return;
    case 'serve':
      network.serveThread(msg.port);
      return;
    case 'bundle': {
      const p = pendingBundles.get(msg.req);
      pendingBundles.delete(msg.req);
      if (msg.entryPath !== undefined) p?.resolve(msg.entryPath);
      else p?.reject(new Error(msg.error ?? 'bundle unavailable'));
      return;
    }
    case 'activate':
      void activate(msg.dataPort);
      return;
    case 'close':
      void close();
      return;
  }
});

// A thread may be loaded ahead of need (a spare) while the thread it replaces still holds the port.
async function activate(dataPort: number): Promise<void> {
  const bound = await bindServer(server, data.bindHost, dataPort, serverCredentials(data.security));
  // What consumers are told and what this thread's own partitions are recognised by; behind NAT or
  // port forwarding it is not the bound address.
  const dataAddress = `${data.host}:${data.announcedDataPort || bound}`;
  network.setDataAddress(dataAddress);
  send({ t: 'ready', dataAddress, boundPort: bound });
}

send({ t: 'loaded' });
