// Paired A/B of two cluster settings (configuration or TaskManager Node.js flags) on the keyed
// count or a Nexmark query: both clusters run at once, and each pair runs a job on one, then the
// same job on the other, the order alternating. This machine's speed moves by a tenth or more from
// one minute to the next, so whole clusters in alternating rounds (as the benchmarks run) cannot
// show a change of a few percent; two jobs seconds apart see nearly the same machine.
//   npm run build && node dist/bench/ab.js [--variant b|c|d] [--pairs N] [--records N]
//     [--query q5|q7|q8] [-A key=value ...] [-B key=value ...] [--node-a flag ...] [--node-b flag ...]
// Variants as in the keyed-count benchmark: b parallelism 1, c parallelism 2 on two TaskManagers of
// one slot, d parallelism 2 on one TaskManager of two slots. Prints each pair's rates and B/A, then
// the median ratio and in how many pairs B was faster.
import { parseArgs } from 'node:util';
import { parseDynamicProperties, type ConfigMap } from '../common/config.js';
import { BenchCluster } from './lib/cluster.js';
import { keyedCountOrQuery } from './lib/job-choice.js';
import { formatCount, median, perSecond } from './lib/stats.js';
import { runningWindow } from './lib/timing.js';

interface Side {
  name: 'A' | 'B';
  config: ConfigMap;
  nodeArgs: string[];
  cluster?: BenchCluster;
  jarId?: string;
}

const VARIANTS = {
  b: { parallelism: 1, taskManagers: 1, slots: 1 },
  c: { parallelism: 2, taskManagers: 2, slots: 1 },
  d: { parallelism: 2, taskManagers: 1, slots: 2 },
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'd' },
      pairs: { type: 'string', default: '10' },
      records: { type: 'string', default: '20000000' },
      query: { type: 'string' },
      A: { type: 'string', short: 'A', multiple: true },
      B: { type: 'string', short: 'B', multiple: true },
      'node-a': { type: 'string', multiple: true },
      'node-b': { type: 'string', multiple: true },
    },
  });
  const variant = VARIANTS[values.variant as keyof typeof VARIANTS];
  if (variant === undefined) throw new Error(`--variant must be b, c or d, got ${values.variant}`);
  const pairs = Number(values.pairs);
  const records = Number(values.records);
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs must be a positive integer`);
  if (!Number.isInteger(records) || records < 1) throw new Error(`--records must be a positive integer`);
  const { job, args: jobArgs } = keyedCountOrQuery(values.query);
  const sides: Side[] = [
    { name: 'A', config: parseDynamicProperties(values.A ?? []), nodeArgs: values['node-a'] ?? [] },
    { name: 'B', config: parseDynamicProperties(values.B ?? []), nodeArgs: values['node-b'] ?? [] },
  ];
  try {
    for (const side of sides) {
      const cluster = await BenchCluster.start({ taskManagers: 0, slots: variant.slots, config: side.config });
      side.cluster = cluster;
      for (let i = 0; i < variant.taskManagers; i++) await cluster.addTaskManager(side.nodeArgs);
      side.jarId = await cluster.upload(await cluster.bundle(job));
    }
    const run = async (side: Side, n: number): Promise<number> => {
      // A slot loads a spare thread a second after its job: that must not land in the other side's job.
      for (const s of sides) await s.cluster!.awaitSpareThreads();
      const c = side.cluster!;
      const finished = await c.waitForFinished(await c.run(side.jarId!, jobArgs(n), variant.parallelism));
      return perSecond(n, runningWindow(finished).durationMs);
    };
    for (const side of sides) await run(side, Math.max(1, Math.floor(records / 10)));
    const ratios: number[] = [];
    for (let p = 0; p < pairs; p++) {
      const order = p % 2 === 0 ? sides : [...sides].reverse();
      const rate: Record<string, number> = {};
      for (const side of order) rate[side.name] = await run(side, records);
      const ratio = rate.B! / rate.A!;
      ratios.push(ratio);
      process.stdout.write(
        `pair ${p + 1}: A ${formatCount(rate.A!)}/s, B ${formatCount(rate.B!)}/s, B/A ${ratio.toFixed(3)}\n`,
      );
    }
    const faster = ratios.filter((r) => r > 1).length;
    process.stdout.write(
      `B/A median ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}); B faster in ${faster} of ${pairs} pairs\n`,
    );
  } finally {
    for (const side of sides) await side.cluster?.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
