// weir run <bundle> [-- args]: uploads and runs a bundle; attached, it waits for the job's end.
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { formatDuration } from '../format.js';
import { addJobManagerOption, positiveInt, restClientOf } from '../options.js';
import { rootCause, runJar, uploadBundle, waitForTermination } from '../submit.js';

interface RunFlags {
  parallelism?: number;
  detached?: boolean;
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  jobmanager: string;
}

export function runCommand(): Command {
  return addJobManagerOption(
    new Command('run')
      .description('submit a bundle and (unless --detached) wait until the job ends')
      .argument('<bundle>', 'the .weir bundle')
      .argument('[args...]', 'program arguments passed to main(env, args); put them after --')
      .option('-p, --parallelism <n>', 'default parallelism of the job', positiveInt('--parallelism'))
      .option('-d, --detached', 'print the job id and return without waiting')
      .option('-s, --savepoint-path <path>', 'start from this savepoint')
      .option('-n, --allow-non-restored-state', 'allow savepoint state that maps to no operator of the job'),
  ).action(async (bundle: string, args: string[], opts: RunFlags) => {
    const client = restClientOf(opts);
    const jarId = await uploadBundle(client, bundle);
    const jobId = await runJar(client, jarId, {
      parallelism: opts.parallelism,
      programArgs: args,
      savepointPath: opts.savepointPath,
      allowNonRestoredState: opts.allowNonRestoredState,
    });
    process.stdout.write(`Job has been submitted with JobID ${jobId}\n`);
    if (opts.detached) return;

    const started = Date.now();
    const state = await waitForTermination(client, jobId);
    if (state === 'FINISHED') {
      process.stdout.write(`Job ${jobId} finished in ${formatDuration(Date.now() - started)}.\n`);
      return;
    }
    const cause = state === 'FAILED' ? await rootCause(client, jobId) : undefined;
    throw new CliError(`job ${jobId} ${state}${cause ? `: ${cause}` : ''}`);
  });
}
