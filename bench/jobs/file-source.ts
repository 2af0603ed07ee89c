// Benchmark job: every line of the text files below a directory, through a small per-line function,
// into a sink that only folds it into a checksum.
//   args: <inputDir>
// FileSource (TextLineInputFormat) → map(lineValue) → sink. Every edge is forward, so the whole
// pipeline chains into one task at any parallelism and nothing is exchanged; at parallelism 2 the
// JobManager hands the files out one per request to whichever source subtask asks.
// The per-line function and the sink are exported for the hand-written loop the benchmark compares
// with (bench/benchmarks/file-source.ts), so both do exactly the same work per line.
import { FileSource, TextLineInputFormat, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';

/** The per-line work: the line's length in UTF-16 code units (the lines are ASCII: its bytes). */
export function lineValue(line: string): number {
  return line.length;
}

/** The sink: folds each value into a checksum nobody reads. */
let checksum = 0;
export function consumeLineValue(v: number): void {
  checksum = (checksum + v) | 0;
}

export function consumedLineChecksum(): number {
  return checksum;
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const inputDir = args[0];
  if (inputDir === undefined || args.length > 1)
    throw new Error(`expected one argument, the input directory; got ${JSON.stringify(args)}`);
  env
    .fromSource(
      FileSource.forRecordStreamFormat(new TextLineInputFormat(), inputDir).build(),
      WatermarkStrategy.noWatermarks(),
      'Lines',
    )
    .uid('lines')
    .map(lineValue)
    .name('Line length')
    .addSink((v: number) => consumeLineValue(v))
    .name('Discard');
  void env.execute('Bench: file source');
}
