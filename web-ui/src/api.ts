// The REST client. Paths are relative so the UI also works behind a proxy that mounts the
// JobManager under a sub-path. Every failure raises a visible banner before it is rethrown.

import { authHeader, currentToken, tokenAfterRefusal } from './auth.js';
import { clearError, showError } from './banner.js';
import type { DeploymentDetails, DeploymentsResponse } from './deployment-types.js';
import type {
  AsyncOperationStatus,
  ClusterOverview,
  JarRunRequest,
  JarRunResponse,
  JarUploadResponse,
  JarsResponse,
  JobCheckpoints,
  JobDetails,
  JobExceptions,
  JobsOverviewResponse,
  TaskManagersResponse,
  TriggerResponse,
  WebConfig,
} from './types.js';

export class RestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    message: string,
    /** What the server said, without the method and path: for messages in plain words. */
    readonly reason: string = message,
  ) {
    super(message);
    this.name = 'RestError';
  }
}

interface RequestOptions {
  method?: string;
  body?: BodyInit;
  json?: unknown;
  signal?: AbortSignal;
  as?: 'json' | 'text' | 'none';
  /** Statuses that are an answer, not a failure (e.g. 404 for a feature the server lacks). */
  allow?: number[];
  /** The caller shows failures itself (e.g. in an action's progress): no banner. */
  quiet?: boolean;
}

function url(path: string): string {
  return new URL(path.replace(/^\//, ''), document.baseURI).toString();
}

async function errorText(res: Response): Promise<string> {
  const body = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length) return parsed.errors.map(String).join('; ');
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.trim().slice(0, 300) || res.statusText;
}

async function request<T>(path: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
  const method = opts.method ?? 'GET';
  const key = `${method} ${path.replace(/\?.*$/, '')}`;
  const headers: Record<string, string> = { Accept: opts.as === 'text' ? 'text/plain' : 'application/json' };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  let res: Response;
  let token = currentToken();
  for (;;) {
    try {
      res = await fetch(url(path), {
        method,
        headers: { ...headers, ...authHeader(token) },
        body,
        signal: opts.signal,
        cache: 'no-store',
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const msg = `Cannot reach the JobManager (${method} ${path}): ${(err as Error).message}`;
      if (!opts.quiet) showError(key, msg);
      throw new RestError(method, path, 0, msg, `Cannot reach the JobManager: ${(err as Error).message}`);
    }
    // The JobManager wants a token (security.rest.token): ask once, then send the request again.
    if (res.status !== 401) break;
    const next = await tokenAfterRefusal(token);
    if (next === null) break;
    token = next;
  }
  if (!res.ok && !opts.allow?.includes(res.status)) {
    const reason = await errorText(res);
    const msg = `${method} ${path} failed: ${res.status} ${reason}`;
    if (!opts.quiet) showError(key, msg);
    throw new RestError(method, path, res.status, msg, reason);
  }
  clearError(key);
  if (!res.ok || opts.as === 'none') return { status: res.status, body: undefined as T };
  if (opts.as === 'text') return { status: res.status, body: (await res.text()) as T };
  const text = await res.text();
  try {
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  } catch {
    const msg = `${method} ${path} returned malformed JSON`;
    showError(key, msg);
    throw new RestError(method, path, res.status, msg);
  }
}

const get = async <T>(path: string, signal?: AbortSignal): Promise<T> => (await request<T>(path, { signal })).body;
const enc = encodeURIComponent;

export const rest = {
  overview: (signal?: AbortSignal) => get<ClusterOverview>('/overview', signal),
  taskManagers: (signal?: AbortSignal) => get<TaskManagersResponse>('/taskmanagers', signal),
  jobsOverview: (signal?: AbortSignal) => get<JobsOverviewResponse>('/jobs/overview', signal),
  job: (jid: string, signal?: AbortSignal) => get<JobDetails>(`/jobs/${enc(jid)}`, signal),
  /** For an action's own progress: failures are the caller's to show. */
  jobQuiet: async (jid: string) => (await request<JobDetails>(`/jobs/${enc(jid)}`, { quiet: true })).body,
  exceptions: (jid: string, signal?: AbortSignal) => get<JobExceptions>(`/jobs/${enc(jid)}/exceptions`, signal),

  /** `null` when the server has no checkpoint statistics for this job (404). */
  async checkpoints(jid: string, signal?: AbortSignal): Promise<JobCheckpoints | null> {
    const r = await request<JobCheckpoints>(`/jobs/${enc(jid)}/checkpoints`, { signal, allow: [404] });
    return r.status === 404 ? null : r.body;
  },

  async cancelJob(jid: string): Promise<void> {
    await request(`/jobs/${enc(jid)}?mode=cancel`, { method: 'PATCH', as: 'none' });
  },

  config: (signal?: AbortSignal) => get<WebConfig>('/config', signal),

  /** Starts a savepoint (with `cancel-job`, Flink's cancel-with-savepoint); poll with `savepointStatus`. */
  async triggerSavepoint(
    jid: string,
    body: { 'target-directory'?: string; 'cancel-job'?: boolean },
    quiet = false,
  ): Promise<TriggerResponse> {
    return (await request<TriggerResponse>(`/jobs/${enc(jid)}/savepoints`, { method: 'POST', json: body, quiet })).body;
  },

  /** Stops the job with a savepoint (optionally draining it first); poll with `savepointStatus`. */
  async stopWithSavepoint(
    jid: string,
    body: { targetDirectory?: string; drain?: boolean },
    quiet = false,
  ): Promise<TriggerResponse> {
    return (await request<TriggerResponse>(`/jobs/${enc(jid)}/stop`, { method: 'POST', json: body, quiet })).body;
  },

  async savepointStatus(jid: string, triggerId: string, quiet = false): Promise<AsyncOperationStatus> {
    return (await request<AsyncOperationStatus>(`/jobs/${enc(jid)}/savepoints/${enc(triggerId)}`, { quiet })).body;
  },

  jars: (signal?: AbortSignal) => get<JarsResponse>('/jars', signal),

  async uploadJar(file: File, quiet = false): Promise<JarUploadResponse> {
    const form = new FormData();
    form.append('jarfile', file, file.name);
    return (await request<JarUploadResponse>('/jars/upload', { method: 'POST', body: form, quiet })).body;
  },

  async runJar(jarId: string, req: JarRunRequest, quiet = false): Promise<JarRunResponse> {
    return (await request<JarRunResponse>(`/jars/${enc(jarId)}/run`, { method: 'POST', json: req, quiet })).body;
  },

  async deleteJar(jarId: string): Promise<void> {
    await request(`/jars/${enc(jarId)}`, { method: 'DELETE', as: 'none' });
  },

  /** Declarative deployments (weir apply). */
  deployments: (signal?: AbortSignal) => get<DeploymentsResponse>('/deployments', signal),
  deployment: (name: string, signal?: AbortSignal) => get<DeploymentDetails>(`/deployments/${enc(name)}`, signal),

  jobManagerLog: async (signal?: AbortSignal) =>
    (await request<string>('/jobmanager/log', { signal, as: 'text' })).body,
  taskManagerLog: async (id: string, signal?: AbortSignal) =>
    (await request<string>(`/taskmanagers/${enc(id)}/log`, { signal, as: 'text' })).body,
};

/**
 * Calls `tick` now and then every `intervalMs` after the previous call settled (never
 * overlapping), until `signal` aborts. Failures are already on a banner; polling goes on.
 */
export function poll(tick: () => Promise<void>, intervalMs: number, signal: AbortSignal): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = async (): Promise<void> => {
    if (signal.aborted) return;
    try {
      await tick();
    } catch (err) {
      if (!(err instanceof RestError) && !signal.aborted) reportUiError(err);
    }
    if (!signal.aborted) timer = setTimeout(run, intervalMs);
  };
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  void run();
}

/** A bug in the page itself must be as visible as a failed request. */
export function reportUiError(err: unknown): void {
  console.error(err);
  showError('ui', `The page failed to render: ${err instanceof Error ? err.message : String(err)}`);
}
