// The job page's action buttons, by the job's state: savepoint, stop, restart, upgrade and
// cancel while it runs; "Run again" once it has ended. Each action's progress shows in
// `operations`; while one is underway the buttons rest.

import { reportUiError } from '../api.js';
import { h, mount } from '../dom.js';
import type { JobDetails } from '../types.js';
import { cancelButton } from './cancel-job.js';
import { OperationProgress } from './operation-progress.js';
import { restartAction, upgradeAction } from './restart-actions.js';
import { runAgainAction } from './run-again.js';
import { stopAction, triggerSavepointAction, type ActionContext } from './savepoint-actions.js';
import { isTerminal } from './state.js';

type Mode = 'running' | 'starting' | 'stopping' | 'ended';

function modeOf(state: string): Mode {
  const s = state.toUpperCase();
  if (s === 'RUNNING') return 'running';
  if (isTerminal(s)) return 'ended';
  if (s === 'CANCELLING' || s === 'CANCELING') return 'stopping';
  return 'starting';
}

export class JobActions {
  readonly el = h('div', { class: 'job-actions' });
  readonly operations = h('div', { class: 'operations', 'data-testid': 'operations' });
  private job: JobDetails | undefined;
  private mode: Mode | undefined;
  private busy = false;

  constructor(private readonly onChange: () => void) {}

  update(job: JobDetails): void {
    this.job = job;
    const mode = modeOf(job.state);
    if (mode === this.mode) return;
    this.mode = mode;
    this.render();
  }

  private render(): void {
    const job = this.job!;
    const running = this.mode === 'running';
    const notRunning = running ? undefined : 'Only a running job can take a savepoint.';
    const buttons: HTMLElement[] = [];
    if (this.mode === 'running' || this.mode === 'starting') {
      buttons.push(
        this.button('Trigger savepoint', 'trigger-savepoint', triggerSavepointAction, notRunning),
        this.button('Stop with savepoint', 'stop-job', stopAction, notRunning),
        this.button(
          'Restart',
          'restart-job',
          restartAction,
          notRunning ?? (job['jar-id'] ? undefined : 'The bundle this job was run from is not known.'),
        ),
        this.button('Upgrade', 'upgrade-job', upgradeAction, notRunning),
        cancelButton(job.jid, job.name, this.onChange),
      );
    } else if (this.mode === 'ended') {
      buttons.push(
        this.button(
          'Run again',
          'run-again',
          runAgainAction,
          undefined,
          'Run this job again from its last savepoint or retained checkpoint.',
        ),
      );
    }
    mount(this.el, buttons);
  }

  /** `unavailable` disables the button and says why. */
  private button(
    label: string,
    action: string,
    run: (ctx: ActionContext) => Promise<void>,
    unavailable?: string,
    title?: string,
  ): HTMLButtonElement {
    const btn = h(
      'button',
      { class: 'btn', 'data-action': action, 'data-op-button': true, title: unavailable ?? title },
      label,
    );
    btn.disabled = this.busy || unavailable !== undefined;
    if (unavailable === undefined) btn.dataset.available = '';
    btn.addEventListener('click', () => void this.perform(run));
    return btn;
  }

  private async perform(run: (ctx: ActionContext) => Promise<void>): Promise<void> {
    if (this.busy || !this.job) return;
    this.setBusy(true);
    try {
      await run({
        job: this.job,
        begin: (title, kind) => {
          const op = new OperationProgress(title, kind);
          this.operations.prepend(op.el);
          return op;
        },
      });
    } catch (err) {
      reportUiError(err);
    } finally {
      this.setBusy(false);
      this.onChange();
    }
  }

  private setBusy(busy: boolean): void {
    this.busy = busy;
    for (const b of this.el.querySelectorAll<HTMLButtonElement>('[data-op-button]'))
      b.disabled = busy || !('available' in b.dataset);
  }
}
