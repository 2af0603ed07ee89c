// The progress of one action in plain words: a list of steps (running, done or failed), then
// the outcome. Stays on the page until dismissed, so the savepoint path can be copied later.

import { h, mount, type Child } from '../dom.js';
import { actionError } from '../savepoints.js';

export interface Step {
  /** Marks the step done; `text` replaces its wording ("Writing…" becomes "Written: …"). */
  done(...text: Child[]): void;
}

export class OperationProgress {
  readonly el: HTMLElement;
  private readonly steps = h('ol', { class: 'op-steps' });
  private readonly status = h('span', { class: 'op-status' }, 'In progress…');
  private readonly close = h('button', { type: 'button', class: 'banner-close', title: 'Dismiss', hidden: true }, '×');
  private current: HTMLElement | undefined;

  constructor(title: string, kind: string) {
    this.el = h(
      'section',
      { class: 'op op-running', 'data-testid': 'operation', 'data-op': kind, 'data-status': 'running', role: 'status' },
      h('div', { class: 'op-head' }, h('span', { class: 'op-title' }, title), this.status, this.close),
      this.steps,
    );
    this.close.addEventListener('click', () => this.el.remove());
  }

  /** Starts the next step (the previous one, if still running, counts as done). */
  step(...text: Child[]): Step {
    this.current?.classList.replace('op-step-running', 'op-step-done');
    const li = h('li', { class: 'op-step op-step-running' }, h('span', { class: 'op-step-text' }, text));
    this.steps.appendChild(li);
    this.current = li;
    return {
      done: (...t: Child[]) => {
        li.classList.replace('op-step-running', 'op-step-done');
        if (t.length) mount(li.querySelector('.op-step-text')!, t);
      },
    };
  }

  /** A finished fact worth keeping in view (a savepoint path, the new job). */
  note(...text: Child[]): void {
    this.steps.appendChild(h('li', { class: 'op-step op-step-done' }, h('span', { class: 'op-step-text' }, text)));
  }

  succeed(summary: string): void {
    this.current?.classList.replace('op-step-running', 'op-step-done');
    this.settle('succeeded', summary);
  }

  fail(err: unknown): void {
    const e = actionError(err);
    this.current?.classList.replace('op-step-running', 'op-step-failed');
    this.steps.appendChild(
      h(
        'li',
        { class: 'op-step op-step-failed', 'data-testid': 'operation-error' },
        h('span', { class: 'op-step-text' }, e.message),
        e.detail && e.detail !== e.message
          ? h(
              'details',
              { class: 'op-detail' },
              h('summary', null, 'Details'),
              h('pre', { class: 'stacktrace' }, e.detail),
            )
          : null,
      ),
    );
    this.settle('failed', 'Failed');
  }

  private settle(status: 'succeeded' | 'failed', summary: string): void {
    this.current = undefined;
    this.el.classList.replace('op-running', `op-${status}`);
    this.el.dataset.status = status;
    this.status.textContent = summary;
    this.close.hidden = false;
  }
}
