// The `weir` command line: builds the commander program and maps outcomes onto exit codes.
import { Command, CommanderError } from 'commander';
import { ENGINE_VERSION } from '../common/version.js';
import { applyCommand } from './commands/apply.js';
import { bundleCommand } from './commands/bundle.js';
import { cancelCommand } from './commands/cancel.js';
import { clusterCommand } from './commands/cluster.js';
import { diffCommand } from './commands/diff.js';
import { getCommand } from './commands/get.js';
import { infoCommand } from './commands/info.js';
import { initCommand } from './commands/init.js';
import { jobManagerCommand } from './commands/jobmanager.js';
import { kafkaBrokerCommand } from './commands/kafka-broker.js';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { savepointCommand } from './commands/savepoint.js';
import { stopCommand } from './commands/stop.js';
import { taskManagerCommand } from './commands/taskmanager.js';
import { CliError, describeError } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('weir')
    .description('Weir: a streaming dataflow engine in the tradition of Apache Flink')
    .version(ENGINE_VERSION, '-V, --version', 'print the Weir version')
    // Options belong to the command they follow, so `weir bundle --version 1.2.0` is the bundle's.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride();
  for (const cmd of [
    clusterCommand(),
    jobManagerCommand(),
    taskManagerCommand(),
    kafkaBrokerCommand(),
    initCommand(),
    bundleCommand(),
    infoCommand(),
    runCommand(),
    listCommand(),
    cancelCommand(),
    stopCommand(),
    savepointCommand(),
    applyCommand(),
    diffCommand(),
    getCommand(),
  ]) {
    program.addCommand(cmd);
  }
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/**
 * Runs the CLI on process.argv-style arguments. Resolves to the exit code, or to 'running'
 * for server commands that keep serving until a signal stops them.
 */
export async function runCli(argv: string[]): Promise<number | 'running'> {
  const program = buildProgram();
  let serving = false;
  program.hook('postAction', (_this, action) => {
    serving = ['jobmanager', 'taskmanager', 'start'].includes(action.name());
  });
  try {
    await program.parseAsync(argv);
    return serving ? 'running' : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander already printed help or the usage error
    // A CliError without a message is an outcome, not an error (weir diff: 1 when something would change).
    if (!(e instanceof CliError) || e.message) process.stderr.write(`error: ${describeError(e)}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
