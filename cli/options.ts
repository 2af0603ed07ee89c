// Options several commands share: the JobManager URL of client commands, and -D / --config of
// the server commands with their mapping onto Flink configuration keys.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { loadConfiguration, parseDynamicProperties, type ConfigMap, type Configuration } from '../common/config.js';
import { CliError } from './errors.js';
import { DEFAULT_JOBMANAGER_URL, RestClient } from './rest-client.js';

/** The JobManager address and credentials every client command takes. */
export function addJobManagerOption(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-m, --jobmanager <url>', 'REST address of the JobManager')
        .env('WEIR_JOBMANAGER')
        .default(DEFAULT_JOBMANAGER_URL),
    )
    .addOption(
      new Option(
        '--token <token>',
        'bearer token of a JobManager with security.rest.token (WEIR_TOKEN keeps it out of the process list)',
      ).env('WEIR_TOKEN'),
    )
    .addOption(
      new Option('--ca <file>', 'PEM file of a CA to trust for an https:// JobManager, e.g. a self-signed one').env(
        'WEIR_CA_FILE',
      ),
    );
}

export interface JobManagerFlags {
  jobmanager?: string;
  token?: string;
  ca?: string;
}

/** The one place client commands get their REST client. */
export function restClientOf(opts: JobManagerFlags): RestClient {
  let ca: Buffer | undefined;
  if (opts.ca) {
    try {
      ca = readFileSync(opts.ca);
    } catch (e) {
      throw new CliError(`cannot read the CA file ${opts.ca} (--ca / WEIR_CA_FILE): ${(e as Error).message}`);
    }
  }
  return new RestClient(opts.jobmanager ?? DEFAULT_JOBMANAGER_URL, {
    ...(opts.token ? { token: opts.token } : {}),
    ...(ca ? { ca } : {}),
  });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addServerConfigOptions(cmd: Command): Command {
  return cmd
    .option(
      '-D, --define <key=value>',
      'set a configuration key (repeatable), e.g. -D heartbeat.timeout=10s',
      collect,
      [],
    )
    .option('--config <path>', 'configuration file (weir.yaml); default $WEIR_CONF_DIR/weir.yaml or ./weir.yaml');
}

export interface ServerConfigFlags {
  define?: string[];
  config?: string;
}

/**
 * weir.yaml < WEIR_* variables < -D pairs < dedicated flags (such as --port), the later winning;
 * `flagKeys` maps the flags that were given onto their Flink keys.
 */
export function serverConfiguration(flags: ServerConfigFlags, flagKeys: ConfigMap): Configuration {
  let overrides: ConfigMap;
  try {
    overrides = { ...parseDynamicProperties(flags.define ?? []), ...flagKeys };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  try {
    return loadConfiguration({ configFile: flags.config, overrides });
  } catch (e) {
    throw new CliError(`invalid configuration: ${(e as Error).message}`);
  }
}

/** Parses a positive integer flag or fails with a message naming the flag. */
export function positiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got '${value}'`);
    return n;
  };
}

/** Parses a port (0 = any free port). */
export function port(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new CliError(`${flag} must be a port number (0-65535), got '${value}'`);
    return n;
  };
}

/** Flink job ids: 32 lowercase hex characters. */
export function checkJobId(jobId: string): string {
  if (!/^[0-9a-f]{32}$/.test(jobId)) throw new CliError(`invalid job id '${jobId}' (expected 32 hex characters)`);
  return jobId;
}
