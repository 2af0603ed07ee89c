// Checkpointing settings for tests that drive the checkpoint coordinator by hand: no periodic
// trigger in the way, one checkpoint at a time, no failure tolerated.
import type { CheckpointingSettings } from '../../common/checkpoint.js';

export function checkpointSettings(overrides: Partial<CheckpointingSettings> = {}): CheckpointingSettings {
  return {
    interval: 60_000,
    mode: 'EXACTLY_ONCE',
    timeout: 60_000,
    minPauseBetweenCheckpoints: 0,
    tolerableCheckpointFailureNumber: 0,
    maxConcurrentCheckpoints: 1,
    ...overrides,
  };
}
