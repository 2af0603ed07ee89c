// A small client of the JobManager's Flink-shaped REST API, turning every failure into one
// clear line ("cannot reach the JobManager at ...", or the server's first error message).
import { parseEtcdUrl } from '../common/etcd-url.js';
import { CliError } from './errors.js';
import { fetchWithCa } from './fetch-with-ca.js';

export const DEFAULT_JOBMANAGER_URL = 'http://127.0.0.1:8081';

/** Accepts "http://host:port", or "host:port" as Flink's -m does, or etcd://host:2379[/cluster-id] (the leader). */
export function normalizeJobManagerUrl(raw: string): string {
  if (parseEtcdUrl(raw)) return raw.trim();
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`invalid JobManager URL '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`invalid JobManager URL '${raw}' (use http:// or https://)`);
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

/** Certificate problems: the JobManager speaks TLS with a certificate this client does not trust. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
]);

/** A 4xx/5xx answer; `status` lets callers tell "no such job" (404) from the rest. */
export class RestError extends CliError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  body?: unknown;
  timeoutMs?: number;
}

export interface RestClientOptions {
  /** Sent as `Authorization: Bearer <token>` (security.rest.token of the JobManager). */
  token?: string;
  /** PEM of CA certificates trusted for an https:// JobManager, besides the system's. */
  ca?: Buffer;
}

export class RestClient {
  /** The JobManager's REST address; an etcd:// one becomes the leader's at the first request. */
  baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly options: RestClientOptions = {},
  ) {
    this.baseUrl = normalizeJobManagerUrl(baseUrl);
  }

  /** With high availability the CLI asks etcd which JobManager leads. */
  private async resolveLeader(): Promise<void> {
    const etcd = parseEtcdUrl(this.baseUrl);
    if (!etcd) return;
    // etcd's client (and its gRPC stack) loads only for an etcd:// address.
    const { currentLeader } = await import('../common/etcd-leader.js');
    const clusterId = etcd.clusterId ?? 'default';
    let leader;
    try {
      leader = await currentLeader(etcd.endpoints, clusterId);
    } catch (e) {
      throw new CliError(
        `cannot read the leading JobManager from etcd at ${etcd.endpoints.join(', ')}: ${(e as Error).message}`,
      );
    }
    if (!leader)
      throw new CliError(
        `no JobManager of cluster '${clusterId}' leads in etcd at ${etcd.endpoints.join(', ')} (is one running with high-availability.type: etcd?)`,
      );
    this.baseUrl = normalizeJobManagerUrl(leader.restUrl);
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
    await this.resolveLeader();
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) };
    if (opts.body instanceof FormData) {
      init.body = opts.body;
    } else if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const ca = this.options.ca;
    let res: Response;
    try {
      res = ca ? await fetchWithCa(ca, this.baseUrl + path, init) : await fetch(this.baseUrl + path, init);
    } catch (e) {
      const reason = networkReason(e);
      // A TLS port drops a plain HTTP request without an answer.
      const hint =
        reason === 'connection closed' && this.baseUrl.startsWith('http:') ? ' (if it serves HTTPS, use https://)' : '';
      throw new CliError(`cannot reach the JobManager at ${this.baseUrl}: ${reason}${hint}`);
    }
    if (res.status === 401) {
      throw new RestError(
        this.options.token
          ? `the token was refused by the JobManager at ${this.baseUrl}`
          : `the JobManager at ${this.baseUrl} requires a token: pass --token or set WEIR_TOKEN`,
        401,
      );
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!res.ok) throw new RestError(`${errorMessage(res, json, text)}`, res.status);
    if (json === undefined)
      throw new CliError(`the JobManager at ${this.baseUrl} sent a response that is not JSON (${method} ${path})`);
    return json as T;
  }
}

function networkReason(e: unknown): string {
  // fetch wraps the socket's error in `cause`; node:https (with --ca) throws it as it is.
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'request timed out';
  const code = err.cause?.code ?? err.code;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `its TLS certificate does not name this host (${code}): use an address the certificate lists`;
  if (code && UNTRUSTED_CERTIFICATE.has(code)) {
    return `its TLS certificate is not trusted (${code}): pass --ca <file> or set WEIR_CA_FILE to the PEM of the CA that signed it`;
  }
  const message = err.cause?.message ?? err.message ?? String(e);
  if (/wrong version number|packet length too long/i.test(message))
    return `it does not speak TLS there (${message}): use http://`;
  return message;
}

function errorMessage(res: Response, json: unknown, text: string): string {
  const body = json as { errors?: unknown; message?: unknown } | undefined;
  if (body && Array.isArray(body.errors) && body.errors.length > 0) return String(body.errors[0]).trim();
  if (body && typeof body.message === 'string') return body.message;
  const snippet = text.trim().split('\n')[0]?.slice(0, 200);
  return `HTTP ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`;
}
