// A small client of the JobManager's Flink-shaped REST API, turning every failure into one
// clear line ("cannot reach the JobManager at ...", or the server's first error message).
import { CliError } from './errors.js';

export const DEFAULT_JOBMANAGER_URL = 'http://127.0.0.1:8081';

/** Accepts "http://host:port", or "host:port" as Flink's -m does. */
export function normalizeJobManagerUrl(raw: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`invalid JobManager URL '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid JobManager URL '${raw}' (use http:// or https://)`);
  return url.href.replace(/\/+$/, '');
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/** A 4xx/5xx answer; `status` lets callers tell "no such job" (404) from the rest. */
export class RestError extends CliError {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
}

export class RestClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = normalizeJobManagerUrl(baseUrl);
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  post<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...opts, body });
  }

  patch<T>(path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, { ...opts, body });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) };
    if (opts.body instanceof FormData) {
      init.body = opts.body;
    } else if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers = { 'content-type': 'application/json' };
    }
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, init);
    } catch (e) {
      throw new CliError(`cannot reach the JobManager at ${this.baseUrl}: ${networkReason(e)}`);
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new RestError(`${errorMessage(res, json, text)}`, res.status);
    if (json === undefined) throw new CliError(`the JobManager at ${this.baseUrl} sent a response that is not JSON (${method} ${path})`);
    return json as T;
  }
}

function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'request timed out';
  const code = err.cause?.code;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  return err.cause?.message ?? err.message ?? String(e);
}

function errorMessage(res: Response, json: unknown, text: string): string {
  const body = json as { errors?: unknown; message?: unknown } | undefined;
  if (body && Array.isArray(body.errors) && body.errors.length > 0) return String(body.errors[0]).trim();
  if (body && typeof body.message === 'string') return body.message;
  const snippet = text.trim().split('\n')[0]?.slice(0, 200);
  return `HTTP ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`;
}
