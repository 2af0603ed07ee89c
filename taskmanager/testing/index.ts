// weir/testing: test harnesses for a job's functions and small pipelines, after Flink's operator
// test harnesses. They run the engine's own operators, state backends and timer services in the
// test's process, so a test of a function takes milliseconds.
export {
  OneInputHarness,
  KeyedOneInputHarness,
  TwoInputHarness,
  KeyedTwoInputHarness,
  PipelineHarness,
  TwoInputPipelineHarness,
  SourceHarness,
} from './harnesses.js';
export { StreamHarness, subtaskIndexForKey } from './stream-harness.js';
export type { HarnessOptions, OutputElement } from './stream-harness.js';
export { combineSnapshots, repartition } from './harness-snapshot.js';
export type { HarnessSnapshot, OperatorSnapshotState } from './harness-snapshot.js';
export { StreamRecord } from './stream-record.js';
export { TestProcessingTimeService } from './processing-time.js';
export { Watermark } from '../../api/watermark.js';
