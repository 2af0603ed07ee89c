// weir cancel <jobid>: PATCH /jobs/:jobid?mode=cancel, as Flink's CLI does.
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { addJobManagerOption, checkJobId, restClientOf } from '../options.js';
import { RestError } from '../rest-client.js';

export function cancelCommand(): Command {
  return addJobManagerOption(
    new Command('cancel').description('cancel a running job').argument('<jobid>', 'the job id (32 hex characters)'),
  ).action(async (jobId: string, opts: { jobmanager: string }) => {
    checkJobId(jobId);
    try {
      await restClientOf(opts).patch(`/jobs/${jobId}?mode=cancel`);
    } catch (e) {
      if (e instanceof RestError && e.status === 404) throw new CliError(`no job ${jobId} on this JobManager`);
      throw e;
    }
    process.stdout.write(`Cancelled job ${jobId}.\n`);
  });
}
