// A value worth pasting elsewhere (a savepoint path): shown in monospace with a Copy button.

import { h } from '../dom.js';

export function copyableText(text: string, testId?: string): HTMLElement {
  const value = h('code', { class: 'copy-value', 'data-testid': testId }, text);
  const btn = h(
    'button',
    { type: 'button', class: 'btn btn-small copy-btn', 'data-action': 'copy', title: 'Copy to the clipboard' },
    'Copy',
  );
  btn.addEventListener('click', (ev) => {
    ev.preventDefault();
    void copy(text, value).then((ok) => {
      btn.textContent = ok ? 'Copied' : 'Select and copy';
      setTimeout(() => (btn.textContent = 'Copy'), 1500);
    });
  });
  return h('span', { class: 'copyable' }, value, btn);
}

async function copy(text: string, el: HTMLElement): Promise<boolean> {
  try {
    // Only in a secure context (https or localhost), and the browser may still refuse.
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Fall back to selecting the text and the old copy command.
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}
