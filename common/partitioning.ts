// Which consumer subtasks a producer subtask connects to, per partitioner. 'forward' and
// 'rescale' are pointwise (as in Flink); the others connect every producer to every consumer.
import type { PartitionerKind } from './jobgraph.js';

/** Consumer subtask index for each subpartition of producer subtask `producer`. */
export function consumersOf(
  partitioner: PartitionerKind,
  producer: number,
  producerParallelism: number,
  consumerParallelism: number,
): number[] {
  switch (partitioner) {
    case 'forward':
      return [producer];
    case 'rescale': {
      if (producerParallelism >= consumerParallelism)
        return [Math.floor((producer * consumerParallelism) / producerParallelism)];
      const start = Math.ceil((producer * consumerParallelism) / producerParallelism);
      const end = Math.ceil(((producer + 1) * consumerParallelism) / producerParallelism);
      const out: number[] = [];
      for (let c = start; c < end; c++) out.push(c);
      return out;
    }
    default: {
      const out: number[] = [];
      for (let c = 0; c < consumerParallelism; c++) out.push(c);
      return out;
    }
  }
}
