// "Restored from": the savepoint or checkpoint a job started from, and the job that wrote it.

import { fact, h } from '../dom.js';
import type { RestoredFrom } from '../types.js';
import { copyableText } from './copy-text.js';

export function restoredFromFact(r: RestoredFrom): HTMLElement {
  const kind = r['is-savepoint'] ? 'Savepoint' : 'Checkpoint';
  const from = r['job-id'];
  return fact(
    'Restored from',
    h(
      'div',
      { 'data-testid': 'restored-from' },
      `${kind} ${r['checkpoint-id']}`,
      from
        ? [' of job ', h('a', { href: `#/jobs/${from}`, class: 'mono', 'data-testid': 'restored-from-job' }, from)]
        : null,
      h('div', { class: 'sub' }, copyableText(r.path)),
    ),
  );
}
