// An ended job's "Run again": its bundle as a new job, from the job's last savepoint or else
// its latest retained checkpoint (the user may pick the other when both exist).

import { rest } from '../api.js';
import { h } from '../dom.js';
import { formatTimestamp } from '../format.js';
import { actionError } from '../savepoints.js';
import type { CheckpointStats } from '../types.js';
import { formDialog } from './form-dialog.js';
import { jarPicker } from './jar-picker.js';
import { allowNonRestoredField, argsField, parallelismField, problemOf, type Field } from './savepoint-fields.js';
import { jobLabel, runStep, type ActionContext } from './savepoint-actions.js';

interface Source {
  kind: 'savepoint' | 'checkpoint';
  stats: CheckpointStats & { external_path: string };
}

export async function runAgainAction({ job, begin }: ActionContext): Promise<void> {
  let sources: Source[];
  try {
    sources = await sourcesOf(job.jid);
  } catch (err) {
    begin('Run again', 'run-again').fail(err);
    return;
  }
  if (!sources.length) {
    await formDialog({
      id: 'run-again',
      title: 'Run again',
      intro: h(
        'span',
        { 'data-testid': 'no-savepoint' },
        `Job ${jobLabel(job)} left no savepoint and no retained checkpoint to run from. `,
        'To start it without state, run its bundle from the ',
        h('a', { href: '#/submit' }, 'Submit job'),
        ' page.',
      ),
      confirmLabel: null,
    });
    return;
  }
  const from = sourceField(sources);
  const jar = jarPicker(job['jar-id'], { preselect: true });
  const parallelism = parallelismField(job.parallelism);
  const args = argsField(job['program-args'] ?? []);
  const allow = allowNonRestoredField();
  const ok = await formDialog({
    id: 'run-again',
    title: 'Run again',
    intro: `Runs job ${jobLabel(job)} again as a new job, starting from where it left off.`,
    fields: [from.el, jar.el, parallelism.el, args.el, allow.el],
    confirmLabel: 'Run',
    validate: () => problemOf([jar, parallelism]),
  });
  if (!ok) return;
  const source = from.value();
  const op = begin(`Run again from ${source.kind} ${source.stats.id}`, 'run-again');
  try {
    await runStep(
      op,
      jar.name(),
      jar.value()!,
      {
        parallelism: parallelism.value(),
        programArgsList: args.value(),
        savepointPath: source.stats.external_path,
        allowNonRestoredState: allow.value(),
      },
      false,
    );
    op.succeed('Started');
  } catch (err) {
    op.fail(err);
  }
}

/** The last savepoint first, then the latest completed checkpoint with a path. */
async function sourcesOf(jid: string): Promise<Source[]> {
  const c = await rest.checkpoints(jid).catch((e: unknown) => Promise.reject(actionError(e)));
  const out: Source[] = [];
  const sp = c?.latest?.savepoint;
  const cp = c?.latest?.completed;
  if (sp?.external_path) out.push({ kind: 'savepoint', stats: { ...sp, external_path: sp.external_path } });
  // A checkpoint deleted by retention (the job's end under the default retention) is no place to start from.
  if (cp?.external_path && !cp.discarded && cp.external_path !== sp?.external_path)
    out.push({ kind: 'checkpoint', stats: { ...cp, external_path: cp.external_path } });
  return out;
}

function sourceField(sources: Source[]): Field<Source> {
  const radios = sources.map((s, i) =>
    h('input', { type: 'radio', name: 'restore-from', value: String(i), checked: i === 0 }),
  );
  const label = (s: Source): string =>
    `${s.kind === 'savepoint' ? 'Savepoint' : 'Checkpoint'} ${s.stats.id}${s.stats.latest_ack_timestamp ? `, ${formatTimestamp(s.stats.latest_ack_timestamp)}` : ''}`;
  return {
    el: h(
      'fieldset',
      { class: 'field choices' },
      h('legend', { class: 'field-label' }, 'Start from'),
      sources.map((s, i) =>
        h(
          'label',
          { class: 'choice', 'data-kind': s.kind },
          radios[i]!,
          h(
            'span',
            null,
            label(s),
            h('div', { class: 'sub mono', 'data-testid': 'restore-path' }, s.stats.external_path),
          ),
        ),
      ),
    ),
    value: () =>
      sources[
        Math.max(
          0,
          radios.findIndex((r) => r.checked),
        )
      ]!,
  };
}
