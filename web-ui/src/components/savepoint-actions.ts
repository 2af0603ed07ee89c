// A running job's savepoint actions: trigger a savepoint (the job goes on), and stop with a
// savepoint. The steps they share with restart and upgrade live here too.

import { h } from '../dom.js';
import {
  ActionError,
  awaitEnd,
  defaultSavepointDir,
  runBundle,
  stopWithSavepoint,
  triggerSavepoint,
} from '../savepoints.js';
import type { JarRunRequest, JobDetails } from '../types.js';
import { copyableText } from './copy-text.js';
import { checkField, formDialog } from './form-dialog.js';
import type { OperationProgress } from './operation-progress.js';
import { problemOf, targetDirField } from './savepoint-fields.js';

/** What an action gets from the job page. */
export interface ActionContext {
  /** The job as last polled. */
  job: JobDetails;
  /** Shows a new progress panel on the page. */
  begin(title: string, kind: string): OperationProgress;
}

export const jobLabel = (job: JobDetails): string => `"${job.name || job.jid}"`;

export async function triggerSavepointAction({ job, begin }: ActionContext): Promise<void> {
  const dir = targetDirField(await defaultSavepointDir());
  const ok = await formDialog({
    id: 'trigger-savepoint',
    title: 'Trigger savepoint',
    intro: `Writes a savepoint of job ${jobLabel(job)}. The job keeps running.`,
    fields: [dir.el],
    confirmLabel: 'Trigger savepoint',
    validate: () => problemOf([dir]),
  });
  if (!ok) return;
  const op = begin('Savepoint', 'trigger-savepoint');
  try {
    const s = op.step('Writing a savepoint…');
    const path = await triggerSavepoint(job.jid, dir.value());
    s.done('Savepoint written to ', copyableText(path, 'savepoint-path'));
    op.succeed('Done');
  } catch (err) {
    op.fail(err);
  }
}

export async function stopAction({ job, begin }: ActionContext): Promise<void> {
  const dir = targetDirField(await defaultSavepointDir());
  const drain = h('input', { type: 'checkbox', name: 'drain' });
  const ok = await formDialog({
    id: 'stop-job',
    title: 'Stop with savepoint',
    intro: `Writes a savepoint of job ${jobLabel(job)}, then stops it. It can be run again from the savepoint later.`,
    fields: [
      dir.el,
      checkField(
        drain,
        'Drain',
        'Let the sources end first, so windows and timers fire as at the end of the input. Leave it off to resume later where the job stopped.',
      ),
    ],
    confirmLabel: 'Stop job',
    danger: true,
    validate: () => problemOf([dir]),
  });
  if (!ok) return;
  const op = begin(drain.checked ? 'Stop with savepoint (drain)' : 'Stop with savepoint', 'stop');
  try {
    await stopSteps(op, job.jid, dir.value(), drain.checked);
    op.succeed('Stopped');
  } catch (err) {
    op.fail(err);
  }
}

/** Stops the job with a savepoint and waits until it has ended; the savepoint's path. */
export async function stopSteps(
  op: OperationProgress,
  jid: string,
  dir: string | undefined,
  drain: boolean,
): Promise<string> {
  const s = op.step('Stopping the job with a savepoint…');
  const path = await stopWithSavepoint(jid, dir, drain);
  s.done('Savepoint written to ', copyableText(path, 'savepoint-path'));
  const w = op.step('Waiting for the job to end…');
  const ended = await awaitEnd(jid);
  w.done(`The job ended ${ended.state}.`);
  return path;
}

/** Runs a bundle from a savepoint; the new job's id, shown as a link. */
export async function runStep(
  op: OperationProgress,
  what: string,
  jarId: string,
  req: JarRunRequest & { savepointPath: string },
  stopped: boolean,
): Promise<string> {
  const s = op.step(`Starting ${what} from the savepoint…`);
  let jid: string;
  try {
    jid = await runBundle(jarId, req);
  } catch (err) {
    if (!stopped || !(err instanceof ActionError)) throw err;
    throw new ActionError(
      `${err.message} The old job stays stopped; its savepoint is kept at the path above.`,
      err.detail,
    );
  }
  s.done('Started the new job ', newJobLink(jid), '.');
  return jid;
}

export function newJobLink(jid: string): HTMLElement {
  return h('a', { href: `#/jobs/${jid}`, class: 'mono', 'data-testid': 'new-job' }, jid);
}
