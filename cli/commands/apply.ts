// weir apply -f FILE|DIR [--dry-run]: reconciles the cluster to WeirJob documents, through the
// JobManager's reconciler (PUT /deployments/:name). Every document is checked (locally, then by the
// JobManager's dry run) before anything changes; then bundles are uploaded and each document applied.
import { Command } from 'commander';
import { BundleResolver } from '../deployments/bundles.js';
import {
  failedAnswer,
  lineOf,
  planAll,
  prepare,
  putDeployment,
  UNREACHED,
  type ApplyAnswer,
} from '../deployments/client.js';
import { CliError } from '../errors.js';
import { addJobManagerOption, restClientOf, type JobManagerFlags } from '../options.js';
import { uploadBundle } from '../submit.js';

interface ApplyFlags extends JobManagerFlags {
  filename: string[];
  dryRun?: boolean;
}

export function applyCommand(): Command {
  return addJobManagerOption(
    new Command('apply')
      .description(
        'create or update deployments from WeirJob YAML files (kind: WeirJob), upgrading running jobs through savepoints',
      )
      .requiredOption(
        '-f, --filename <path...>',
        'a YAML file, or a directory of *.yaml / *.yml files (repeatable); a relative spec.bundle is relative to its file',
      )
      .option('--dry-run', 'print what would change and change nothing'),
  ).action(async (opts: ApplyFlags) => {
    const resolver = new BundleResolver();
    try {
      const prepared = await prepare(opts.filename, resolver);
      const client = restClientOf(opts);
      const plans = await planAll(client, prepared);
      if (opts.dryRun) {
        for (const a of plans) process.stdout.write(`${lineOf(a)}\n`);
        return;
      }
      // Upload each bundle the JobManager lacks, once, and only for documents that change something.
      const jarIds = new Map<string, Promise<string>>();
      const answers: ApplyAnswer[] = [];
      for (const [i, p] of prepared.entries()) {
        let answer: ApplyAnswer;
        try {
          let jarId: string | undefined;
          if (plans[i]!.action !== 'unchanged' && !plans[i]!.bundleKnown) {
            if (!jarIds.has(p.bundle.hash)) jarIds.set(p.bundle.hash, uploadBundle(client, p.bundle.path));
            jarId = await jarIds.get(p.bundle.hash)!;
          }
          answer = await putDeployment(client, p, { dryRun: false, ...(jarId ? { jarId } : {}) });
        } catch (e) {
          answer = failedAnswer(p, e);
        }
        answers.push(answer);
        process.stdout.write(`${lineOf(answer)}\n`);
      }
      // A rolled-back or failed deployment does not run its spec, even when this apply had nothing to do.
      const unreached = answers.filter(
        (a) => UNREACHED.has(a.action) || a.status === 'ROLLED_BACK' || a.status === 'FAILED',
      );
      if (unreached.length)
        throw new CliError(
          `${unreached.length} of ${answers.length} deployment(s) did not reach their spec: ${unreached.map((a) => a.name).join(', ')}`,
        );
    } finally {
      resolver.dispose();
    }
  });
}
