// weir get deployments [NAME]: the deployments the JobManager reconciles, as a table (with a name,
// also its version history), or as JSON / YAML.
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import type { DeploymentDetails, DeploymentSummary as Summary } from '../../jobmanager/deployments/deployment-view.js';
import { CliError } from '../errors.js';
import { formatTable, formatTimestamp } from '../format.js';
import { addJobManagerOption, restClientOf, type JobManagerFlags } from '../options.js';

interface GetFlags extends JobManagerFlags {
  output: 'table' | 'json' | 'yaml';
}

const RESOURCES = new Set(['deployments', 'deployment', 'deploy', 'weirjobs', 'weirjob']);

const p = (n: number | null) => (n === null ? 'default' : String(n));

function row(d: Summary): string[] {
  const parallelism =
    d.runningParallelism !== null && d.runningParallelism !== d.parallelism
      ? `${p(d.runningParallelism)} (want ${p(d.parallelism)})`
      : p(d.parallelism);
  return [
    d.name,
    d.status,
    d.state,
    d.jobId ?? '-',
    d.jobState ?? '-',
    String(d.version),
    parallelism,
    d.bundleHash.slice(0, 12),
    d.lastSavepoint?.path ?? '-',
    formatTimestamp(d.updatedAt),
  ];
}

const HEADER = [
  'NAME',
  'STATUS',
  'DESIRED',
  'JOB',
  'JOB STATE',
  'VERSION',
  'PARALLELISM',
  'BUNDLE',
  'LAST SAVEPOINT',
  'UPDATED',
];

function history(versions: DeploymentDetails['history']): string {
  const rows = [...versions]
    .reverse()
    .map((v) => [
      String(v.version),
      formatTimestamp(v.time),
      v.action,
      v.jobId ? `${v.jobId}${v.jobState ? ` (${v.jobState})` : ''}` : '-',
      v.restoredFrom ? `from ${v.restoredFrom}` : v.savepoint ? `took ${v.savepoint}` : '-',
      v.outcome + (v.cause ? `: ${v.cause.split('\n')[0]}` : ''),
      v.changes.map((c) => c.text).join('; ') || '-',
    ]);
  return formatTable(['VERSION', 'TIME', 'ACTION', 'JOB', 'SAVEPOINT', 'OUTCOME', 'CHANGES'], rows);
}

export function getCommand(): Command {
  return addJobManagerOption(
    new Command('get')
      .description(
        'list deployments (weir get deployments), or show one with its version history (weir get deployments NAME)',
      )
      .argument('<resource>', 'deployments')
      .argument('[name]', 'one deployment')
      .addOption(
        new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'),
      ),
  ).action(async (resource: string, name: string | undefined, opts: GetFlags) => {
    if (!RESOURCES.has(resource.toLowerCase()))
      throw new CliError(`unknown resource type '${resource}' (weir get knows: deployments)`);
    const client = restClientOf(opts);
    const body = name
      ? await client.get<DeploymentDetails>(`/deployments/${encodeURIComponent(name)}`)
      : await client.get<{ deployments: Summary[] }>('/deployments');
    if (opts.output === 'json') return void process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    if (opts.output === 'yaml') return void process.stdout.write(stringify(body));
    if (!name) {
      const list = (body as { deployments: Summary[] }).deployments;
      process.stdout.write(list.length ? `${formatTable(HEADER, list.map(row))}\n` : 'No deployments.\n');
      return;
    }
    const d = body as DeploymentDetails;
    process.stdout.write(`${formatTable(HEADER, [row(d)])}\n`);
    if (d.cause) process.stdout.write(`\nCause: ${d.cause}\n`);
    process.stdout.write(`\nHistory:\n${history(d.history)}\n`);
  });
}
