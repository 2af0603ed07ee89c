// Restart and upgrade, each one action: stop the job with a savepoint, then run a bundle from
// that savepoint — the same bundle (at the same or a new parallelism), or another one.

import { h } from '../dom.js';
import { defaultSavepointDir } from '../savepoints.js';
import { formDialog } from './form-dialog.js';
import { jarPicker } from './jar-picker.js';
import { allowNonRestoredField, argsField, parallelismField, problemOf, targetDirField } from './savepoint-fields.js';
import { jobLabel, runStep, stopSteps, type ActionContext } from './savepoint-actions.js';

export async function restartAction({ job, begin }: ActionContext): Promise<void> {
  const jarId = job['jar-id'];
  if (!jarId) return;
  const dir = targetDirField(await defaultSavepointDir());
  const parallelism = parallelismField(
    job.parallelism,
    'The same as now, or a new one: keyed state is spread over the new subtasks.',
  );
  const ok = await formDialog({
    id: 'restart-job',
    title: 'Restart',
    intro: `Stops job ${jobLabel(job)} with a savepoint, then runs its bundle again from that savepoint with the same arguments, as a new job.`,
    fields: [parallelism.el, dir.el],
    confirmLabel: 'Restart',
    danger: true,
    validate: () => problemOf([parallelism, dir]),
  });
  if (!ok) return;
  const p = parallelism.value();
  const op = begin(p !== undefined ? `Restart at parallelism ${p}` : 'Restart', 'restart');
  try {
    const path = await stopSteps(op, job.jid, dir.value(), false);
    await runStep(
      op,
      'the bundle',
      jarId,
      { parallelism: p, programArgsList: job['program-args'] ?? [], savepointPath: path },
      true,
    );
    op.succeed('Restarted');
  } catch (err) {
    op.fail(err);
  }
}

export async function upgradeAction({ job, begin }: ActionContext): Promise<void> {
  const jar = jarPicker(job['jar-id'], { preselect: false, label: 'New bundle' });
  const parallelism = parallelismField(job.parallelism);
  const args = argsField(job['program-args'] ?? []);
  const allow = allowNonRestoredField();
  const dir = targetDirField(await defaultSavepointDir());
  const ok = await formDialog({
    id: 'upgrade-job',
    title: 'Upgrade',
    intro: h(
      'span',
      null,
      `Stops job ${jobLabel(job)} with a savepoint, then runs the chosen bundle from that savepoint as a new job. `,
      'Operators find their state by their ',
      h('span', { class: 'mono' }, 'uid'),
      '.',
    ),
    fields: [jar.el, parallelism.el, args.el, allow.el, dir.el],
    confirmLabel: 'Upgrade',
    danger: true,
    validate: () => problemOf([jar, parallelism, dir]),
  });
  if (!ok) return;
  const jarId = jar.value()!;
  const op = begin(`Upgrade to ${jar.name()}`, 'upgrade');
  try {
    const path = await stopSteps(op, job.jid, dir.value(), false);
    await runStep(
      op,
      jar.name(),
      jarId,
      {
        parallelism: parallelism.value(),
        programArgsList: args.value(),
        savepointPath: path,
        allowNonRestoredState: allow.value(),
      },
      true,
    );
    op.succeed('Upgraded');
  } catch (err) {
    op.fail(err);
  }
}
