// weir diff -f FILE|DIR: what `weir apply` would change, field by field, as kubectl diff: exit 0
// when nothing would change, 1 when something would, 2 on an error (a broken file, an unreachable
// JobManager).
import { Command } from 'commander';
import { BundleResolver } from '../deployments/bundles.js';
import { planAll, prepare } from '../deployments/client.js';
import { CliError } from '../errors.js';
import { addJobManagerOption, restClientOf, type JobManagerFlags } from '../options.js';

interface DiffFlags extends JobManagerFlags {
  filename: string[];
}

export function diffCommand(): Command {
  return addJobManagerOption(
    new Command('diff')
      .description('show what `weir apply` would change, field by field (exit 0: nothing, 1: changes, 2: error)')
      .requiredOption('-f, --filename <path...>', 'a YAML file, or a directory of *.yaml / *.yml files (repeatable)'),
  ).action(async (opts: DiffFlags) => {
    const resolver = new BundleResolver();
    let changed = 0;
    try {
      const prepared = await prepare(opts.filename, resolver);
      const answers = await planAll(restClientOf(opts), prepared);
      for (const a of answers) {
        if (a.action === 'unchanged') continue;
        changed++;
        process.stdout.write(`weirjob/${a.name} ${a.message}\n`);
        for (const c of a.changes) process.stdout.write(`  ${c.text}\n`);
      }
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e), 2);
    } finally {
      resolver.dispose();
    }
    // Differences are the answer, not an error: exit 1 without a message, as kubectl diff.
    if (changed) throw new CliError('', 1);
  });
}
