// A checkpoint trigger at a source task, answered with the reason when the task cannot take it.
import type { BarrierInfo } from './runtime/checkpoint-barrier-handler.js';
import type { Task } from './task.js';

export function triggerCheckpointAt(
  task: Task | undefined,
  executionId: string,
  barrier: BarrierInfo,
): { ok: boolean; error: string } {
  const ok = task?.triggerCheckpoint(barrier) ?? false;
  if (ok) return { ok, error: '' };
  return {
    ok,
    error: task ? `task ${task.name} is not running a source (state ${task.state})` : `no task ${executionId}`,
  };
}
