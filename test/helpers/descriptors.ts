// Operator configs for tests that build descriptors by hand (no API, no wire).
import type { CheckpointMetadata, CheckpointMetadataOperator } from '../../common/checkpoint.js';
import type { OperatorDescriptor, WindowConfig } from '../../common/jobgraph.js';

/** A window operator's config; the operator itself works from its WindowOperatorSpec. */
export function windowConfig(keyRef?: string): WindowConfig {
  const config: WindowConfig = {
    assigner: { kind: 'custom' },
    trigger: { kind: 'custom' },
    allowedLateness: 0,
    function: 'process',
    withProcessFunction: true,
  };
  if (keyRef !== undefined) config.keyRef = keyRef;
  return config;
}

/** An operator's config as a plain map, for assertions that do not care about its kind. */
export function looseConfig(op: OperatorDescriptor): Record<string, unknown> {
  return { ...op.config };
}

/** A savepoint's `_metadata` (checkpoint 3 of job 'j') holding `operators`. */
export function savepointMetadata(operators: CheckpointMetadataOperator[]): CheckpointMetadata {
  return {
    format: 'weir-checkpoint',
    version: 1,
    jobId: 'j',
    checkpointId: 3,
    timestamp: 0,
    completedAt: 0,
    savepoint: true,
    operators,
    stateSize: 0,
  };
}
