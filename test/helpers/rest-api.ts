// The REST calls tests make against a JobManager: upload and run bundles, read and wait for jobs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBundle } from '../../common/bundle.js';
import { packageRoot } from '../../common/package-root.js';

const ROOT = packageRoot();
const TERMINAL = ['FINISHED', 'FAILED', 'CANCELED'];

/**
 * `baseUrl` is read on every call, so a JobManager that moved (a new leader) is followed. With
 * `token`, every request carries it (security.rest.token) unless it sets its own Authorization.
 */
export function restApi(baseUrl: () => string, dir: string, token?: string) {
  const bundles = new Map<string, Promise<string>>();
  const rest = async (path: string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    if (token !== undefined && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(baseUrl() + path, { ...init, headers });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      // plain text (logs, metrics)
    }
    return { status: res.status, body };
  };

  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await fn();
        if (v !== undefined && v !== false) return v as T;
      } catch (e) {
        if ((e as { final?: boolean }).final) throw e;
        last = e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
  };

  const bundle = (path: string) => {
    let p = bundles.get(path);
    if (!p) {
      const out = join(dir, 'bundles', path.replace(/[^A-Za-z0-9]/g, '_') + '.weir');
      p = createBundle(join(ROOT, path), out).then(() => out);
      bundles.set(path, p);
    }
    return p;
  };

  const upload = async (bundlePath: string) => {
    const form = new FormData();
    form.append('jarfile', new Blob([readFileSync(bundlePath)]), 'job.weir');
    const res = await rest('/jars/upload', { method: 'POST', body: form });
    if (res.status !== 200) throw new Error(`upload failed: ${JSON.stringify(res.body)}`);
    return String(res.body.filename).split('/').pop()!;
  };

  const submit = async (path: string, args: string[] = [], parallelism?: number) => {
    const jarId = await upload(await bundle(path));
    const res = await rest(`/jars/${jarId}/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ programArgsList: args, ...(parallelism ? { parallelism } : {}) }),
    });
    if (res.status !== 200) throw new Error(`run failed (${res.status}): ${JSON.stringify(res.body)}`);
    return res.body.jobid as string;
  };

  const job = async (jobId: string) => (await rest(`/jobs/${jobId}`)).body;

  const waitForJob = (jobId: string, states: string[], timeoutMs = 60_000) =>
    waitFor(
      `job ${jobId} to reach ${states.join('/')}`,
      async () => {
        const j = await job(jobId);
        if (states.includes(j.state)) return j;
        if (TERMINAL.includes(j.state)) {
          const ex = (await rest(`/jobs/${jobId}/exceptions`)).body;
          throw Object.assign(new Error(`job ended ${j.state}, not ${states.join('/')}: ${ex['root-exception']}`), {
            final: true,
          });
        }
        return undefined;
      },
      timeoutMs,
    );

  return { rest, waitFor, bundle, upload, submit, job, waitForJob };
}
