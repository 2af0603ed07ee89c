// WordCount, as in Flink's examples: deterministic text lines from a parallel generator, split
// into words, counted per word. With an output directory the running counts go to files,
// otherwise to stdout.
//   weir run wordcount.weir -- /tmp/wordcount-out 200000
import {
  DataGeneratorSource,
  FileSink,
  RateLimiterStrategy,
  WatermarkStrategy,
  type StreamExecutionEnvironment,
} from 'weir';

const VOCABULARY_SIZE = 1000;
const WORDS_PER_LINE = 8;
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'we', 'zu'];

/** A fixed vocabulary of distinct words: "kalomi", "kalone", ... built from syllables. */
export const VOCABULARY: readonly string[] = Array.from({ length: VOCABULARY_SIZE }, (_, i) =>
  [Math.floor(i / 100), Math.floor(i / 10) % 10, i % 10].map((d) => SYLLABLES[d]).join(''),
);

/** A 32-bit integer hash (murmur3's finalizer): the same index always gives the same words. */
function hash(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The line at `index`: WORDS_PER_LINE words drawn from the vocabulary. */
export function generateLine(index: number): string {
  const words: string[] = [];
  for (let w = 0; w < WORDS_PER_LINE; w++)
    words.push(VOCABULARY[hash(index * WORDS_PER_LINE + w + 1) % VOCABULARY_SIZE]!);
  return words.join(' ');
}

export interface WordCount {
  word: string;
  count: number;
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const [outDir, lines = '200000'] = args;
  const source = new DataGeneratorSource(generateLine, Number(lines), RateLimiterStrategy.noOp());

  const counts = env
    .fromSource(source, WatermarkStrategy.noWatermarks(), 'Lines')
    .flatMap<string>((line, out) => {
      for (const word of line.split(' ')) out.collect(word);
    })
    .map((word): WordCount => ({ word, count: 1 }))
    .keyBy((wc) => wc.word)
    .sum('count')
    .uid('word-counts');

  if (outDir) counts.map((wc) => `${wc.word},${wc.count}`).sinkTo(FileSink.forRowFormat<string>(outDir).build());
  else counts.print();
  await env.execute('WordCount');
}
