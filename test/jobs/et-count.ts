// Count windows across processes: tumbling countWindow(n) and sliding countWindow(n, slide),
// keyed, at the job's parallelism; each firing writes "kind,key,count,sum".
import { FileSink, type StreamExecutionEnvironment } from 'weir';

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const [outDir, n = '20000', keys = '10', size = '100', slide = '50'] = args;
  const keyCount = Number(keys);
  const numbers = env.fromSequence(0, Number(n) - 1);
  type Acc = { key: number; count: number; sum: number };
  const toAcc = (x: number): Acc => ({ key: x % keyCount, count: 1, sum: x });
  const add = (a: Acc, b: Acc): Acc => ({ key: a.key, count: a.count + b.count, sum: a.sum + b.sum });
  numbers
    .map(toAcc)
    .keyBy((a) => a.key)
    .countWindow(Number(size))
    .reduce(add)
    .uid('tumbling-count')
    .map((a) => `tumbling,${a.key},${a.count},${a.sum}`)
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/tumbling`).build());
  numbers
    .map(toAcc)
    .keyBy((a) => a.key)
    .countWindow(Number(size), Number(slide))
    .reduce(add)
    .uid('sliding-count')
    .map((a) => `sliding,${a.key},${a.count},${a.sum}`)
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/sliding`).build());
  await env.execute('Count windows');
}
