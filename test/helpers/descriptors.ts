// Operator configs for tests that build descriptors by hand (no API, no wire).
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
