// weir list [--all]: the jobs the JobManager knows, as a table.
import { Command } from 'commander';
import { formatDuration, formatTable, formatTimestamp } from '../format.js';
import { addJobManagerOption, restClientOf } from '../options.js';
import { TERMINAL_STATES } from '../submit.js';

interface JobOverview {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  duration: number;
}

export function listCommand(): Command {
  return addJobManagerOption(
    new Command('list')
      .description('list running jobs (with --all, finished, failed and canceled ones too)')
      .option('-a, --all', 'include jobs that have ended'),
  ).action(async (opts: { all?: boolean; jobmanager: string }) => {
    const { jobs } = await restClientOf(opts).get<{ jobs: JobOverview[] }>('/jobs/overview');
    const shown = (jobs ?? [])
      .filter((j) => opts.all || !TERMINAL_STATES.has(j.state))
      .sort((a, b) => (b['start-time'] ?? 0) - (a['start-time'] ?? 0));
    if (shown.length === 0) {
      process.stdout.write(opts.all ? 'No jobs.\n' : 'No running jobs.\n');
      return;
    }
    const rows = shown.map((j) => [
      j.jid,
      j.name,
      j.state,
      formatTimestamp(j['start-time']),
      formatDuration(j.duration),
    ]);
    process.stdout.write(formatTable(['JOB ID', 'NAME', 'STATE', 'START TIME', 'DURATION'], rows) + '\n');
  });
}
