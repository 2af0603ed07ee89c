// A modal confirmation built on <dialog>: unlike window.confirm it is styled and does not
// block the page's polling.

import { h } from '../dom.js';

export function confirmDialog(message: string, confirmLabel: string, cancelLabel = 'Keep'): Promise<boolean> {
  return new Promise((resolve) => {
    const yes = h('button', { class: 'btn btn-danger', value: 'yes', 'data-action': 'confirm' }, confirmLabel);
    const no = h('button', { class: 'btn', value: 'no', 'data-action': 'dismiss' }, cancelLabel);
    const dialog = h(
      'dialog',
      { class: 'dialog' },
      h('form', { method: 'dialog' }, h('p', null, message), h('div', { class: 'dialog-actions' }, no, yes)),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    no.focus();
  });
}
