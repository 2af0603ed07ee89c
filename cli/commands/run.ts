// weir run <bundle> [-- args]: uploads and runs a bundle; attached, it waits for the job's end.
import { Command, Option } from 'commander';
import { CliError } from '../errors.js';
import { formatDuration } from '../format.js';
import { addJobManagerOption, positiveInt, restClientOf } from '../options.js';
import { runLocally } from '../local-run.js';
import { rootCause, runJar, uploadBundle, waitForTermination } from '../submit.js';

interface RunFlags {
  parallelism?: number;
  detached?: boolean;
  fromSavepoint?: string;
  /** Weir's earlier spelling of --fromSavepoint. */
  savepointPath?: string;
  allowNonRestoredState?: boolean;
  local?: boolean;
  define: string[];
  jobmanager: string;
}

export function runCommand(): Command {
  return addJobManagerOption(
    new Command('run')
      .description(
        'submit a bundle and (unless --detached) wait until the job ends; with --local, run a job in this process',
      )
      .argument('<bundle>', 'the .weir bundle (with --local also a job module: .ts or .js)')
      .argument('[args...]', 'program arguments passed to main(env, args); put them after --')
      .option('-p, --parallelism <n>', 'default parallelism of the job', positiveInt('--parallelism'))
      .option('-d, --detached', 'print the job id and return without waiting')
      // Flink's flag names; the earlier dashed spellings keep working.
      .option('-s, --fromSavepoint <path>', 'start from this savepoint (its directory or _metadata file)')
      .addOption(new Option('--savepoint-path <path>').hideHelp().conflicts('fromSavepoint'))
      .option('-n, --allowNonRestoredState', 'allow savepoint state that maps to no operator of the job')
      .addOption(new Option('--allow-non-restored-state').hideHelp())
      .addOption(
        new Option(
          '--local',
          'run the job in this process on an in-process mini cluster (no JobManager); print() output goes to stdout',
        ).conflicts(['detached', 'fromSavepoint', 'savepointPath']),
      )
      .option(
        '-D, --define <key=value>',
        'with --local: a configuration key of the in-process cluster (repeatable), e.g. -D state.backend=level',
        (v: string, prev: string[]) => [...prev, v],
        [],
      ),
  ).action(async (bundle: string, args: string[], opts: RunFlags) => {
    if (opts.local) return runLocally(bundle, args, { parallelism: opts.parallelism, define: opts.define });
    if (opts.define.length)
      throw new CliError('-D sets the in-process cluster of --local; a cluster takes its configuration when it starts');
    const client = restClientOf(opts);
    const jarId = await uploadBundle(client, bundle);
    const jobId = await runJar(client, jarId, {
      parallelism: opts.parallelism,
      programArgs: args,
      savepointPath: opts.fromSavepoint ?? opts.savepointPath,
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
