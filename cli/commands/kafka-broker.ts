// weir kafka-broker: a single-node development broker speaking the Kafka wire protocol (for
// local runs and tests, where no Kafka can be installed). Not a production Kafka.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { Configuration } from '../../common/config.js';
import { createLogger } from '../../common/logging.js';
import { exitWithParent, notifyReady, runUntilStopped } from '../daemon.js';
import { CliError, firstLine } from '../errors.js';
import { port, positiveInt } from '../options.js';

interface Flags {
  port?: number;
  dir?: string;
  host?: string;
  advertisedHost?: string;
  partitions?: number;
  saslUsers?: string;
  define: string[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Broker properties -D accepts, with Kafka's names. */
const PROPERTIES = [
  'num.partitions',
  'auto.create.topics.enable',
  'group.initial.rebalance.delay.ms',
  'group.min.session.timeout.ms',
  'group.max.session.timeout.ms',
  'log.segment.bytes',
  'log.flush.interval.ms',
  'transaction.max.timeout.ms',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms',
  'transactional.id.expiration.ms',
  'producer.id.expiration.ms',
  'producer.id.expiration.check.interval.ms',
] as const;

function parseProperties(pairs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new CliError(`invalid -D '${p}': expected key=value`);
    const key = p.slice(0, i).trim();
    if (!(PROPERTIES as readonly string[]).includes(key))
      throw new CliError(`unknown broker property '${key}' (known: ${PROPERTIES.join(', ')})`);
    out.set(key, p.slice(i + 1).trim());
  }
  return out;
}

function intProperty(props: Map<string, string>, key: string, fallback: number, min = 0): number {
  const v = props.get(key);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`${key} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function kafkaBrokerCommand(): Command {
  return new Command('kafka-broker')
    .description(
      'run a single-node development broker that speaks the Kafka protocol (for local runs and tests; not a production Kafka)',
    )
    .option('--port <port>', 'port to listen on (0 picks a free one)', port('--port'), 9092)
    .option('--dir <dir>', 'data directory (default .weir/kafka-broker)')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--advertised-host <host>', 'host name clients are told to connect to (default: --host)')
    .option('--partitions <n>', 'partitions of auto-created topics (num.partitions)', positiveInt('--partitions'))
    .option(
      '--sasl-users <file>',
      'require SASL/PLAIN logins (SASL_PLAINTEXT): a file of username:password lines (# comments); clients set security.protocol=SASL_PLAINTEXT, sasl.mechanism=PLAIN and their credentials',
    )
    .option('-D, --define <key=value>', `broker property (repeatable): ${PROPERTIES.join(', ')}`, collect, [])
    .action(async (flags: Flags) => {
      const startupDone = exitWithParent();
      const props = parseProperties(flags.define);
      const dir = resolve(flags.dir ?? '.weir/kafka-broker');
      const autoCreate = props.get('auto.create.topics.enable');
      if (autoCreate !== undefined && autoCreate !== 'true' && autoCreate !== 'false')
        throw new CliError(`auto.create.topics.enable must be true or false, got '${autoCreate}'`);
      const { startKafkaBroker, DEFAULT_BROKER_OPTIONS: d } = await import('../kafka-broker/server.js');
      const log = createLogger('kafka-broker', resolve(dir, 'kafka-broker.log'));
      let saslUsers: Map<string, string> | undefined;
      if (flags.saslUsers !== undefined) {
        const { readSaslUsers } = await import('../kafka-broker/sasl.js');
        try {
          saslUsers = readSaslUsers(resolve(flags.saslUsers));
        } catch (e) {
          throw new CliError(firstLine((e as Error).message));
        }
      }
      let broker;
      try {
        broker = await startKafkaBroker({
          host: flags.host ?? d.host,
          port: flags.port ?? d.port,
          dir,
          advertisedHost: flags.advertisedHost,
          partitions: flags.partitions ?? intProperty(props, 'num.partitions', d.partitions, 1),
          autoCreateTopics: autoCreate === undefined ? d.autoCreateTopics : autoCreate === 'true',
          initialRebalanceDelayMs: intProperty(props, 'group.initial.rebalance.delay.ms', d.initialRebalanceDelayMs),
          minSessionTimeoutMs: intProperty(props, 'group.min.session.timeout.ms', d.minSessionTimeoutMs),
          maxSessionTimeoutMs: intProperty(props, 'group.max.session.timeout.ms', d.maxSessionTimeoutMs),
          segmentBytes: intProperty(props, 'log.segment.bytes', d.segmentBytes, 1024),
          flushIntervalMs: intProperty(props, 'log.flush.interval.ms', d.flushIntervalMs, 1),
          transactionMaxTimeoutMs: intProperty(props, 'transaction.max.timeout.ms', d.transactionMaxTimeoutMs, 1),
          transactionAbortCheckIntervalMs: intProperty(
            props,
            'transaction.abort.timed.out.transaction.cleanup.interval.ms',
            d.transactionAbortCheckIntervalMs,
            1,
          ),
          transactionalIdExpirationMs: intProperty(
            props,
            'transactional.id.expiration.ms',
            d.transactionalIdExpirationMs,
            1,
          ),
          producerIdExpirationMs: intProperty(props, 'producer.id.expiration.ms', d.producerIdExpirationMs, 1),
          producerIdExpirationCheckIntervalMs: intProperty(
            props,
            'producer.id.expiration.check.interval.ms',
            d.producerIdExpirationCheckIntervalMs,
            1,
          ),
          saslUsers,
          log,
        });
      } catch (e) {
        throw new CliError(`cannot start the Kafka broker: ${firstLine((e as Error).message)}`);
      }
      log.info(
        {
          host: broker.host,
          port: broker.port,
          dir: broker.dir,
          bootstrap: `${broker.host}:${broker.port}`,
          ...(saslUsers ? { sasl: 'PLAIN', saslUsers: saslUsers.size } : {}),
        },
        'Kafka broker started (development broker, not a production Kafka)',
      );
      startupDone();
      notifyReady({ type: 'ready', role: 'kafka-broker', bootstrap: `${broker.host}:${broker.port}` });
      // The broker reads no Weir configuration: the default of cluster.shutdown.timeout.
      runUntilStopped(
        'Kafka broker',
        {
          close: async () => {
            await broker.close();
            await new Promise<void>((r) => log.flush(() => r()));
          },
        },
        new Configuration().getDuration('cluster.shutdown.timeout'),
      );
      // Serve until a signal stops the process (runUntilStopped exits it).
      await new Promise<never>(() => {});
    });
}
