// weir savepoint <jobid> [dir] and weir stop <jobid>: trigger a savepoint (and, for stop, end the
// job with it) through Flink's asynchronous-operation REST calls, then poll for the result.
import { Command } from 'commander';
import { CliError, firstLine } from '../errors.js';
import { addJobManagerOption, checkJobId, restClientOf } from '../options.js';
import { RestError, type RestClient } from '../rest-client.js';

interface AsyncOperationStatus {
  status?: { id?: string };
  operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; class?: string } };
}

/** A JobManager without the route answers with fastify's "Route ... not found". */
function notAvailable(e: unknown): boolean {
  return e instanceof RestError && (e.status === 404 || e.status === 501) && /route|not (implemented|supported|available)/i.test(e.message);
}

async function triggerAndWait(client: RestClient, jobId: string, path: string, body: Record<string, unknown>, what: string): Promise<string> {
  let trigger: { 'request-id'?: string };
  try {
    trigger = await client.post(path, body);
  } catch (e) {
    if (notAvailable(e)) throw new CliError(`${what} is not available on this JobManager yet`);
    if (e instanceof RestError && e.status === 404) throw new CliError(`no job ${jobId} on this JobManager`);
    throw e;
  }
  const requestId = trigger['request-id'];
  if (!requestId) throw new CliError(`the JobManager returned no request id for the ${what}`);
  for (;;) {
    const res = await client.get<AsyncOperationStatus>(`/jobs/${jobId}/savepoints/${encodeURIComponent(requestId)}`);
    if (res.status?.id === 'COMPLETED') {
      const failure = res.operation?.['failure-cause'];
      if (failure) throw new CliError(`${what} failed: ${firstLine(failure['stack-trace'] ?? failure.class ?? 'unknown cause')}`);
      return res.operation?.location ?? '';
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function savepointCommand(): Command {
  return addJobManagerOption(
    new Command('savepoint')
      .description('trigger a savepoint of a running job')
      .argument('<jobid>', 'the job id (32 hex characters)')
      .argument('[targetDirectory]', 'where to write the savepoint (default: state.savepoints.dir)'),
  ).action(async (jobId: string, targetDirectory: string | undefined, opts: { jobmanager: string }) => {
    checkJobId(jobId);
    const body: Record<string, unknown> = { 'cancel-job': false };
    if (targetDirectory) body['target-directory'] = targetDirectory;
    const location = await triggerAndWait(restClientOf(opts), jobId, `/jobs/${jobId}/savepoints`, body, 'savepoint');
    process.stdout.write(`Savepoint completed. Path: ${location}\n`);
  });
}

export function stopCommand(): Command {
  return addJobManagerOption(
    new Command('stop')
      .description('stop a job with a savepoint')
      .argument('<jobid>', 'the job id (32 hex characters)')
      .option('-p, --savepoint-path <dir>', 'where to write the savepoint (default: state.savepoints.dir)')
      .option('-d, --drain', 'send MAX_WATERMARK before stopping, firing all event-time timers and windows'),
  ).action(async (jobId: string, opts: { savepointPath?: string; drain?: boolean; jobmanager: string }) => {
    checkJobId(jobId);
    const body: Record<string, unknown> = { drain: Boolean(opts.drain) };
    if (opts.savepointPath) body.targetDirectory = opts.savepointPath;
    const location = await triggerAndWait(restClientOf(opts), jobId, `/jobs/${jobId}/stop`, body, 'stop with savepoint');
    process.stdout.write(`Job ${jobId} stopped. Savepoint: ${location}\n`);
  });
}
