// Every line of a FileSource's files, once, through the exactly-once FileSink as "line,subtask".
// The source is bounded, or endless with monitorContinuously(<discoveryMs>). A map chained after it
// spends `slowUs` per line on source subtask 0 and `fastUs` on the others, so the subtasks read at
// different speeds; it fails once (first attempt) when a subtask has mapped `failAt` lines or more
// and a checkpoint completed. `restart` is 'fixed' (fixedDelayRestart(10, 200)) or 'none'.
//   args: <outDir> <bounded|discoveryMs> <checkpointIntervalMs> <slowUs> <fastUs> <failAt|-1> <fixed|none> <path>...
import {
  FileSink,
  FileSource,
  OnCheckpointRollingPolicy,
  RestartStrategies,
  TextLineInputFormat,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';
import { Paced } from './paced.js';

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, discovery, interval, slowUs, fastUs, failAt, restart, ...paths] = args;
  if (Number(interval) > 0) env.enableCheckpointing(Number(interval));
  env.setRestartStrategy(
    restart === 'none' ? RestartStrategies.noRestart() : RestartStrategies.fixedDelayRestart(10, 200),
  );
  const builder = FileSource.forRecordStreamFormat(new TextLineInputFormat(), ...paths);
  if (discovery !== 'bounded') builder.monitorContinuously(Number(discovery));
  env
    .fromSource(builder.build(), WatermarkStrategy.noWatermarks(), 'Lines')
    .uid('lines')
    .map(new Paced<string>(Number(slowUs), Number(fastUs), Number(failAt), 'line'))
    .uid('tagged')
    .name('Tagged')
    .sinkTo(FileSink.forRowFormat<string>(outDir!).withRollingPolicy(OnCheckpointRollingPolicy.build()).build())
    .name('Lines out');
}
