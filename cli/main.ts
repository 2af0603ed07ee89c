// The `weir` command line: builds the commander program and maps outcomes onto exit codes.
import { Command, CommanderError } from 'commander';
import { ENGINE_VERSION } from '../common/version.js';
import { CliError, describeError } from './errors.js';

/**
 * Each command's module, in the order help lists them. A process loads only the command it runs:
 * a JobManager or TaskManager then does not load what other commands need (YAML, JSON Schema,
 * certificate generation, the local runner), a third of a second of every start.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  cluster: async () => (await import('./commands/cluster.js')).clusterCommand(),
  jobmanager: async () => (await import('./commands/jobmanager.js')).jobManagerCommand(),
  taskmanager: async () => (await import('./commands/taskmanager.js')).taskManagerCommand(),
  'kafka-broker': async () => (await import('./commands/kafka-broker.js')).kafkaBrokerCommand(),
  init: async () => (await import('./commands/init.js')).initCommand(),
  bundle: async () => (await import('./commands/bundle.js')).bundleCommand(),
  info: async () => (await import('./commands/info.js')).infoCommand(),
  run: async () => (await import('./commands/run.js')).runCommand(),
  list: async () => (await import('./commands/list.js')).listCommand(),
  cancel: async () => (await import('./commands/cancel.js')).cancelCommand(),
  stop: async () => (await import('./commands/stop.js')).stopCommand(),
  savepoint: async () => (await import('./commands/savepoint.js')).savepointCommand(),
  apply: async () => (await import('./commands/apply.js')).applyCommand(),
  diff: async () => (await import('./commands/diff.js')).diffCommand(),
  get: async () => (await import('./commands/get.js')).getCommand(),
};

/**
 * The commands to register for `argv` (process.argv-style): only the one named first, or all of
 * them when none is (top-level help, --version, an unknown name that gets suggestions).
 */
export async function loadCommands(argv: string[]): Promise<Command[]> {
  const first = argv[2];
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  return Promise.all(names.map((n) => COMMANDS[n]!()));
}

export function buildProgram(commands: Command[]): Command {
  const program = new Command('weir')
    .description('Weir: a streaming dataflow engine in the tradition of Apache Flink')
    .version(ENGINE_VERSION, '-V, --version', 'print the Weir version')
    // Options belong to the command they follow, so `weir bundle --version 1.2.0` is the bundle's.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride();
  for (const cmd of commands) program.addCommand(cmd);
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
  const program = buildProgram(await loadCommands(argv));
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
