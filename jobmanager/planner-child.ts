// The short-lived process that runs a bundle's main() in planning mode and sends the JobGraph
// back over the IPC channel (stdout belongs to user code). Started only by planner.ts.
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildJobGraph, createEnvironment, runMain } from '../api/internal.js';

export interface PlanRequest {
  type: 'plan';
  entryPath: string;
  programArgs: string[];
  defaultParallelism: number;
  fallbackName: string;
}

export type PlanFailureKind = 'load' | 'no-main' | 'main-threw' | 'build';

export type PlanReply =
  { type: 'graph'; jobGraph: unknown } | { type: 'error'; kind: PlanFailureKind; message: string; stack?: string };

/** The engine's own files (this package's dist/) and Node internals are noise in a user's trace. */
const engineDir = dirname(dirname(fileURLToPath(import.meta.url)));

function userStack(err: unknown): string | undefined {
  if (!(err instanceof Error) || !err.stack) return undefined;
  const frames = err.stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .filter((l) => !l.includes('node:internal') && !l.includes(engineDir) && !l.includes('(<anonymous>)'));
  return frames.length ? frames.join('\n') : undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function reply(msg: PlanReply): void {
  // Exit only once the message is out: process.exit() would drop a pending IPC write.
  process.send!(msg, () => process.exit(0));
}

async function plan(req: PlanRequest): Promise<PlanReply> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(req.entryPath).href)) as Record<string, unknown>;
  } catch (e) {
    return { type: 'error', kind: 'load', message: messageOf(e), stack: userStack(e) };
  }
  if (typeof mod.default !== 'function') {
    return { type: 'error', kind: 'no-main', message: 'the job module has no default export main(env, args)' };
  }
  const env = createEnvironment({ defaultParallelism: req.defaultParallelism, programArgs: req.programArgs });
  try {
    await runMain(mod, env, req.programArgs);
  } catch (e) {
    return { type: 'error', kind: 'main-threw', message: messageOf(e), stack: userStack(e) };
  }
  try {
    const { jobGraph } = buildJobGraph(env, req.fallbackName);
    return { type: 'graph', jobGraph: JSON.parse(JSON.stringify(jobGraph)) };
  } catch (e) {
    return { type: 'error', kind: 'build', message: messageOf(e) };
  }
}

if (!process.send) {
  process.stderr.write('planner-child must be started by the planner with an IPC channel\n');
  process.exit(2);
}
// User stack traces then point at the job's TypeScript sources (bundles carry inline source maps).
process.setSourceMapsEnabled(true);
// The planner died: nobody is waiting for the answer.
process.on('disconnect', () => process.exit(1));
process.once('message', (req: PlanRequest) => {
  plan(req).then(reply, (e) => reply({ type: 'error', kind: 'build', message: messageOf(e) }));
});
