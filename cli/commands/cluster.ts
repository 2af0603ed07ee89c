// weir cluster start: a local cluster (one JobManager, N TaskManagers) in the foreground,
// stopped together on Ctrl-C / SIGTERM or when the process that started it goes away
// (see parent-watch.ts).
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { createBundle } from '../../common/bundle.js';
import { packageRoot } from '../../common/package-root.js';
import { CliError } from '../errors.js';
import { LocalCluster } from '../local-cluster.js';
import { watchParent } from '../parent-watch.js';
import { addServerConfigOptions, port, positiveInt, serverConfiguration, type ServerConfigFlags } from '../options.js';
import type { RestClient } from '../rest-client.js';
import { localHosts, prepareSecureCluster, secureClusterHints } from '../secure-cluster.js';
import { runJar, uploadBundle } from '../submit.js';

interface StartFlags extends ServerConfigFlags {
  taskmanagers: number;
  slots?: number;
  port: number;
  rpcPort: number;
  dir: string;
  example?: boolean;
  kafka?: number | true;
  secure?: boolean;
  /** --no-stop-with-parent turns it off. */
  stopWithParent: boolean;
}

/** How long after cluster.shutdown.timeout the launcher kills a child that has not exited. */
const CHILD_STOP_SLACK_MS = 2000;

/** Slots a local cluster offers at least, so the example job and a first job at parallelism 4 run side by side. */
const MIN_LOCAL_SLOTS = 4;

/**
 * Slots per TaskManager: the flag or configured value, else the machine's cores shared out over
 * the TaskManagers (each slot runs on its own thread, so one slot per core uses the machine), and
 * never fewer than MIN_LOCAL_SLOTS (an idle slot thread costs about 25 MB and no CPU).
 */
function slotsPerTaskManager(flags: StartFlags): { slots: number; sized: boolean } {
  if (flags.slots !== undefined) return { slots: flags.slots, sized: false };
  const conf = serverConfiguration(flags, {});
  if (conf.has('taskmanager.numberOfTaskSlots'))
    return { slots: conf.getInt('taskmanager.numberOfTaskSlots'), sized: false };
  return { slots: Math.max(MIN_LOCAL_SLOTS, Math.ceil(availableParallelism() / flags.taskmanagers)), sized: true };
}

/** Bundles examples/endless.ts and submits it detached; returns the job id. */
async function submitExample(client: RestClient, dir: string): Promise<string> {
  const bundle = join(dir, 'examples', 'endless.weir');
  try {
    await createBundle(join(packageRoot(), 'examples', 'endless.ts'), bundle, { name: 'endless' });
  } catch (e) {
    throw new CliError(`cannot bundle the example job: ${(e as Error).message}`);
  }
  // Parallelism 2 spreads the example over both TaskManagers, so the UI shows a real exchange.
  return runJar(client, await uploadBundle(client, bundle), { programArgs: [], parallelism: 2 });
}

/**
 * The Kafka examples: one job writes generated clicks into the topic 'clicks', another reads them,
 * counts clicks per page and minute and writes the counts into 'page-counts', both exactly once.
 */
async function submitKafkaExamples(client: RestClient, dir: string, bootstrap: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of ['kafka-clicks-producer', 'kafka-page-counts']) {
    const bundle = join(dir, 'examples', `${name}.weir`);
    try {
      await createBundle(join(packageRoot(), 'examples', `${name}.ts`), bundle, { name });
    } catch (e) {
      throw new CliError(`cannot bundle the example job ${name}: ${(e as Error).message}`);
    }
    const jobId = await runJar(client, await uploadBundle(client, bundle), {
      programArgs: [bootstrap],
      parallelism: 1,
    });
    lines.push(`Kafka example ${name} submitted with JobID ${jobId}`);
  }
  lines.push(`  Read its output: kcat -b ${bootstrap} -C -t page-counts -X isolation.level=read_committed`);
  return lines;
}

/** --secure: certificates for the addresses the configuration binds, besides this machine's own. */
function secureClusterFiles(dir: string, flags: StartFlags): ReturnType<typeof prepareSecureCluster> {
  const conf = serverConfiguration(flags, {});
  try {
    return prepareSecureCluster(
      dir,
      localHosts([conf.getOptionalString('jobmanager.rpc.address'), conf.getOptionalString('taskmanager.host')]),
    );
  } catch (e) {
    throw new CliError(
      `cannot prepare the secure cluster's certificates and secrets in ${dir}: ${(e as Error).message}`,
    );
  }
}

export function clusterCommand(): Command {
  const start = addServerConfigOptions(
    new Command('start')
      .description('start a JobManager and TaskManagers on this machine; Ctrl-C stops them all')
      .option('--taskmanagers <n>', 'number of TaskManagers', positiveInt('--taskmanagers'), 2)
      .option('--slots <n>', 'task slots per TaskManager (taskmanager.numberOfTaskSlots)', positiveInt('--slots'))
      .option('--port <port>', 'REST and web UI port (rest.port)', port('--port'), 8081)
      .option('--rpc-port <port>', 'JobManager gRPC port (jobmanager.rpc.port)', port('--rpc-port'), 6123)
      .option('--dir <dir>', 'working directory of the cluster (logs, bundles, state)', '.weir')
      .option('--example', 'also submit the example job examples/endless.ts (with --kafka also the Kafka examples)')
      .option(
        '--kafka [port]',
        'also start the development Kafka broker (weir kafka-broker) on this port, 9092 when not given',
        port('--kafka'),
      )
      .option(
        '--secure',
        'generate a throwaway CA, certificate, internal secret and REST token under <dir>/security: mutual TLS and the secret on every gRPC call, the token on REST',
      )
      .option(
        '--no-stop-with-parent',
        'keep running when the process that started this one exits (nohup and the like); by default the cluster stops then, as on Ctrl-C, so that a supervisor signalling only npm or a shell leaves nothing behind',
      ),
  ).action(async (flags: StartFlags) => {
    const dir = resolve(flags.dir);
    let shuttingDown = false;
    // Every child has cluster.shutdown.timeout to stop by itself; one still alive a little later is killed.
    const stopGraceMs = serverConfiguration(flags, {}).getDuration('cluster.shutdown.timeout') + CHILD_STOP_SLACK_MS;
    const { slots, sized } = slotsPerTaskManager(flags);
    const secure = flags.secure ? secureClusterFiles(dir, flags) : undefined;
    const cluster = new LocalCluster({
      dir,
      taskManagers: flags.taskmanagers,
      slots,
      restPort: flags.port,
      rpcPort: flags.rpcPort,
      // The user's own -D pairs come last and win.
      define: [...(secure ? Object.entries(secure.config).map(([k, v]) => `${k}=${v}`) : []), ...(flags.define ?? [])],
      ...(secure ? { restToken: secure.restToken } : {}),
      configFile: flags.config,
      ...(flags.kafka !== undefined ? { kafkaPort: flags.kafka === true ? 9092 : flags.kafka } : {}),
      onUnexpectedExit: (name, how, outFile) => {
        if (name === 'JobManager') {
          process.stderr.write(
            `error: the JobManager exited unexpectedly (${how}); see ${outFile}. Stopping the cluster.\n`,
          );
          void shutdown(1);
        } else {
          process.stderr.write(
            `warning: ${name} exited unexpectedly (${how}); see ${outFile}. The cluster keeps running without it.\n`,
          );
        }
      },
    });
    const shutdown = async (code: number) => {
      if (shuttingDown) return;
      shuttingDown = true;
      const problems = await cluster.stop(stopGraceMs);
      for (const p of problems) process.stderr.write(`warning: ${p}\n`);
      if (problems.length === 0) process.stdout.write('Cluster stopped.\n');
      process.exit(code !== 0 ? code : problems.length === 0 ? 0 : 1);
    };
    const onSignal = () => {
      if (!shuttingDown) process.stdout.write('Stopping the cluster...\n');
      void shutdown(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (flags.stopWithParent) {
      watchParent((why) => {
        // Whoever read our output may be gone with the parent: a write must not fail the shutdown.
        for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
        if (!shuttingDown) process.stdout.write(`Stopping the cluster: ${why}.\n`);
        void shutdown(0);
      });
    }

    try {
      await cluster.start();
    } catch (e) {
      if (shuttingDown) return new Promise<never>(() => {}); // a signal is already stopping everything
      await cluster.stop(stopGraceMs);
      throw e instanceof CliError ? e : new CliError(`cannot start the cluster: ${(e as Error).message}`);
    }
    process.stdout.write(
      `Weir cluster started with ${flags.taskmanagers} TaskManager${flags.taskmanagers === 1 ? '' : 's'} of ${slots} slot${slots === 1 ? '' : 's'} each` +
        `${sized ? ` (from this machine's ${availableParallelism()} cores, at least ${MIN_LOCAL_SLOTS}; --slots or -D taskmanager.numberOfTaskSlots=N to choose)` : ''}.\n` +
        `  Web UI and REST API: ${cluster.restUrl}\n` +
        `  JobManager RPC:      ${cluster.rpcAddress}\n` +
        `  Logs:                ${dir}/<process>.out and ${dir}/<process>/\n` +
        (cluster.kafkaBootstrap
          ? `  Kafka (development broker, not for production): ${cluster.kafkaBootstrap}\n`
          : '') +
        (secure ? secureClusterHints(secure, cluster.restUrl) : '') +
        `Press Ctrl-C to stop.\n`,
    );
    if (cluster.kafkaError) process.stderr.write(`warning: the Kafka broker did not start: ${cluster.kafkaError}\n`);
    if (flags.example) {
      try {
        const jobId = await submitExample(cluster.restClient(), dir);
        process.stdout.write(`Example job submitted with JobID ${jobId}\n`);
        if (cluster.kafkaBootstrap) {
          for (const line of await submitKafkaExamples(cluster.restClient(), dir, cluster.kafkaBootstrap))
            process.stdout.write(`${line}\n`);
        }
      } catch (e) {
        process.stderr.write(`warning: the example job was not submitted: ${(e as Error).message}\n`);
      }
    }
  });
  return new Command('cluster').description('manage a local cluster').addCommand(start);
}
