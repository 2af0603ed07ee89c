// weir stop <jobid> [-p dir] [-d]: stop a job with a savepoint (Flink's POST /jobs/:jobid/stop),
// wait until the job has ended and print the savepoint's path.
import { Command, Option } from 'commander';
import { awaitCompletion, trigger } from '../async-operation.js';
import { addJobManagerOption, checkJobId, restClientOf } from '../options.js';

interface StopFlags {
  savepointPath?: string;
  drain?: boolean;
  jobmanager: string;
}

export function stopCommand(): Command {
  return addJobManagerOption(
    new Command('stop')
      .description('stop a job with a savepoint')
      .argument('<jobid>', 'the job id (32 hex characters)')
      .option('-p, --savepointPath <dir>', 'where to write the savepoint (default: state.savepoints.dir)')
      // Weir's earlier spelling, kept working.
      .addOption(new Option('--savepoint-path <dir>').hideHelp())
      .option('-d, --drain', 'send MAX_WATERMARK before stopping, firing all event-time timers and windows'),
  ).action(async (jobId: string, opts: StopFlags) => {
    checkJobId(jobId);
    const client = restClientOf(opts);
    const body: Record<string, unknown> = { drain: Boolean(opts.drain) };
    if (opts.savepointPath) body.targetDirectory = opts.savepointPath;
    const what = 'stop with savepoint';
    const requestId = await trigger(client, `/jobs/${jobId}/stop`, body, what, `no job ${jobId} on this JobManager`);
    // As in Flink, the stop's status is read where savepoints' are.
    const op = await awaitCompletion(client, `/jobs/${jobId}/savepoints/${encodeURIComponent(requestId)}`, what);
    process.stdout.write(`Job ${jobId} stopped. Savepoint: ${op.location ?? ''}\n`);
  });
}
