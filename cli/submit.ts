// Submitting a bundle the way Flink's CLI submits a jar: upload, then run; and waiting for a job.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { readBundleFile } from '../common/bundle.js';
import { CliError, firstLine } from './errors.js';
import { RestError, type RestClient } from './rest-client.js';

export interface RunRequest {
  parallelism?: number;
  programArgs: string[];
  savepointPath?: string;
  allowNonRestoredState?: boolean;
}

/** Uploads the bundle (checked locally first, for a clear error) and returns the jar id. */
export async function uploadBundle(client: RestClient, bundlePath: string): Promise<string> {
  try {
    await readBundleFile(bundlePath);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const form = new FormData();
  form.append('jarfile', new Blob([await readFile(bundlePath)], { type: 'application/gzip' }), basename(bundlePath));
  const res = await client.post<{ filename?: string; status?: string }>('/jars/upload', form, { timeoutMs: 120_000 });
  const jarId = res.filename?.split('/').pop();
  if (!jarId) throw new CliError(`the JobManager accepted the upload but returned no file name`);
  return jarId;
}

/** Plans and starts the uploaded bundle; returns the job id. */
export async function runJar(client: RestClient, jarId: string, req: RunRequest): Promise<string> {
  const body: Record<string, unknown> = { programArgsList: req.programArgs };
  if (req.parallelism !== undefined) body.parallelism = req.parallelism;
  if (req.savepointPath !== undefined) body.savepointPath = req.savepointPath;
  if (req.allowNonRestoredState) body.allowNonRestoredState = true;
  // Planning runs the bundle's main() with a time limit on the server; allow for it.
  const res = await client.post<{ jobid?: string }>(`/jars/${encodeURIComponent(jarId)}/run`, body, {
    timeoutMs: 120_000,
  });
  if (!res.jobid) throw new CliError('the JobManager accepted the job but returned no job id');
  return res.jobid;
}

export const TERMINAL_STATES = new Set(['FINISHED', 'FAILED', 'CANCELED']);

/** Polls GET /jobs/:jobid until the job reaches a terminal state; returns that state. */
export async function waitForTermination(
  client: RestClient,
  jobId: string,
  onState?: (state: string) => void,
  pollMs = 500,
): Promise<string> {
  let last = '';
  let failures = 0;
  for (;;) {
    try {
      const job = await client.get<{ state?: string }>(`/jobs/${jobId}`);
      failures = 0;
      const state = job.state ?? 'UNKNOWN';
      if (state !== last) {
        last = state;
        onState?.(state);
      }
      if (TERMINAL_STATES.has(state)) return state;
    } catch (e) {
      if (e instanceof RestError && e.status === 404)
        throw new CliError(`job ${jobId} is no longer known to the JobManager`);
      // A JobManager that is briefly busy should not fail a long job; a gone one should.
      if (++failures >= 5) throw e;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The first line of the job's root exception, or a generic note when there is none. */
export async function rootCause(client: RestClient, jobId: string): Promise<string | undefined> {
  try {
    const ex = await client.get<{
      'root-exception'?: string | null;
      exceptionHistory?: { entries?: { exceptionName?: string; stacktrace?: string }[] };
    }>(`/jobs/${jobId}/exceptions`);
    const root = ex['root-exception'] ?? ex.exceptionHistory?.entries?.[0]?.stacktrace;
    return root ? firstLine(root) : undefined;
  } catch {
    return undefined;
  }
}
