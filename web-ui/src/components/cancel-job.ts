// The cancel action shared by the jobs list and the job page.

import { rest } from '../api.js';
import { h } from '../dom.js';
import { confirmDialog } from './confirm.js';
import { listenAsync } from '../banner.js';

export function cancelButton(jid: string, name: string, onCancelled: () => void, small = false): HTMLButtonElement {
  const btn = h(
    'button',
    { class: `btn btn-danger${small ? ' btn-small' : ''}`, 'data-action': 'cancel-job' },
    'Cancel',
  );
  btn.title = `Cancel job ${name}`;
  listenAsync(btn, 'click', async (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    if (!(await confirmDialog(`Cancel job "${name}" (${jid})?`, 'Cancel job', 'Keep running'))) return;
    btn.disabled = true;
    btn.textContent = 'Cancelling…';
    try {
      await rest.cancelJob(jid);
      onCancelled();
    } catch {
      // The banner says why; let the user try again.
      btn.disabled = false;
      btn.textContent = 'Cancel';
    }
  });
  return btn;
}
