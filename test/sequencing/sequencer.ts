// Longest test files first, so the two workers finish together instead of one running a
// two-minute file alone at the end. Durations come from test/sequencing/durations.json (written
// by `npm run test:durations` from a run's JSON report); files it does not know run first, as
// they may be long.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const durations: Record<string, number> = JSON.parse(
  readFileSync(new URL('./durations.json', import.meta.url), 'utf8'),
);

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = files[0]?.project.config.root ?? process.cwd();
    const seconds = (f: TestSpecification) =>
      durations[relative(root, f.moduleId).split('\\').join('/')] ?? Number.POSITIVE_INFINITY;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
