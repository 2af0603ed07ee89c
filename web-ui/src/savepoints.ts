// The steps the savepoint actions are made of: trigger or stop with a savepoint and wait for its
// path, wait for a job to end, run a bundle from a savepoint. Failures become ActionError, whose
// message is in plain words (the server's own, without method and path).

import { rest, RestError } from './api.js';
import { isTerminal } from './components/state.js';
import type { AsyncOperationStatus, JarRunRequest, JobDetails } from './types.js';

export class ActionError extends Error {
  constructor(
    message: string,
    /** A stack trace or other long detail, shown folded. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

/** Plain words for any failure of an action. */
export function actionError(err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  if (err instanceof RestError) return new ActionError(err.reason, err.message);
  return new ActionError(err instanceof Error ? err.message : String(err));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How often a savepoint's status is asked for, and how many failed asks in a row are tolerated. */
const POLL_MS = 500;
const MAX_POLL_FAILURES = 5;

/** Polls a savepoint or stop operation until it completes; its savepoint directory. */
export async function awaitSavepoint(jid: string, triggerId: string): Promise<string> {
  let failures = 0;
  for (;;) {
    let status: AsyncOperationStatus;
    try {
      status = await rest.savepointStatus(jid, triggerId, true);
      failures = 0;
    } catch (err) {
      // A lost answer is worth another try; a refusal (4xx) is the outcome.
      const transient = err instanceof RestError && (err.status === 0 || err.status >= 500);
      if (!transient || ++failures >= MAX_POLL_FAILURES) throw actionError(err);
      await sleep(POLL_MS * failures);
      continue;
    }
    if (status.status?.id === 'COMPLETED') {
      const op = status.operation ?? {};
      if (op['failure-cause']) throw failureOf(op['failure-cause']);
      if (typeof op.location === 'string' && op.location) return op.location;
      throw new ActionError('The savepoint completed but the server did not say where it was written.');
    }
    await sleep(POLL_MS);
  }
}

/** Flink's failure-cause: the first line of the stack trace is the message, without the class. */
function failureOf(cause: { class?: string; 'stack-trace'?: string }): ActionError {
  const trace = cause['stack-trace']?.trim() ?? '';
  const first = trace.split('\n')[0] ?? '';
  const message = first.replace(/^[\w.$]*(Exception|Error):\s*/, '') || cause.class || 'The savepoint failed.';
  return new ActionError(message, trace || undefined);
}

export async function triggerSavepoint(jid: string, targetDirectory: string | undefined): Promise<string> {
  const { 'request-id': id } = await rest
    .triggerSavepoint(jid, targetDirectory ? { 'target-directory': targetDirectory } : {}, true)
    .catch((e: unknown) => Promise.reject(actionError(e)));
  return awaitSavepoint(jid, id);
}

export async function stopWithSavepoint(
  jid: string,
  targetDirectory: string | undefined,
  drain: boolean,
): Promise<string> {
  const { 'request-id': id } = await rest
    .stopWithSavepoint(jid, { ...(targetDirectory ? { targetDirectory } : {}), drain }, true)
    .catch((e: unknown) => Promise.reject(actionError(e)));
  return awaitSavepoint(jid, id);
}

/** Waits until the job has ended (a stopped job releases its slots then); its final details. */
export async function awaitEnd(jid: string, timeoutMs = 60_000): Promise<JobDetails> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await rest.jobQuiet(jid).catch((e: unknown) => Promise.reject(actionError(e)));
    if (isTerminal(job.state)) return job;
    if (Date.now() > deadline)
      throw new ActionError(`The job is still ${job.state} after ${Math.round(timeoutMs / 1000)}s.`);
    await sleep(POLL_MS);
  }
}

/** Runs a bundle (from a savepoint when the request names one); the new job's id. */
export async function runBundle(jarId: string, req: JarRunRequest): Promise<string> {
  try {
    return (await rest.runJar(jarId, req, true)).jobid;
  } catch (err) {
    if (err instanceof RestError && err.status === 404) {
      throw new ActionError(
        `The bundle ${jarId} is no longer uploaded: upload it again, then run it from the savepoint.`,
        err.message,
      );
    }
    throw actionError(err);
  }
}

let configOnce: Promise<string | null> | undefined;

/** The cluster's default savepoint directory (state.savepoints.dir), null when there is none. */
export function defaultSavepointDir(): Promise<string | null> {
  configOnce ??= rest.config().then(
    (c) => c['savepoints-dir'] ?? null,
    () => {
      configOnce = undefined;
      return null;
    },
  );
  return configOnce;
}
