// Configuration with Flink's key names: weir.yaml, then WEIR_* environment variables, then
// CLI flags and -D key=value, each overriding the one before.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseDuration, parseMemorySize } from './units.js';

type Kind = 'string' | 'int' | 'duration' | 'memory' | 'boolean';

interface OptionSpec {
  kind: Kind;
  default: string | number | boolean | undefined;
  description: string;
}

/** Every key Weir reads. Unknown keys are kept (jobs and plugins may read them) but flagged. */
export const OPTIONS: Record<string, OptionSpec> = {
  'rest.port': { kind: 'int', default: 8081, description: 'JobManager REST and web UI port (0 picks a free one)' },
  'rest.bind-address': { kind: 'string', default: '127.0.0.1', description: 'address the REST server binds' },
  'rest.address': { kind: 'string', default: '127.0.0.1', description: 'address clients use to reach the REST server' },
  'jobmanager.rpc.address': { kind: 'string', default: '127.0.0.1', description: 'JobManager gRPC address' },
  'jobmanager.rpc.port': { kind: 'int', default: 6123, description: 'JobManager gRPC port (0 picks a free one)' },
  'taskmanager.host': { kind: 'string', default: '127.0.0.1', description: 'address this TaskManager binds and announces' },
  'taskmanager.rpc.port': { kind: 'int', default: 0, description: 'TaskManager gRPC port for control and data (0 picks a free one)' },
  'taskmanager.numberOfTaskSlots': { kind: 'int', default: 4, description: 'slots each TaskManager offers' },
  'taskmanager.memory.segment-size': { kind: 'memory', default: '32 kb', description: 'size at which a network buffer is sent' },
  'taskmanager.network.memory.buffers-per-channel': { kind: 'int', default: 4, description: 'credits (buffers) each input channel grants its producer' },
  'execution.buffer-timeout': { kind: 'duration', default: '5 ms', description: 'longest a partly filled buffer waits before it is sent (0: after every record)' },
  'heartbeat.interval': { kind: 'duration', default: '1 s', description: 'time between heartbeats' },
  'heartbeat.timeout': { kind: 'duration', default: '5 s', description: 'silence after which a peer is considered lost' },
  'slot.request.timeout': { kind: 'duration', default: '30 s', description: 'how long a job waits for enough free slots before it fails' },
  'dispatcher.planner.timeout': { kind: 'duration', default: '30 s', description: 'time limit for running a bundle main() to plan the job' },
  'metrics.reporter.prom.port': { kind: 'int', default: 0, description: 'TaskManager Prometheus /metrics port (0 picks a free one)' },
  'alerts.webhook.url': { kind: 'string', default: undefined, description: 'URL that receives a JSON POST when a job turns FAILING, FAILED or RESTARTING (also WEIR_ALERT_WEBHOOK)' },
  'parallelism.default': { kind: 'int', default: 1, description: 'parallelism of jobs that set none' },
  'process.working-dir': { kind: 'string', default: undefined, description: 'directory for logs, bundles and state of this process' },
  'cluster.evenly-spread-out-slots': { kind: 'boolean', default: true, description: 'spread subtasks over all TaskManagers rather than filling one first' },
  'task.cancellation.timeout': { kind: 'duration', default: '30 s', description: 'time after which a task that does not stop on cancel is considered stuck' },
};

export type ConfigMap = Record<string, string>;

export class Configuration {
  private readonly values = new Map<string, string>();

  constructor(entries?: ConfigMap) {
    if (entries) for (const [k, v] of Object.entries(entries)) this.set(k, v);
  }

  set(key: string, value: string | number | boolean): this {
    this.values.set(key, String(value));
    return this;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  private raw(key: string): string | number | boolean | undefined {
    const v = this.values.get(key);
    if (v !== undefined) return v;
    return OPTIONS[key]?.default;
  }

  getString(key: string, fallback?: string): string {
    const v = this.raw(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new Error(`configuration key '${key}' is not set`);
    }
    return String(v);
  }

  getOptionalString(key: string): string | undefined {
    const v = this.raw(key);
    return v === undefined ? undefined : String(v);
  }

  getInt(key: string): number {
    const v = this.raw(key);
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`configuration key '${key}' must be an integer, got '${v}'`);
    return n;
  }

  getBoolean(key: string): boolean {
    const v = String(this.raw(key)).toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw new Error(`configuration key '${key}' must be true or false, got '${v}'`);
  }

  /** Milliseconds. */
  getDuration(key: string): number {
    const v = this.raw(key);
    if (v === undefined) throw new Error(`configuration key '${key}' is not set`);
    try {
      return parseDuration(v as string | number);
    } catch (e) {
      throw new Error(`configuration key '${key}': ${(e as Error).message}`);
    }
  }

  /** Bytes. */
  getMemorySize(key: string): number {
    const v = this.raw(key);
    if (v === undefined) throw new Error(`configuration key '${key}' is not set`);
    try {
      return parseMemorySize(v as string | number);
    } catch (e) {
      throw new Error(`configuration key '${key}': ${(e as Error).message}`);
    }
  }

  toMap(): ConfigMap {
    return Object.fromEntries(this.values);
  }

  /** Checks every known key parses; returns one message per bad value. */
  validate(): string[] {
    const errors: string[] = [];
    for (const [key, spec] of Object.entries(OPTIONS)) {
      if (!this.values.has(key)) continue;
      try {
        if (spec.kind === 'int') this.getInt(key);
        else if (spec.kind === 'duration') this.getDuration(key);
        else if (spec.kind === 'memory') this.getMemorySize(key);
        else if (spec.kind === 'boolean') this.getBoolean(key);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return errors;
  }
}

/** WEIR_REST_PORT for rest.port, WEIR_TASKMANAGER_NUMBEROFTASKSLOTS for taskmanager.numberOfTaskSlots. */
export function envVarName(key: string): string {
  return 'WEIR_' + key.toUpperCase().replace(/[.-]/g, '_');
}

/** Parses repeated `-D key=value` arguments. */
export function parseDynamicProperties(pairs: string[]): ConfigMap {
  const out: ConfigMap = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`invalid -D '${p}': expected key=value`);
    out[p.slice(0, i).trim()] = p.slice(i + 1).trim();
  }
  return out;
}

function flatten(prefix: string, value: unknown, out: ConfigMap): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else if (value !== undefined && value !== null) {
    out[prefix] = Array.isArray(value) ? value.join(';') : String(value);
  }
}

/** Reads a weir.yaml (flat `a.b: v` keys or nested maps, as Flink accepts both). */
export function readConfigFile(path: string): ConfigMap {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read configuration file ${path}: ${(e as Error).message}`);
  }
  const out: ConfigMap = {};
  if (doc !== null && doc !== undefined) flatten('', doc, out);
  return out;
}

export interface LoadOptions {
  /** Path of weir.yaml; default: $WEIR_CONF_DIR/weir.yaml, else ./weir.yaml when present. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** CLI flags and -D pairs, highest precedence. */
  overrides?: ConfigMap;
}

export function loadConfiguration(opts: LoadOptions = {}): Configuration {
  const env = opts.env ?? process.env;
  const conf = new Configuration();
  const file = opts.configFile ?? (env.WEIR_CONF_DIR ? `${env.WEIR_CONF_DIR}/weir.yaml` : existsSync('weir.yaml') ? 'weir.yaml' : undefined);
  if (file) for (const [k, v] of Object.entries(readConfigFile(file))) conf.set(k, v);
  for (const key of Object.keys(OPTIONS)) {
    const v = env[envVarName(key)];
    if (v !== undefined) conf.set(key, v);
  }
  // The short name operators reach for first.
  if (env.WEIR_ALERT_WEBHOOK && env[envVarName('alerts.webhook.url')] === undefined) conf.set('alerts.webhook.url', env.WEIR_ALERT_WEBHOOK);
  for (const [k, v] of Object.entries(opts.overrides ?? {})) conf.set(k, v);
  const errors = conf.validate();
  if (errors.length) throw new Error(errors.join('; '));
  return conf;
}
