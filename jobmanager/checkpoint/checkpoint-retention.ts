// What happens to a job's retained checkpoints when the job ends: Flink's
// execution.checkpointing.externalized-checkpoint-retention (CheckpointRetentionPolicy and the
// discard flags of CheckpointProperties). Savepoints are never the engine's to delete.
import type { ExternalizedCheckpointRetention } from '../../common/checkpoint.js';

export type { ExternalizedCheckpointRetention };

export const EXTERNALIZED_CHECKPOINT_RETENTIONS: readonly ExternalizedCheckpointRetention[] = [
  'NO_EXTERNALIZED_CHECKPOINTS',
  'DELETE_ON_CANCELLATION',
  'RETAIN_ON_CANCELLATION',
];

/** Flink's default. */
export const DEFAULT_EXTERNALIZED_CHECKPOINT_RETENTION: ExternalizedCheckpointRetention = 'NO_EXTERNALIZED_CHECKPOINTS';

export type TerminalJobStatus = 'FINISHED' | 'FAILED' | 'CANCELED';

/**
 * Whether a job that ended in `status` loses its retained checkpoints, as in Flink:
 * - FINISHED: always (nothing is left to resume);
 * - CANCELED: unless RETAIN_ON_CANCELLATION;
 * - FAILED: only with NO_EXTERNALIZED_CHECKPOINTS (both other modes keep them to resume from).
 */
export function discardsOnJobEnd(retention: ExternalizedCheckpointRetention, status: TerminalJobStatus): boolean {
  if (status === 'FINISHED') return true;
  if (status === 'CANCELED') return retention !== 'RETAIN_ON_CANCELLATION';
  return retention === 'NO_EXTERNALIZED_CHECKPOINTS';
}

/** GET /jobs/:jobid/checkpoints/config `externalization`, as Flink's CheckpointConfigHandler derives it. */
export function externalizationJson(retention: ExternalizedCheckpointRetention): {
  enabled: boolean;
  delete_on_cancellation: boolean;
} {
  return {
    enabled: retention !== 'NO_EXTERNALIZED_CHECKPOINTS',
    delete_on_cancellation: retention !== 'RETAIN_ON_CANCELLATION',
  };
}
