// The JobMaster options that come from the cluster's configuration and the job's own settings,
// for the Dispatcher and the in-process mini cluster alike.
import type { CheckpointingSettings, RestartStrategySettings } from '../common/checkpoint.js';
import { stateBackendType, type Configuration } from '../common/config.js';
import type { JobGraph } from '../common/jobgraph.js';
import { jobCheckpointSettings } from './checkpoint/checkpointing-settings.js';
import type { JobMasterOptions } from './job-master.js';
import { createRestartStrategy } from './restart/restart-strategy.js';

export type ConfiguredJobOptions = Pick<
  JobMasterOptions,
  | 'slotRequestTimeoutMs'
  | 'cancellationTimeoutMs'
  | 'spreadOutSlots'
  | 'rpcTimeoutMs'
  | 'restartStrategy'
  | 'checkpointing'
>;

/** Thrown for a restart strategy the job's settings or the configuration cannot make. */
export class InvalidRestartStrategyError extends Error {}

export function configuredJobOptions(
  conf: Configuration,
  jobGraph: JobGraph,
  checkpointsDir: string,
): ConfiguredJobOptions {
  const settings = jobCheckpointSettings(
    jobGraph.config.checkpointing as Partial<CheckpointingSettings> | undefined,
    conf,
  );
  const periodic = settings.interval > 0;
  let restartStrategy;
  try {
    restartStrategy = createRestartStrategy(
      jobGraph.config.restartStrategy as RestartStrategySettings | undefined,
      conf,
      periodic,
    );
  } catch (e) {
    throw new InvalidRestartStrategyError(`invalid restart strategy: ${(e as Error).message}`, { cause: e });
  }
  return {
    slotRequestTimeoutMs: conf.getDuration('slot.request.timeout'),
    cancellationTimeoutMs: conf.getDuration('task.cancellation.timeout'),
    spreadOutSlots: conf.getBoolean('cluster.evenly-spread-out-slots'),
    rpcTimeoutMs: Math.max(5000, conf.getDuration('heartbeat.timeout')),
    restartStrategy,
    checkpointing: {
      settings,
      periodic,
      checkpointsDir,
      numRetained: conf.getInt('state.checkpoints.num-retained'),
      stateBackend: stateBackendType(conf),
      historySize: conf.getInt('web.checkpoints.history'),
    },
  };
}
