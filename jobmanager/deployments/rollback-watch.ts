// Watches a deployment's new job for deployment.rollback.window: FAILING or FAILED, or restarting
// repeatedly, is a failed upgrade (the reconciler then rolls back); a job still healthy at the end
// of the window (or one that finished) is stable. Fires at most once.
import type { JobStatus } from '../../common/states.js';
import type { JobMaster } from '../job-master.js';

/** Restarts within the window that count as "restarting repeatedly". */
export const ROLLBACK_RESTARTS = 2;

export interface WatchOutcome {
  /** The job failed or kept restarting: why. */
  failed(cause: string): void;
  stable(): void;
}

/** Starts watching; returns a function that stops it (the job was replaced meanwhile). */
export function watchNewJob(jm: JobMaster, windowMs: number, outcome: WatchOutcome): () => void {
  let restarts = 0;
  let done = false;
  const finish = (f: () => void) => {
    if (done) return;
    done = true;
    stop();
    f();
  };
  const onStatus = (status: JobStatus, cause: string | undefined) => {
    const why = (cause ?? jm.rootCause() ?? 'no cause recorded').split('\n')[0]!.trim();
    if (status === 'FAILING' || status === 'FAILED') finish(() => outcome.failed(`job ${jm.jobId} ${status}: ${why}`));
    else if (status === 'RESTARTING' && ++restarts >= ROLLBACK_RESTARTS) {
      finish(() =>
        outcome.failed(
          `job ${jm.jobId} restarted ${restarts} times within ${Math.round(windowMs / 1000)} s (deployment.rollback.window): ${why}`,
        ),
      );
    } else if (status === 'FINISHED') finish(() => outcome.stable());
    // CANCELED: someone else ended it (a later apply, a user); nothing to roll back to.
    else if (status === 'CANCELED') finish(() => undefined);
  };
  const timer = setTimeout(() => finish(() => outcome.stable()), windowMs);
  timer.unref();
  jm.on('statusChanged', onStatus);
  function stop(): void {
    clearTimeout(timer);
    jm.off('statusChanged', onStatus);
  }
  return () => {
    done = true;
    stop();
  };
}
