// A JobManager that (re)gains leadership runs again every job the high-availability storage
// records as not ended, with the same job id, from its latest completed checkpoint. A job that
// cannot be run again (its bundle is gone, planning fails) ends FAILED with the reason, in the
// job store, rather than vanish.
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../common/logging.js';
import { isGloballyTerminal } from '../../common/states.js';
import type { AlertNotifier } from '../alerts.js';
import type { Dispatcher } from '../dispatcher.js';
import type { ArchivedJob } from '../job-archive.js';
import type { FileJobStore } from './file-job-store.js';
import type { SubmittedJobRecord } from './job-record.js';

export interface RecoveryResult {
  recovered: string[];
  failed: string[];
}

export async function recoverJobs(
  store: FileJobStore,
  dispatcher: Dispatcher,
  alerts: AlertNotifier,
  log: Logger,
  restUrl: string,
): Promise<RecoveryResult> {
  const result: RecoveryResult = { recovered: [], failed: [] };
  for (const record of await store.list()) {
    const jobId = record.jobId;
    if (isGloballyTerminal(record.status)) {
      // It ended before the record could be removed: it is never resurrected.
      await store.remove(jobId).catch(() => undefined);
      continue;
    }
    if (dispatcher.jobs.has(jobId)) continue;
    try {
      const data = await readFile(store.bundlePath(record.bundleId)).catch((e: Error) => {
        throw new Error(`its bundle ${record.bundleId} is missing from ${store.bundlesDir}: ${e.message}`);
      });
      const jar = await dispatcher.jars.add(record.jarName, data);
      await dispatcher.runJar(
        {
          jarId: jar.id,
          programArgs: record.programArgs,
          jobId,
          ...(record.parallelism !== undefined ? { parallelism: record.parallelism } : {}),
          ...(record.savepointPath ? { savepointPath: record.savepointPath } : {}),
          ...(record.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
          ...(record.config ? { config: record.config } : {}),
        },
        {
          startTime: record.startTime,
          exceptionHistory: record.exceptionHistory ?? [],
          ...(record.checkpointStats ? { checkpointStats: record.checkpointStats } : {}),
        },
      );
      result.recovered.push(jobId);
      log.info(
        { jobId, jobName: record.jobName, previousStatus: record.status },
        'job recovered: it continues from its latest completed checkpoint',
      );
    } catch (e) {
      const cause = `the JobManager could not recover job ${jobId} (${record.jobName}): ${(e as Error).message}`;
      result.failed.push(jobId);
      log.error(
        { jobId, jobName: record.jobName, err: (e as Error).message },
        'job recovery failed; the job ends FAILED',
      );
      await dispatcher.archive.put(failedView(record, cause));
      await store.remove(jobId).catch(() => undefined);
      alerts.notify({
        type: 'job-alert',
        jobId,
        jobName: record.jobName,
        state: 'FAILED',
        cause,
        timestamp: Date.now(),
        jobManager: restUrl,
      });
    }
  }
  await store
    .collectBundles()
    .catch((e: Error) =>
      log.warn({ err: e.message }, 'cannot remove unused bundles from the high-availability storage'),
    );
  return result;
}

/** The REST views of a job that could not be taken over, in the shapes the job store keeps. */
function failedView(r: SubmittedJobRecord, cause: string): ArchivedJob {
  const now = Date.now();
  const overview = {
    jid: r.jobId,
    name: r.jobName,
    state: 'FAILED',
    'start-time': r.startTime,
    'end-time': now,
    duration: now - r.startTime,
    'last-modification': now,
    tasks: {},
  };
  const entries = [
    ...(r.exceptionHistory ?? []),
    {
      exceptionName: 'JobRecoveryException',
      stacktrace: cause,
      timestamp: now,
      taskName: null,
      location: null,
      taskManagerId: null,
    },
  ];
  return {
    jid: r.jobId,
    overview,
    details: { ...overview, isStoppable: false, vertices: [], 'status-counts': {}, timestamps: { FAILED: now } },
    exceptions: {
      'root-exception': cause,
      timestamp: now,
      'all-exceptions': [],
      truncated: false,
      exceptionHistory: {
        entries: entries.reverse().map((e) => ({ ...e, exceptionName: e.exceptionName, concurrentExceptions: [] })),
        truncated: false,
      },
    },
    plan: { jid: r.jobId, name: r.jobName, nodes: [] },
  };
}
