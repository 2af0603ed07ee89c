// weir savepoint <jobid> [dir]: trigger a savepoint and wait for its path; weir savepoint --dispose
// <path>: delete one (Flink's POST /savepoint-disposal). Both poll Flink's asynchronous operations.
import { Command } from 'commander';
import { awaitCompletion, trigger } from '../async-operation.js';
import { CliError } from '../errors.js';
import { addJobManagerOption, checkJobId, restClientOf } from '../options.js';
import type { RestClient } from '../rest-client.js';

interface SavepointFlags {
  dispose?: string;
  jobmanager: string;
}

async function savepoint(client: RestClient, jobId: string, targetDirectory: string | undefined): Promise<void> {
  const body: Record<string, unknown> = { 'cancel-job': false };
  if (targetDirectory) body['target-directory'] = targetDirectory;
  const requestId = await trigger(
    client,
    `/jobs/${jobId}/savepoints`,
    body,
    'savepoint',
    `no job ${jobId} on this JobManager`,
  );
  const op = await awaitCompletion(client, `/jobs/${jobId}/savepoints/${encodeURIComponent(requestId)}`, 'savepoint');
  process.stdout.write(`Savepoint completed. Path: ${op.location ?? ''}\n`);
}

async function dispose(client: RestClient, path: string): Promise<void> {
  const requestId = await trigger(client, '/savepoint-disposal', { 'savepoint-path': path }, 'savepoint disposal');
  await awaitCompletion(client, `/savepoint-disposal/${encodeURIComponent(requestId)}`, 'savepoint disposal');
  process.stdout.write(`Savepoint '${path}' disposed.\n`);
}

export function savepointCommand(): Command {
  return addJobManagerOption(
    new Command('savepoint')
      .description('trigger a savepoint of a running job, or dispose of one with --dispose')
      .argument('[jobid]', 'the job id (32 hex characters)')
      .argument('[targetDirectory]', 'where to write the savepoint (default: state.savepoints.dir)')
      .option(
        '-d, --dispose <path>',
        'delete the savepoint at this path (a savepoint directory or its _metadata file)',
      ),
  ).action(async (jobId: string | undefined, targetDirectory: string | undefined, opts: SavepointFlags) => {
    const client = restClientOf(opts);
    if (opts.dispose !== undefined) {
      if (jobId !== undefined) throw new CliError('--dispose takes a savepoint path and no job id');
      if (!opts.dispose.trim()) throw new CliError('--dispose needs the path of a savepoint');
      return dispose(client, opts.dispose);
    }
    if (jobId === undefined)
      throw new CliError(
        'missing the job id: weir savepoint <jobid> [targetDirectory], or weir savepoint --dispose <path>',
      );
    await savepoint(client, checkJobId(jobId), targetDirectory);
  });
}
