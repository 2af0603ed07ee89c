// The JobManager's gRPC service (JobManagerGateway): what TaskManagers call.
import { createReadStream } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { TaskCheckpointAck } from '../common/checkpoint.js';
import { invalidAckIdentity, parseTaskCheckpointAck } from '../common/contracts/checkpoint-schema.js';
import type {
  Ack,
  DeclineCheckpointRequest,
  RegisterTaskManagerRequest,
  SourceWatermarkAnswer,
  SourceWatermarkReportRequest,
  SplitRequest,
  TaskExecutionState,
  TaskManagerHeartbeat,
} from '../common/control.js';
import type { Logger } from '../common/logging.js';
import type { Dispatcher } from './dispatcher.js';
import { leadershipLostReason } from './ha/leadership-fence.js';
import type { JarStore } from './jar-store.js';
import type { ResourceManager } from './resource-manager.js';

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** UNAVAILABLE when this JobManager may not act (a standby, or a leader past its lease): TaskManagers retry and follow the leader. */
function notLeading(): Partial<grpc.ServiceError> | undefined {
  const reason = leadershipLostReason();
  return reason === undefined
    ? undefined
    : { code: grpc.status.UNAVAILABLE, details: `this JobManager does not lead: ${reason}` };
}

function fenced<Req, Res>(handler: Unary<Req, Res>): Unary<Req, Res> {
  return (call, cb) => {
    const refusal = notLeading();
    if (refusal) return cb(refusal, null);
    handler(call, cb);
  };
}

export function jobManagerService(
  rm: ResourceManager,
  dispatcher: Dispatcher,
  jars: JarStore,
  log: Logger,
): grpc.UntypedServiceImplementation {
  const RegisterTaskManager: Unary<RegisterTaskManagerRequest, unknown> = (call, cb) =>
    cb(null, rm.register(call.request));

  const SendHeartbeat: Unary<TaskManagerHeartbeat, unknown> = (call, cb) =>
    cb(null, { known: rm.onHeartbeat(call.request) });

  const UpdateTaskExecutionState: Unary<TaskExecutionState, Ack> = (call, cb) => {
    const u = call.request;
    const jm = dispatcher.jobs.get(u.jobId);
    if (!jm) return cb(null, { ok: false, error: `unknown job ${u.jobId}` });
    try {
      jm.onTaskState(u);
      cb(null, { ok: true, error: '' });
    } catch (e) {
      log.error({ err: e, jobId: u.jobId }, 'task state update failed');
      cb(null, { ok: false, error: (e as Error).message });
    }
  };

  const DisconnectTaskManager: Unary<{ taskManagerId: string; reason: string }, Ack> = (call, cb) => {
    rm.disconnect(call.request.taskManagerId, call.request.reason || 'shut down');
    cb(null, { ok: true, error: '' });
  };

  const FetchBundle: grpc.handleServerStreamingCall<{ bundleId: string }, { data: Buffer }> = (call) => {
    const refusal = notLeading();
    if (refusal) return call.destroy(Object.assign(new Error(refusal.details), refusal));
    let path: string;
    try {
      path = jars.bundlePath(call.request.bundleId);
    } catch (e) {
      call.destroy(Object.assign(new Error((e as Error).message), { code: grpc.status.INVALID_ARGUMENT }));
      return;
    }
    const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
    stream.on('data', (chunk) => call.write({ data: chunk as Buffer }));
    stream.on('end', () => call.end());
    stream.on('error', (e) =>
      call.destroy(
        Object.assign(new Error(`bundle ${call.request.bundleId} not available: ${e.message}`), {
          code: grpc.status.NOT_FOUND,
        }),
      ),
    );
  };

  const AcknowledgeCheckpoint: Unary<{ jobId: string; ackJson: string }, Ack> = (call, cb) => {
    const jm = dispatcher.jobs.get(call.request.jobId);
    if (!jm) return cb(null, { ok: false, error: `unknown job ${call.request.jobId}` });
    let ack: TaskCheckpointAck;
    try {
      ack = parseTaskCheckpointAck(call.request.ackJson);
    } catch (e) {
      // A TaskManager of another version, or a bug: the ack is dropped. When it still names its
      // checkpoint and task, that checkpoint is declined with the reason rather than left to time out.
      const reason = (e as Error).message;
      const id = invalidAckIdentity(call.request.ackJson);
      log.warn(
        { jobId: call.request.jobId, reason, declined: id !== undefined },
        'invalid checkpoint acknowledgement dropped',
      );
      if (id) jm.onCheckpointDecline(id.executionId, id.checkpointId, reason);
      return cb(null, { ok: false, error: reason });
    }
    try {
      jm.onCheckpointAck(ack);
      cb(null, { ok: true, error: '' });
    } catch (e) {
      log.error({ err: e, jobId: call.request.jobId }, 'checkpoint acknowledgement failed');
      cb(null, { ok: false, error: (e as Error).message });
    }
  };

  const DeclineCheckpoint: Unary<DeclineCheckpointRequest, Ack> = (call, cb) => {
    const r = call.request;
    const jm = dispatcher.jobs.get(r.jobId);
    if (!jm) return cb(null, { ok: false, error: `unknown job ${r.jobId}` });
    jm.onCheckpointDecline(r.executionId, Number(r.checkpointId), r.reason);
    cb(null, { ok: true, error: '' });
  };

  const ReportSourceWatermark: Unary<SourceWatermarkReportRequest, SourceWatermarkAnswer> = (call, cb) => {
    const { jobId, ...report } = call.request;
    const jm = dispatcher.jobs.get(jobId);
    // An unknown job (ended, or not here): no limit, the task is about to be canceled anyway.
    cb(null, jm ? jm.onSourceWatermark(report) : { maxAllowedWatermark: Infinity, sequence: 0 });
  };

  const RequestSplit: Unary<SplitRequest, Ack> = (call, cb) => {
    const { jobId, executionId } = call.request;
    const jm = dispatcher.jobs.get(jobId);
    if (!jm) return cb(null, { ok: false, error: `unknown job ${jobId}` });
    jm.onSplitRequest(executionId);
    cb(null, { ok: true, error: '' });
  };

  return {
    RegisterTaskManager: fenced(RegisterTaskManager),
    SendHeartbeat: fenced(SendHeartbeat),
    UpdateTaskExecutionState: fenced(UpdateTaskExecutionState),
    DisconnectTaskManager: fenced(DisconnectTaskManager),
    FetchBundle,
    AcknowledgeCheckpoint: fenced(AcknowledgeCheckpoint),
    DeclineCheckpoint: fenced(DeclineCheckpoint),
    ReportSourceWatermark: fenced(ReportSourceWatermark),
    RequestSplit: fenced(RequestSplit),
  };
}
