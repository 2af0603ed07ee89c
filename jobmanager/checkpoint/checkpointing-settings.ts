// A job's effective checkpoint settings: what the job set (env.enableCheckpointing and
// getCheckpointConfig()), else the cluster's execution.checkpointing.* keys.
import type {
  CheckpointingMode,
  CheckpointingSettings,
  ExternalizedCheckpointRetention,
} from '../../common/checkpoint.js';
import { OPTIONS, type Configuration } from '../../common/config.js';

/**
 * Undefined when neither the job nor execution.checkpointing.interval enables checkpoints. Each
 * field the job leaves undefined comes from the configuration.
 */
export function resolveCheckpointingSettings(
  job: Partial<CheckpointingSettings> | undefined,
  conf: Configuration,
): CheckpointingSettings | undefined {
  const s = jobCheckpointSettings(job, conf);
  return s.interval > 0 ? s : undefined;
}

/**
 * Every job has checkpoint settings, as in Flink: those of a job that does not checkpoint
 * (interval 0) govern its savepoints and manual checkpoints.
 */
export function jobCheckpointSettings(
  job: Partial<CheckpointingSettings> | undefined,
  conf: Configuration,
): CheckpointingSettings {
  const configured =
    job?.interval !== undefined && job.interval > 0
      ? job.interval
      : conf.getOptionalDuration('execution.checkpointing.interval');
  const interval = configured !== undefined && configured > 0 ? configured : 0;
  const retentionKey = 'execution.checkpointing.externalized-checkpoint-retention';
  const retention =
    job?.externalizedCheckpointRetention ??
    (conf.has(retentionKey)
      ? (conf.getChoice(retentionKey, OPTIONS[retentionKey]!.values!) as ExternalizedCheckpointRetention)
      : undefined);
  const incremental =
    job?.incremental ??
    (conf.has('state.backend.incremental') ? conf.getBoolean('state.backend.incremental') : undefined);
  return {
    interval,
    mode:
      job?.mode ??
      (conf.getChoice(
        'execution.checkpointing.mode',
        OPTIONS['execution.checkpointing.mode']!.values!,
      ) as CheckpointingMode),
    timeout: job?.timeout ?? conf.getDuration('execution.checkpointing.timeout'),
    minPauseBetweenCheckpoints:
      job?.minPauseBetweenCheckpoints ?? conf.getDuration('execution.checkpointing.min-pause'),
    tolerableCheckpointFailureNumber:
      job?.tolerableCheckpointFailureNumber ?? conf.getInt('execution.checkpointing.tolerable-failed-checkpoints'),
    maxConcurrentCheckpoints:
      job?.maxConcurrentCheckpoints ?? conf.getInt('execution.checkpointing.max-concurrent-checkpoints'),
    numRetained: job?.numRetained ?? conf.getInt('state.checkpoints.num-retained'),
    // A cluster setting in Flink too (no CheckpointConfig setter).
    checkpointsAfterTasksFinish: conf.getBoolean('execution.checkpointing.checkpoints-after-tasks-finish.enabled'),
    // Unset: the task applies the key's default (DEFAULT_INCREMENTAL_CHECKPOINTS).
    ...(incremental !== undefined ? { incremental } : {}),
    // Unset: the coordinator applies the key's default (Flink's NO_EXTERNALIZED_CHECKPOINTS).
    ...(retention ? { externalizedCheckpointRetention: retention } : {}),
  };
}
