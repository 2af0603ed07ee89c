// Configuration with Flink's key names: weir.yaml, then WEIR_* environment variables, then
// CLI flags and -D key=value, each overriding the one before.
import { existsSync, readFileSync } from 'node:fs';
import type * as Yaml from 'yaml';
import { lazyRequire } from './lazy-require.js';
import { parseDuration, parseMemorySize } from './units.js';

// Most processes are configured by -D options and read no file.
const yaml = lazyRequire<typeof Yaml>('yaml');

type Kind = 'string' | 'int' | 'double' | 'duration' | 'memory' | 'boolean';

export interface OptionSpec {
  kind: Kind;
  default: string | number | boolean | undefined;
  description: string;
  /** Accepted values of a string option (compared case-insensitively, as Flink's enum options). */
  values?: readonly string[];
  /** How the reference table shows a default that is computed rather than fixed. */
  defaultText?: string;
  /** The least value of an int option, or of a memory option as written (e.g. '3 mb'); less is refused. */
  min?: number | string;
}

const RESTART_STRATEGY_TYPES = [
  'none',
  'off',
  'disable',
  'fixed-delay',
  'fixeddelay',
  'failure-rate',
  'failurerate',
  'exponential-delay',
  'exponentialdelay',
];

/** Every key Weir reads. Unknown keys are kept (jobs and plugins may read them) but flagged. */
export const OPTIONS = {
  'rest.port': { kind: 'int', default: 8081, description: 'JobManager REST and web UI port (0 picks a free one)' },
  'rest.bind-address': { kind: 'string', default: '127.0.0.1', description: 'address the REST server binds' },
  'rest.address': { kind: 'string', default: '127.0.0.1', description: 'address clients use to reach the REST server' },
  // REST security: bearer token, TLS, and the bounds on what requests may name and send.
  'security.rest.token': {
    kind: 'string',
    default: undefined,
    description:
      "bearer token every REST request must carry (Authorization: Bearer <token>), except the web UI's static files; the CLI takes --token or WEIR_TOKEN, the web UI asks once per browser session",
  },
  'security.rest.token-file': {
    kind: 'string',
    default: undefined,
    description:
      'file holding security.rest.token (surrounding whitespace ignored), so the token stays out of command lines; set one of the two',
  },
  'security.rest.allow-unauthenticated': {
    kind: 'boolean',
    default: false,
    description:
      'serve REST on a non-loopback rest.bind-address without a token (anyone reaching the port can run code on every TaskManager); without it such a JobManager refuses to start',
  },
  'security.rest.allowed-dirs': {
    kind: 'string',
    default: undefined,
    description:
      "further directories (absolute, ';'-separated) under which REST requests may name savepoint targets, restore paths and savepoints to dispose; state.savepoints.dir and state.checkpoints.dir are always allowed, nothing else is",
  },
  'security.ssl.rest.enabled': {
    kind: 'boolean',
    default: false,
    description:
      'serve REST and the web UI over HTTPS with security.ssl.rest.cert and .key (the advertised REST URL becomes https://)',
  },
  'security.ssl.rest.cert': {
    kind: 'string',
    default: undefined,
    description: "PEM file of the REST server's certificate chain",
  },
  'security.ssl.rest.key': {
    kind: 'string',
    default: undefined,
    description: "PEM file of the REST server's private key",
  },
  'rest.server.max-content-length': {
    kind: 'memory',
    default: '100 mb',
    description:
      "largest bundle upload the REST server accepts (Flink's key and default); other request bodies are limited to 1 MiB",
  },
  'web.upload.max-jars': {
    kind: 'int',
    default: 100,
    description:
      'uploaded bundles the JobManager keeps at most; an upload beyond it is refused until some are deleted (DELETE /jars/:jarid)',
  },
  'jobmanager.rpc.address': { kind: 'string', default: '127.0.0.1', description: 'JobManager gRPC address' },
  'jobmanager.rpc.port': { kind: 'int', default: 6123, description: 'JobManager gRPC port (0 picks a free one)' },
  'taskmanager.host': {
    kind: 'string',
    default: '127.0.0.1',
    description:
      'address this TaskManager announces to the JobManager and to other TaskManagers (and binds, unless taskmanager.bind-host is set)',
  },
  'taskmanager.bind-host': {
    kind: 'string',
    default: undefined,
    description:
      "address the TaskManager's servers bind (unset: taskmanager.host); e.g. 0.0.0.0 behind NAT, with taskmanager.host the address others reach it at",
  },
  'taskmanager.rpc.port': {
    kind: 'int',
    default: 0,
    description: 'TaskManager gRPC port of the control plane (0 picks a free one)',
  },
  'taskmanager.data.port': {
    kind: 'int',
    default: 0,
    description:
      "port other TaskManagers are told to connect to for slot 0's data server, slot i's being this + i, for NAT or port forwarding (0: the port each data server is bound to)",
  },
  'taskmanager.data.bind-port': {
    kind: 'int',
    default: undefined,
    description:
      "port slot 0's data server binds, slot i's this + i (unset: taskmanager.data.port; 0 picks free ports)",
  },
  'taskmanager.numberOfTaskSlots': {
    kind: 'int',
    default: 4,
    min: 1,
    description:
      'slots (threads, so cores used) per TaskManager (Flink: 1); `weir cluster start` without --slots shares the cores out over its TaskManagers, at least 4 each',
  },
  'taskmanager.memory.segment-size': {
    kind: 'memory',
    default: '32 kb',
    description: 'size at which a network buffer is sent',
  },
  'taskmanager.memory.young-generation-size': {
    kind: 'memory',
    default: '192 mb',
    min: '3 mb',
    description:
      "largest young generation of each slot thread's heap (V8's default: 48 mb); records that wait between threads, or in a window's state for the watermark, are collected there rather than promoted",
  },
  'taskmanager.gc.parallel-scavenge': {
    kind: 'boolean',
    default: false,
    description:
      "collect young generations with V8's parallel scavenger (V8's default: true), whose helper threads, shared by the process, wait for cores that busy slot threads hold: off, each thread collects its own young generation alone and does not stall",
  },
  'taskmanager.slot.spare-thread': {
    kind: 'boolean',
    default: true,
    description:
      'a slot that has run tasks keeps a thread with the engine loaded (about 32 MB resident), so the next job or restart attempt there does not wait for one to load (about a third of a second of a core, longer while several load at once)',
  },
  'taskmanager.network.memory.buffers-per-channel': {
    kind: 'int',
    default: 4,
    min: 1,
    description:
      'credits (buffers) an input channel grants a producer on its own TaskManager; also the unsent buffers per subpartition above which a producer is backpressured',
  },
  'taskmanager.network.memory.buffers-per-remote-channel': {
    kind: 'int',
    default: 16,
    min: 1,
    description:
      "credits an input channel grants a producer on another TaskManager: a credit comes back only as both TaskManagers' slot threads turn their event loops, so more buffers must be under way to keep both busy",
  },
  'taskmanager.network.memory.buffer-debloat.enabled': {
    kind: 'boolean',
    default: true,
    description:
      "buffer debloating: each task measures how fast it consumes its input and has its producers size their buffers so that what is in flight to it takes about the target time to process, so barriers do not wait behind seconds of queued records (Flink's default is false)",
  },
  'taskmanager.network.memory.buffer-debloat.target': {
    kind: 'duration',
    default: '1 s',
    description: 'buffer debloating: the time a task should take to consume the buffers in flight to it',
  },
  'taskmanager.network.memory.buffer-debloat.period': {
    kind: 'duration',
    default: '200 ms',
    description: 'buffer debloating: how often a task measures its throughput and recalculates the buffer size',
  },
  'taskmanager.network.memory.buffer-debloat.samples': {
    kind: 'int',
    default: 20,
    min: 1,
    description:
      'buffer debloating: periods the buffer size is averaged over (an exponential moving average); fewer react faster',
  },
  'taskmanager.network.memory.buffer-debloat.threshold-percentages': {
    kind: 'int',
    default: 25,
    min: 0,
    description:
      'buffer debloating: a new buffer size is announced to the producers only when it differs this much from the last',
  },
  'taskmanager.memory.min-segment-size': {
    kind: 'memory',
    default: '256 b',
    description: 'the smallest buffer size buffer debloating announces',
  },
  'taskmanager.network.request-backoff.initial': {
    kind: 'duration',
    default: '100 ms',
    description: 'first wait before a partition request to an unreachable data server is repeated',
  },
  'taskmanager.network.request-backoff.max': {
    kind: 'duration',
    default: '10 s',
    description: 'the wait between repeated partition requests doubles up to this, then the channel fails',
  },
  'execution.buffer-timeout': {
    kind: 'duration',
    default: '5 ms',
    description: 'longest a partly filled buffer waits before it is sent (0: after every record)',
  },
  'heartbeat.interval': { kind: 'duration', default: '1 s', description: 'time between heartbeats (Flink: 10 s)' },
  'heartbeat.timeout': {
    kind: 'duration',
    default: '3 s',
    description: 'silence after which a peer is considered lost (Flink: 50 s)',
  },
  'slot.request.timeout': {
    kind: 'duration',
    default: '30 s',
    description: 'how long a job waits for enough free slots before it fails',
  },
  'dispatcher.planner.timeout': {
    kind: 'duration',
    default: '30 s',
    description: 'time limit for running a bundle main() to plan the job',
  },
  'metrics.reporter.prom.port': {
    kind: 'int',
    default: 0,
    description: 'TaskManager Prometheus /metrics port (0 picks a free one)',
  },
  'alerts.webhook.url': {
    kind: 'string',
    default: undefined,
    description:
      'URL that receives a JSON POST when a job turns FAILING, FAILED or RESTARTING (also WEIR_ALERT_WEBHOOK)',
  },
  // Declarative deployments (weir apply).
  'deployment.rollback.window': {
    kind: 'duration',
    default: '60 s',
    description:
      "time a deployment's new job is watched after an upgrade: if it fails, or restarts twice, within it, the previous spec runs again from the same savepoint or checkpoint and the deployment is ROLLED_BACK (a deployment-alert is sent); 0 turns the watch off (a version that cannot even be planned is still rolled back)",
  },
  'deployment.apply.lock-timeout': {
    kind: 'duration',
    default: '30 s',
    description:
      'how long an apply of a deployment waits for another apply (or a rollback) of the same name to finish before it is refused with 409',
  },
  'parallelism.default': { kind: 'int', default: 1, description: 'parallelism of jobs that set none' },
  'process.working-dir': {
    kind: 'string',
    default: undefined,
    defaultText: '.weir/<process>',
    description: 'directory for logs, bundles and state of this process',
  },
  'cluster.evenly-spread-out-slots': {
    kind: 'boolean',
    default: true,
    description: 'spread subtasks over all TaskManagers rather than filling one first',
  },
  'task.cancellation.timeout': {
    kind: 'duration',
    default: '30 s',
    description: 'time after which a task that does not stop on cancel is considered stuck',
  },
  'cluster.shutdown.timeout': {
    kind: 'duration',
    default: '30 s',
    description:
      'time a JobManager, TaskManager or `weir cluster start` launcher has, once asked to stop (SIGTERM, SIGINT, its launcher or parent gone), to cancel its work and exit 0; one still running after it exits 1 (the launcher kills a child still alive a few seconds later)',
  },
  // Internal security: every gRPC call between processes (control and data plane).
  'security.internal.secret': {
    kind: 'string',
    default: undefined,
    description:
      'shared secret every JobManager and TaskManager proves (HMAC per call) on every gRPC call between processes; calls without it are refused (UNAUTHENTICATED)',
  },
  'security.internal.secret-file': {
    kind: 'string',
    default: undefined,
    description:
      'file holding security.internal.secret (trailing whitespace ignored), so the secret stays out of command lines',
  },
  'security.ssl.internal.enabled': {
    kind: 'boolean',
    default: false,
    description: 'mutual TLS on every gRPC connection between processes, with the certificates below',
  },
  'security.ssl.internal.cert': {
    kind: 'string',
    default: undefined,
    description:
      "PEM file of this process's certificate (signed by security.ssl.internal.ca; its subjectAltName lists the addresses it is reached at)",
  },
  'security.ssl.internal.key': {
    kind: 'string',
    default: undefined,
    description: "PEM file of this process's private key",
  },
  'security.ssl.internal.ca': {
    kind: 'string',
    default: undefined,
    description: 'PEM file of the CA that signs the certificates of the processes: the only one trusted, both ways',
  },
  'security.ssl.internal.verify-hostname': {
    kind: 'boolean',
    default: true,
    description:
      'check that a server certificate names the address dialled; false trusts any certificate of the internal CA',
  },
  // State and checkpoints. 'hashmap' and 'rocksdb' are accepted as Flink's names of the same two kinds of backend.
  'state.backend': {
    kind: 'string',
    default: 'heap',
    values: ['heap', 'level', 'hashmap', 'rocksdb'],
    description:
      "keyed state backend: 'heap' (JavaScript maps) or 'level' (LevelDB on disk); Flink's 'hashmap' and 'rocksdb' mean the same",
  },
  'state.backend.incremental': {
    kind: 'boolean',
    default: true,
    description:
      "level backend: checkpoints write only what changed since the last completed one, sharing unchanged files (<jobId>/shared/) between checkpoints; savepoints stay full (Flink's default is false; heap is always full)",
  },
  'state.checkpoints.dir': {
    kind: 'string',
    default: undefined,
    defaultText: '<JobManager dir>/checkpoints',
    description:
      'directory of checkpoints, one <jobId>/chk-<n> folder each (unset: <working-dir>/checkpoints of the JobManager)',
  },
  'state.savepoints.dir': {
    kind: 'string',
    default: undefined,
    description:
      'default directory of savepoints, one savepoint-<job>-<random> folder each (unset: a savepoint needs a target directory)',
  },
  'state.checkpoints.num-retained': {
    kind: 'int',
    default: 1,
    min: 1,
    description: 'completed checkpoints kept per job (savepoints are never deleted)',
  },
  'execution.checkpointing.interval': {
    kind: 'duration',
    default: undefined,
    description: 'time between checkpoints (unset: no checkpoints unless the job enables them)',
  },
  'execution.checkpointing.mode': {
    kind: 'string',
    default: 'EXACTLY_ONCE',
    values: ['EXACTLY_ONCE', 'AT_LEAST_ONCE'],
    description: 'EXACTLY_ONCE aligns barriers at tasks with several inputs; AT_LEAST_ONCE does not',
  },
  'execution.checkpointing.timeout': {
    kind: 'duration',
    default: '10 min',
    description: 'a checkpoint not complete after this long is aborted',
  },
  'execution.checkpointing.min-pause': {
    kind: 'duration',
    default: '0 ms',
    description: 'least time between the end of one checkpoint and the start of the next',
  },
  'execution.checkpointing.tolerable-failed-checkpoints': {
    kind: 'int',
    default: 0,
    min: -1,
    description: 'failed checkpoints in a row a job tolerates before it fails over (-1: unlimited)',
  },
  'execution.checkpointing.max-concurrent-checkpoints': {
    kind: 'int',
    default: 1,
    min: 1,
    description: 'checkpoints that may be in progress at the same time',
  },
  'execution.checkpointing.checkpoints-after-tasks-finish.enabled': {
    kind: 'boolean',
    default: true,
    description:
      "checkpoints go on after some tasks finished (Flink's FLIP-147): finished tasks are left out and recorded as finished, a task ends only after a checkpoint taken past the end of its input completed (so two-phase-commit sinks publish everything), and a restore does not run finished operators again. False: checkpoints stop once any task reached the end of its input",
  },
  'web.checkpoints.history': {
    kind: 'int',
    default: 10,
    description: 'recent checkpoints the REST API and web UI show per job',
  },
  'execution.checkpointing.externalized-checkpoint-retention': {
    kind: 'string',
    default: 'NO_EXTERNALIZED_CHECKPOINTS',
    values: ['NO_EXTERNALIZED_CHECKPOINTS', 'DELETE_ON_CANCELLATION', 'RETAIN_ON_CANCELLATION'],
    description:
      "what happens to a job's retained checkpoints when it ends (as Flink): NO_EXTERNALIZED_CHECKPOINTS deletes them whenever the job ends; DELETE_ON_CANCELLATION keeps them when it FAILED; RETAIN_ON_CANCELLATION keeps them when it FAILED or was CANCELED. A FINISHED job's checkpoints are always deleted; savepoints never are. Resuming a canceled job with -s <dir>/<jobId>/chk-<n> needs RETAIN_ON_CANCELLATION, and so does keeping them when a JobManager without high availability stops (it cancels its jobs)",
  },
  'web.exception-history-size': {
    kind: 'int',
    default: 16,
    min: 1,
    description: 'failures kept per job for the REST API and web UI (the oldest are dropped)',
  },
  // Bounded stores: ended jobs in the JobManager's store, and the processes' log files.
  'jobstore.expiration-time': {
    kind: 'duration',
    default: 3600,
    description:
      'time after which an ended job is removed from the JobManager (memory and store); a plain number is seconds, as in Flink',
  },
  'jobstore.max-capacity': {
    kind: 'int',
    default: undefined,
    defaultText: 'unbounded',
    description: 'ended jobs the JobManager keeps at most, the oldest removed first (unset: unbounded, as Flink)',
  },
  'log.file.max-size': {
    kind: 'memory',
    default: '100 mb',
    description: "size at which a process's log file rolls to <file>.1 (Flink's log4j default)",
  },
  'log.file.max-files': {
    kind: 'int',
    default: 10,
    min: 1,
    description:
      "rolled log files kept besides the active one, <file>.1 (newest) to <file>.<n> (Flink's log4j default)",
  },
  // High availability of the JobManager (Flink's keys where Flink has them).
  'high-availability.type': {
    kind: 'string',
    default: 'none',
    values: ['none', 'file', 'etcd'],
    description:
      "'none'; 'file': the JobManager records submitted jobs under high-availability.storageDir and, started again, resumes the running ones (same job id) from their latest checkpoints; 'etcd': JobManagers elect a leader through an etcd lease, standbys take over",
  },
  'high-availability.storageDir': {
    kind: 'string',
    default: undefined,
    description:
      'directory (absolute; shared by every JobManager with etcd) where submitted jobs and their bundles are kept; checkpoints stay in state.checkpoints.dir, which must be shared as well',
  },
  'high-availability.cluster-id': {
    kind: 'string',
    default: 'default',
    description: 'name of this cluster in high-availability.storageDir and in etcd, so that clusters can share both',
  },
  'high-availability.etcd.endpoints': {
    kind: 'string',
    default: undefined,
    description: 'comma-separated etcd client URLs (http://host:2379) for high-availability.type: etcd',
  },
  'high-availability.etcd.lease-ttl': {
    kind: 'duration',
    default: '3 s',
    description:
      "time-to-live of the leader's etcd lease (whole seconds): a leader that stops renewing it is replaced after this long, and stops acting itself",
  },
  // Restart strategies (Flink's keys and defaults). Unset type: exponential-delay when the job checkpoints, else none.
  'restart-strategy.type': {
    kind: 'string',
    default: undefined,
    defaultText: 'exponential-delay with checkpoints, else none',
    values: RESTART_STRATEGY_TYPES,
    description:
      "restart strategy of jobs that set none: 'none', 'fixed-delay', 'failure-rate' or 'exponential-delay' (unset: exponential-delay when checkpointing is enabled, else none)",
  },
  'restart-strategy': {
    kind: 'string',
    default: undefined,
    values: RESTART_STRATEGY_TYPES,
    description: "restart-strategy.type's name before Flink 1.19, read when restart-strategy.type is unset",
  },
  'restart-strategy.fixed-delay.attempts': {
    kind: 'int',
    default: 1,
    min: 0,
    description: 'restarts before the job fails, with restart-strategy.type: fixed-delay',
  },
  'restart-strategy.fixed-delay.delay': {
    kind: 'duration',
    default: '1 s',
    description: 'time between two restarts, with restart-strategy.type: fixed-delay',
  },
  'restart-strategy.exponential-delay.initial-backoff': {
    kind: 'duration',
    default: '1 s',
    description: 'first delay between restarts, with restart-strategy.type: exponential-delay',
  },
  'restart-strategy.exponential-delay.max-backoff': {
    kind: 'duration',
    default: '1 min',
    description: 'longest delay between restarts, with restart-strategy.type: exponential-delay',
  },
  'restart-strategy.exponential-delay.backoff-multiplier': {
    kind: 'double',
    default: 1.5,
    description: 'factor the delay grows by after every failure, with restart-strategy.type: exponential-delay',
  },
  'restart-strategy.exponential-delay.reset-backoff-threshold': {
    kind: 'duration',
    default: '1 h',
    description:
      'time without failure after which the delay (and the attempt count) starts over, with restart-strategy.type: exponential-delay',
  },
  'restart-strategy.exponential-delay.jitter-factor': {
    kind: 'double',
    default: 0.1,
    description: 'random part of each delay, as a fraction of it (0..1), so that many jobs do not restart at once',
  },
  'restart-strategy.exponential-delay.attempts-before-reset-backoff': {
    kind: 'int',
    default: undefined,
    min: 1,
    description:
      'restarts before the job fails, counted until the delay resets (unset: unlimited), with restart-strategy.type: exponential-delay',
  },
  'restart-strategy.failure-rate.max-failures-per-interval': {
    kind: 'int',
    default: 1,
    min: 1,
    description: 'restarts allowed within one failure-rate-interval, with restart-strategy.type: failure-rate',
  },
  'restart-strategy.failure-rate.failure-rate-interval': {
    kind: 'duration',
    default: '1 min',
    description: 'window in which failures are counted, with restart-strategy.type: failure-rate',
  },
  'restart-strategy.failure-rate.delay': {
    kind: 'duration',
    default: '1 s',
    description: 'time between two restarts, with restart-strategy.type: failure-rate',
  },
} as const satisfies Record<string, OptionSpec>;

/** A key Weir reads: configuration getters take only these, so a misspelt key does not compile. */
export type OptionKey = keyof typeof OPTIONS;

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
    return (OPTIONS as Record<string, OptionSpec>)[key]?.default;
  }

  getString(key: OptionKey, fallback?: string): string {
    const v = this.raw(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new Error(`configuration key '${key}' is not set`);
    }
    return String(v);
  }

  getOptionalString(key: OptionKey): string | undefined {
    const v = this.raw(key);
    return v === undefined ? undefined : String(v);
  }

  getInt(key: OptionKey): number {
    const v = this.raw(key);
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`configuration key '${key}' must be an integer, got '${v}'`);
    return checkMin(key, n, v);
  }

  getDouble(key: OptionKey): number {
    const v = this.raw(key);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw new Error(`configuration key '${key}' must be a number, got '${v}'`);
    return n;
  }

  getBoolean(key: OptionKey): boolean {
    const v = String(this.raw(key)).toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw new Error(`configuration key '${key}' must be true or false, got '${v}'`);
  }

  /** Milliseconds. */
  getDuration(key: OptionKey): number {
    const v = this.raw(key);
    if (v === undefined) throw new Error(`configuration key '${key}' is not set`);
    try {
      return parseDuration(v as string | number);
    } catch (e) {
      throw new Error(`configuration key '${key}': ${(e as Error).message}`, { cause: e });
    }
  }

  /** Milliseconds, or undefined when the key is neither set nor has a default. */
  getOptionalDuration(key: OptionKey): number | undefined {
    return this.raw(key) === undefined ? undefined : this.getDuration(key);
  }

  /** Bytes. */
  getMemorySize(key: OptionKey): number {
    const v = this.raw(key);
    if (v === undefined) throw new Error(`configuration key '${key}' is not set`);
    let bytes: number;
    try {
      bytes = parseMemorySize(v as string | number);
    } catch (e) {
      throw new Error(`configuration key '${key}': ${(e as Error).message}`, { cause: e });
    }
    return checkMin(key, bytes, v);
  }

  /** A string option restricted to `values` (case-insensitive); returns the value as listed there. */
  getChoice(key: OptionKey, values: readonly string[]): string {
    const v = this.getString(key);
    const hit = values.find((x) => x.toLowerCase() === v.trim().toLowerCase());
    if (hit === undefined)
      throw new Error(`configuration key '${key}' must be one of ${values.join(', ')}, got '${v}'`);
    return hit;
  }

  toMap(): ConfigMap {
    return Object.fromEntries(this.values);
  }

  /** Checks every known key parses; returns one message per bad value. */
  validate(): string[] {
    const errors: string[] = [];
    for (const [key, spec] of Object.entries(OPTIONS as Record<OptionKey, OptionSpec>) as [OptionKey, OptionSpec][]) {
      if (!this.values.has(key)) continue;
      try {
        if (spec.kind === 'int') this.getInt(key);
        else if (spec.kind === 'double') this.getDouble(key);
        else if (spec.kind === 'duration') this.getDuration(key);
        else if (spec.kind === 'memory') this.getMemorySize(key);
        else if (spec.kind === 'boolean') this.getBoolean(key);
        else if (spec.values) this.getChoice(key, spec.values);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    return errors;
  }
}

/** `value` (parsed from `raw`) unless the option's `min` is more. */
function checkMin(key: OptionKey, value: number, raw: unknown): number {
  const min = (OPTIONS as Record<string, OptionSpec>)[key]?.min;
  if (min === undefined) return value;
  const least = typeof min === 'string' ? parseMemorySize(min) : min;
  if (value < least) throw new Error(`configuration key '${key}' must be at least ${min}, got '${String(raw)}'`);
  return value;
}

/** state.backend as Weir's backend type; Flink's names 'hashmap' and 'rocksdb' map to 'heap' and 'level'. */
export function stateBackendType(conf: Configuration): 'heap' | 'level' {
  const v = conf.getChoice('state.backend', OPTIONS['state.backend']!.values!);
  return v === 'level' || v === 'rocksdb' ? 'level' : 'heap';
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
    doc = yaml().parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read configuration file ${path}: ${(e as Error).message}`, { cause: e });
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
  const file =
    opts.configFile ??
    (env.WEIR_CONF_DIR ? `${env.WEIR_CONF_DIR}/weir.yaml` : existsSync('weir.yaml') ? 'weir.yaml' : undefined);
  if (file) for (const [k, v] of Object.entries(readConfigFile(file))) conf.set(k, v);
  for (const key of Object.keys(OPTIONS)) {
    const v = env[envVarName(key)];
    if (v !== undefined) conf.set(key, v);
  }
  // The short name operators reach for first.
  if (env.WEIR_ALERT_WEBHOOK && env[envVarName('alerts.webhook.url')] === undefined)
    conf.set('alerts.webhook.url', env.WEIR_ALERT_WEBHOOK);
  for (const [k, v] of Object.entries(opts.overrides ?? {})) conf.set(k, v);
  const errors = conf.validate();
  if (errors.length) throw new Error(errors.join('; '));
  return conf;
}
