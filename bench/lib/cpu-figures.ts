// The TaskManagers' CPU time per record (every thread, from deployment to the job's end) of the
// chained and the parallel variants. Over the chained variant's, it is what running in parallel
// costs: with twice the CPU per record, two cores can at best match one chained task.
import type { Figure } from './benchmark.js';
import { median, medianFigure } from './stats.js';

export function cpuFigures(
  prefix: string,
  what: string,
  /** Per variant, the chained one (b) among them; every other is also put over b. */
  usPerRecord: { b: number[] } & Record<string, number[]>,
): Figure[] {
  const figures: Figure[] = [];
  for (const [variant, us] of Object.entries(usPerRecord))
    figures.push(
      medianFigure(`${prefix}(${variant}) TaskManager CPU per ${what}`, us, 'µs', 'every thread, the whole job'),
    );
  const b = median(usPerRecord.b);
  for (const variant of Object.keys(usPerRecord).filter((v) => v !== 'b'))
    figures.push({
      name: `${prefix}CPU per ${what}, ${variant} over b`,
      value: median(usPerRecord[variant]!) / b,
      unit: 'ratio',
    });
  return figures;
}
