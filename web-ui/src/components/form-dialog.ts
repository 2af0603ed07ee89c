// A modal form on <dialog>, for actions that take a few settings before they start. The
// browser checks `required`/`min` fields; `validate` adds checks of its own.

import { h, type Child } from '../dom.js';

export interface FormDialogOptions {
  title: string;
  /** Plain words on what the action will do. */
  intro?: Child;
  fields?: Child[];
  /** null for a dialog that only informs (a Close button alone). */
  confirmLabel: string | null;
  cancelLabel?: string;
  /** Red confirm button for actions that end the job. */
  danger?: boolean;
  /** A message to refuse the form with (shown in the dialog), or null when it is fine. */
  validate?: () => string | null;
  /** Identifies the dialog for tests: `data-dialog`. */
  id: string;
}

export function formDialog(opts: FormDialogOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const yes =
      opts.confirmLabel !== null
        ? h(
            'button',
            { class: `btn ${opts.danger ? 'btn-danger' : 'btn-primary'}`, value: 'yes', 'data-action': 'confirm' },
            opts.confirmLabel,
          )
        : null;
    const no = h(
      'button',
      { class: 'btn', value: 'no', formnovalidate: true, 'data-action': 'dismiss' },
      opts.cancelLabel ?? 'Close',
    );
    const problem = h('div', { class: 'form-problem', role: 'alert', hidden: true });
    const form = h(
      'form',
      { method: 'dialog', class: 'form' },
      h('h2', { class: 'dialog-title' }, opts.title),
      opts.intro ? h('div', { class: 'dialog-intro' }, opts.intro) : null,
      ...(opts.fields ?? []),
      problem,
      // The confirm button comes first so Enter in a field confirms; CSS shows it on the right.
      h('div', { class: 'dialog-actions dialog-actions-form' }, yes, no),
    );
    const dialog = h('dialog', { class: 'dialog dialog-form', 'data-dialog': opts.id }, form);
    form.addEventListener('submit', (ev) => {
      if ((ev.submitter as HTMLButtonElement | null)?.value !== 'yes') return;
      const message = opts.validate?.() ?? null;
      problem.hidden = message === null;
      problem.textContent = message ?? '';
      if (message !== null) ev.preventDefault();
    });
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = form.querySelector<HTMLElement>('input:not([type=hidden]):not([disabled]), select');
    (first ?? no).focus();
  });
}

/** A labelled form row: label above the control, a hint below. */
export function field(label: string, control: HTMLElement, hint?: Child): HTMLElement {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label' }, label),
    control,
    hint ? h('span', { class: 'field-hint' }, hint) : null,
  );
}

/** A checkbox with its label on the right, and an optional hint below. */
export function checkField(box: HTMLInputElement, label: string, hint?: Child): HTMLElement {
  return h(
    'div',
    { class: 'field' },
    h('label', { class: 'check' }, box, label),
    hint ? h('span', { class: 'field-hint' }, hint) : null,
  );
}
