// weir taskmanager: runs a TaskManager in this process until SIGTERM / SIGINT.
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { ConfigMap } from '../../common/config.js';
import { exitWithParent, notifyReady, runUntilStopped } from '../daemon.js';
import { CliError, firstLine } from '../errors.js';
import { addServerConfigOptions, positiveInt, serverConfiguration, type ServerConfigFlags } from '../options.js';

interface Flags extends ServerConfigFlags {
  jobmanager: string;
  slots?: number;
  dir?: string;
}

export function taskManagerCommand(): Command {
  return addServerConfigOptions(
    new Command('taskmanager')
      .description('run a TaskManager in the foreground, registered with a JobManager')
      .requiredOption('--jobmanager <host:port>', 'gRPC address of the JobManager (jobmanager.rpc.address:jobmanager.rpc.port)')
      .option('--slots <n>', 'task slots to offer (taskmanager.numberOfTaskSlots, default 4)', positiveInt('--slots'))
      .option('--dir <dir>', 'working directory for logs and state (process.working-dir, default .weir/taskmanager-<pid>)'),
  ).action(async (flags: Flags) => {
    const startupDone = exitWithParent();
    if (!/^[^\s:]+:\d+$/.test(flags.jobmanager)) throw new CliError(`--jobmanager must be host:port, got '${flags.jobmanager}'`);
    const keys: ConfigMap = {};
    if (flags.slots !== undefined) keys['taskmanager.numberOfTaskSlots'] = String(flags.slots);
    if (flags.dir !== undefined) keys['process.working-dir'] = resolve(flags.dir);
    const conf = serverConfiguration(flags, keys);
    const workingDir = resolve(conf.getOptionalString('process.working-dir') ?? `.weir/taskmanager-${process.pid}`);
    conf.set('process.working-dir', workingDir);
    // Loaded on demand: client commands need none of the server's dependencies.
    const { startTaskManager } = await import('../../taskmanager/taskmanager.js');
    let tm;
    try {
      tm = await startTaskManager(conf, { workingDir, jobManagerAddress: flags.jobmanager });
    } catch (e) {
      throw new CliError(`cannot start the TaskManager: ${firstLine((e as Error).message)}`);
    }
    process.stderr.write(`TaskManager ${tm.id} started, registered with ${flags.jobmanager}, working directory ${workingDir}\n`);
    startupDone();
    runUntilStopped(`TaskManager ${tm.id}`, tm);
    notifyReady({ type: 'ready', role: 'taskmanager', id: tm.id });
  });
}
