// `weir run --local <job.ts | bundle.weir> [-- args]`: runs a job in this process on the in-process
// mini cluster, as a test's executeAndCollect() does: the .ts is bundled as `weir bundle` bundles
// it, the bundle extracted (its `weir` is this engine), and main(env, args) runs on a local
// environment whose execute() runs the job. print() output goes to stdout, this command's own
// lines to stderr.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync, rmSync } from 'node:fs';
import { JobExecutionException } from '../api/minicluster/job-execution-result.js';
import type { JobClient } from '../api/minicluster/job-client.js';
import { localExecutionOf, StreamExecutionEnvironment } from '../api/environment.js';
import { runMain } from '../api/run-main.js';
import { createBundle, extractBundle } from '../common/bundle.js';
import { parseDynamicProperties } from '../common/config.js';
import { CliError, firstLine } from './errors.js';
import { formatDuration } from './format.js';

const INLINE_MAP = '//# sourceMappingURL=data:application/json;base64,';

/**
 * A bundle's source map names its sources relative to the job's directory (where a TaskManager
 * extracts it, that reads 'job.ts:12'); here the sources are on this disk, so a failure's stack
 * names the job's own files.
 */
async function pointSourceMapAt(entryPath: string, sourceDir: string): Promise<void> {
  const code = await readFile(entryPath, 'utf8');
  const at = code.lastIndexOf(INLINE_MAP);
  if (at < 0) return;
  const map = JSON.parse(Buffer.from(code.slice(at + INLINE_MAP.length).trim(), 'base64').toString('utf8')) as {
    sources?: string[];
  };
  map.sources = map.sources?.map((s) => resolve(sourceDir, s));
  await writeFile(
    entryPath,
    code.slice(0, at) + INLINE_MAP + Buffer.from(JSON.stringify(map)).toString('base64') + '\n',
  );
}

export interface LocalRunOptions {
  parallelism?: number;
  /** -D key=value pairs: the in-process cluster's configuration. */
  define?: string[];
}

export async function runLocally(jobFile: string, args: string[], opts: LocalRunOptions): Promise<void> {
  if (!existsSync(jobFile)) throw new CliError(`no such file: ${jobFile}`);
  const work = await mkdtemp(join(tmpdir(), 'weir-run-local-'));
  let client: JobClient | undefined;
  const onSignal = () => {
    process.stderr.write('Canceling the job...\n');
    void (client?.cancel() ?? Promise.resolve()).finally(() => {
      rmSync(work, { recursive: true, force: true });
      process.exit(130);
    });
  };
  // A main() that does not await execute() (fine on a cluster) leaves its failure unobserved; it is reported below.
  const unobserved = (reason: unknown) => {
    if (!(reason instanceof JobExecutionException)) throw reason;
  };
  process.on('unhandledRejection', unobserved);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let bundle = jobFile;
    if (!jobFile.endsWith('.weir')) {
      bundle = join(work, 'job.weir');
      try {
        await createBundle(jobFile, bundle);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    const { entryPath, manifest } = await extractBundle(bundle, join(work, 'bundle')).catch((e: Error) => {
      throw new CliError(e.message);
    });
    if (bundle !== jobFile) await pointSourceMapAt(entryPath, dirname(resolve(jobFile)));
    // Stack traces then point at the job's TypeScript (bundles carry inline source maps).
    process.setSourceMapsEnabled(true);
    let mod: unknown;
    try {
      mod = await import(pathToFileURL(entryPath).href);
    } catch (e) {
      throw new CliError(`cannot load the job module: ${(e as Error).stack ?? (e as Error).message}`);
    }
    let configuration;
    try {
      configuration = parseDynamicProperties(opts.define ?? []);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const env = StreamExecutionEnvironment.createLocalEnvironment(opts.parallelism, configuration);
    const local = localExecutionOf(env)!;
    let started = Date.now();
    local.onJobSubmitted = (c) => {
      client = c;
      started = Date.now();
      process.stderr.write(`Job has been submitted with JobID ${c.getJobID()}\n`);
    };
    try {
      await runMain(mod, env, args);
      // main() built the pipeline without calling execute(): run it now, as the engine would.
      if (local.jobs.length === 0) await env.execute(manifest.name);
      for (const job of local.jobs) await (await job).getJobExecutionResult();
    } catch (e) {
      if (e instanceof JobExecutionException) {
        const cause = e.cause instanceof Error ? e.cause : undefined;
        if (cause?.stack) process.stderr.write(`${cause.stack}\n`);
        if (/ was canceled$/.test(e.message)) throw new CliError(`job ${e.jobId} CANCELED`);
        throw new CliError(`job ${e.jobId} FAILED: ${firstLine(e.message.replace(/^Job .* failed: /, ''))}`);
      }
      throw new CliError(`job main() threw: ${(e as Error).stack ?? String(e)}`);
    }
    process.stderr.write(`Job ${client?.getJobID() ?? ''} finished in ${formatDuration(Date.now() - started)}.\n`);
  } finally {
    // Rejections are reported once the current microtasks ran: keep listening until then.
    setImmediate(() => process.off('unhandledRejection', unobserved));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(work, { recursive: true, force: true });
  }
}
