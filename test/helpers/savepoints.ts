// REST helpers for savepoint tests: Flink's asynchronous operations, polled to the end.
import type { TestCluster } from './cluster.js';

export interface OperationResult {
  location?: string;
  failure?: string;
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** POSTs `body` to `path`, then polls `statusPath(requestId)` until COMPLETED. */
export async function runOperation(
  c: TestCluster,
  path: string,
  body: unknown,
  statusPath: (id: string) => string,
  timeoutMs = 60_000,
): Promise<OperationResult> {
  const res = await c.rest(path, json(body));
  if (res.status !== 202) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  const id = res.body['request-id'] as string;
  return c.waitFor(
    `${path} to complete`,
    async () => {
      const s = (await c.rest(statusPath(id))).body;
      if (s.status?.id !== 'COMPLETED') return undefined;
      const cause = s.operation?.['failure-cause'];
      return cause
        ? { failure: String(cause['stack-trace']) }
        : { location: s.operation?.location as string | undefined };
    },
    timeoutMs,
  );
}

export const savepoint = (c: TestCluster, jobId: string, body: Record<string, unknown> = {}) =>
  runOperation(c, `/jobs/${jobId}/savepoints`, body, (id) => `/jobs/${jobId}/savepoints/${id}`);

export const stopWithSavepoint = (c: TestCluster, jobId: string, body: Record<string, unknown> = {}) =>
  runOperation(c, `/jobs/${jobId}/stop`, body, (id) => `/jobs/${jobId}/savepoints/${id}`);

export const disposeSavepoint = (c: TestCluster, path: string) =>
  runOperation(c, '/savepoint-disposal', { 'savepoint-path': path }, (id) => `/savepoint-disposal/${id}`);

/** Uploads `path`'s bundle and runs it with the given restore settings; returns the REST answer. */
export async function runFrom(
  c: TestCluster,
  path: string,
  args: string[],
  opts: { parallelism?: number; savepointPath?: string; allowNonRestoredState?: boolean },
): Promise<{ status: number; body: any }> {
  const jarId = await c.upload(await c.bundle(path));
  return c.rest(`/jars/${jarId}/run`, json({ programArgsList: args, ...opts }));
}

/** runFrom that must succeed; returns the job id. */
export async function submitFrom(
  c: TestCluster,
  path: string,
  args: string[],
  opts: { parallelism?: number; savepointPath?: string; allowNonRestoredState?: boolean },
): Promise<string> {
  const res = await runFrom(c, path, args, opts);
  if (res.status !== 200) throw new Error(`run failed (${res.status}): ${JSON.stringify(res.body)}`);
  return res.body.jobid as string;
}
