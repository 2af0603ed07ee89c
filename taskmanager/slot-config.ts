// What every slot's thread is configured with, read from the TaskManager's configuration: its
// addresses, network buffers and backoff, where state goes, and the internal security settings.
import { join } from 'node:path';
import type { Configuration } from '../common/config.js';
import type { InternalSecurity } from '../common/security/internal-security.js';
import { slotDataPorts } from './slot/data-ports.js';
import type { TaskSlot } from './slot/task-slot.js';
import { createAlignmentBoard } from './runtime/alignment-board.js';
import { bufferDebloatConfigOf } from './runtime/buffer-debloater.js';

export type SlotConfig = ConstructorParameters<typeof TaskSlot>[1];

export function slotConfig(
  conf: Configuration,
  opts: {
    taskManagerId: string;
    slots: number;
    workingDir: string;
    heartbeatIntervalMs: number;
    security: InternalSecurity;
  },
): SlotConfig {
  // Announced to others; behind NAT the servers bind another address (taskmanager.bind-host).
  const host = conf.getString('taskmanager.host');
  const bindHost = conf.getOptionalString('taskmanager.bind-host') ?? host;
  return {
    taskManagerId: opts.taskManagerId,
    host,
    bindHost,
    dataPorts: slotDataPorts(conf, opts.slots),
    segmentSize: conf.getMemorySize('taskmanager.memory.segment-size'),
    buffersPerChannel: conf.getInt('taskmanager.network.memory.buffers-per-channel'),
    buffersPerRemoteChannel: conf.getInt('taskmanager.network.memory.buffers-per-remote-channel'),
    requestBackoff: {
      initialMs: conf.getDuration('taskmanager.network.request-backoff.initial'),
      maxMs: conf.getDuration('taskmanager.network.request-backoff.max'),
    },
    bufferTimeoutMs: conf.getDuration('execution.buffer-timeout'),
    bufferDebloat: bufferDebloatConfigOf(conf),
    stateDir: join(opts.workingDir, 'state'),
    metricsIntervalMs: Math.max(50, Math.min(500, opts.heartbeatIntervalMs)),
    cancellationTimeoutMs: conf.getDuration('task.cancellation.timeout'),
    spareThread: conf.getBoolean('taskmanager.slot.spare-thread'),
    // Records between operators on different threads wait for a credit, a watermark or the other
    // thread's turn, and window results wait in the next window's state for the watermark of every
    // upstream subtask: tens of milliseconds, in which V8's default young generation (48 MB) fills
    // twice at full speed, so they were promoted and collected by full collections.
    youngGenerationMb: Math.floor(conf.getMemorySize('taskmanager.memory.young-generation-size') / 2 ** 20),
    security: opts.security,
    // One per TaskManager: its slot threads align their sources' watermarks on it.
    alignmentBoard: createAlignmentBoard(),
  };
}
