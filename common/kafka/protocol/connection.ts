// A client connection to one Kafka broker: requests are pipelined (many in flight), matched to
// their responses by correlation id, and resolved with the decoded response body. With `sasl`, the
// connection logs in first (Kafka's SASL_PLAINTEXT with mechanism PLAIN): ApiVersions, SaslHandshake
// v1, then SaslAuthenticate carrying `\0username\0password`.
import { connect as netConnect, type Socket } from 'node:net';
import { ApiKeys, apiKeyName } from './api-keys.js';
import { decodeResponse, encodeRequest, isSupported, supportedApiVersions } from './codec.js';
import { ErrorCode, KafkaProtocolError } from './errors.js';
import { FrameReader } from './framing.js';

export { ApiKeys } from './api-keys.js';

export interface KafkaConnectionOptions {
  /** The client id of every request header (default 'weir'). */
  clientId?: string;
  /** Timeout of the TCP connect and default timeout of each request (default 30 s). */
  timeoutMs?: number;
  /** Log in with these credentials before the connection is handed out (SASL_PLAINTEXT). */
  sasl?: SaslPlainCredentials;
}

export interface SaslPlainCredentials {
  mechanism: 'PLAIN';
  username: string;
  password: string;
}

/** The PLAIN message (RFC 4616) with an empty authorization id: `\0username\0password`. */
export function saslPlainAuthBytes(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8');
}

interface Pending {
  apiKey: number;
  apiVersion: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
  resolve: (body: any) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class KafkaConnection {
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly frames = new FrameReader();
  private failure: Error | undefined;
  /** Set once a SASL session lifetime (KIP-368) nears its end: new requests should use a new connection. */
  private expiring = false;
  private readonly clientId: string;
  private readonly timeoutMs: number;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    opts: KafkaConnectionOptions,
  ) {
    this.clientId = opts.clientId ?? 'weir';
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () =>
      this.fail(new KafkaProtocolError(ErrorCode.NETWORK_EXCEPTION, `connection to ${host}:${port} closed`)),
    );
  }

  static connect(host: string, port: number, opts: KafkaConnectionOptions = {}): Promise<KafkaConnection> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new KafkaProtocolError(
            ErrorCode.NETWORK_EXCEPTION,
            `connecting to ${host}:${port} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(new KafkaProtocolError(ErrorCode.NETWORK_EXCEPTION, `cannot connect to ${host}:${port}: ${e.message}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        const conn = new KafkaConnection(socket, host, port, opts);
        if (!opts.sasl) return resolve(conn);
        conn.authenticate(opts.sasl).then(
          () => resolve(conn),
          (e: Error) => {
            void conn.close();
            reject(e);
          },
        );
      });
    });
  }

  /** Closed, or (after a login with a session lifetime) about to be: open a new connection. */
  get closed(): boolean {
    return this.failure !== undefined || this.expiring;
  }

  /**
   * SASL/PLAIN login (KIP-43, KIP-152): ApiVersions to pick the SaslAuthenticate version, then
   * SaslHandshake v1 and SaslAuthenticate. A refused login is a SASL_AUTHENTICATION_FAILED error
   * naming the user and the broker, with the broker's message; never the password.
   */
  private async authenticate(sasl: SaslPlainCredentials): Promise<void> {
    const where = `${this.host}:${this.port}`;
    if (sasl.mechanism !== 'PLAIN')
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_SASL_MECHANISM,
        `SASL mechanism ${String(sasl.mechanism)} is not supported (only PLAIN)`,
      );
    const version = KafkaConnection.pickVersion(await this.apiVersions(), ApiKeys.SaslAuthenticate);
    if (version === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_VERSION,
        `the Kafka broker at ${where} does not support SaslAuthenticate (SASL needs Kafka 1.0 or newer; is its listener SASL_PLAINTEXT?)`,
      );
    }
    const hs = await this.request<{ errorCode: number; mechanisms: string[] }>(ApiKeys.SaslHandshake, 1, {
      mechanism: 'PLAIN',
    });
    if (hs.errorCode === ErrorCode.ILLEGAL_SASL_STATE) {
      throw new KafkaProtocolError(
        hs.errorCode,
        `the Kafka broker at ${where} does not expect a SASL login (its listener is not SASL_PLAINTEXT; use security.protocol=PLAINTEXT)`,
      );
    }
    if (hs.errorCode !== 0) {
      throw new KafkaProtocolError(
        hs.errorCode,
        `the Kafka broker at ${where} does not offer SASL mechanism PLAIN (it offers: ${hs.mechanisms.join(', ') || 'none'})`,
      );
    }
    const res = await this.request<{ errorCode: number; errorMessage: string | null; sessionLifetimeMs?: number }>(
      ApiKeys.SaslAuthenticate,
      version,
      {
        authBytes: saslPlainAuthBytes(sasl.username, sasl.password),
      },
    );
    if (res.errorCode !== 0) {
      // The broker's words, should they ever quote the password, do not.
      const said = sasl.password ? (res.errorMessage ?? '').split(sasl.password).join('***') : (res.errorMessage ?? '');
      throw new KafkaProtocolError(
        res.errorCode,
        `SASL/PLAIN authentication failed for user '${sasl.username}' at ${where}${said ? `: ${said}` : ''}`,
      );
    }
    const lifetime = res.sessionLifetimeMs ?? 0;
    if (lifetime > 0) {
      // The broker closes the connection when the session ends (KIP-368); Weir does not
      // re-authenticate but moves new requests to a fresh connection well before that.
      setTimeout(() => (this.expiring = true), lifetime * 0.8).unref();
      setTimeout(() => void this.close(), lifetime).unref();
    }
  }

  /**
   * Sends a request and resolves with the decoded response body. A Produce request with acks 0
   * has no response: it resolves with undefined once written.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kafka bodies are decoded from schemas at run time; the caller names the type it expects.
  request<T = any>(apiKey: ApiKeys, apiVersion: number, body: object, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (!isSupported(apiKey, apiVersion))
      return Promise.reject(new RangeError(`${apiKeyName(apiKey)} v${apiVersion} is not implemented by this codec`));
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    let frame: Buffer;
    try {
      frame = encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.clientId }, body);
    } catch (e) {
      return Promise.reject(e);
    }
    if (apiKey === ApiKeys.Produce && (body as { acks?: number }).acks === 0) {
      return new Promise((resolve, reject) =>
        this.socket.write(frame, (e) => (e ? reject(e) : resolve(undefined as T))),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(
          new KafkaProtocolError(
            ErrorCode.REQUEST_TIMED_OUT,
            `${apiKeyName(apiKey)} v${apiVersion} to ${this.host}:${this.port} got no response within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(correlationId, { apiKey, apiVersion, resolve, reject, timer });
      this.socket.write(frame);
    });
  }

  /** The broker's ApiVersions, as a map from api key to its supported version range. */
  async apiVersions(): Promise<Map<number, { minVersion: number; maxVersion: number }>> {
    const res = await this.request<{
      errorCode: number;
      apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
    }>(ApiKeys.ApiVersions, 2, {});
    if (res.errorCode !== 0) throw new KafkaProtocolError(res.errorCode, 'ApiVersions');
    return new Map(res.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]));
  }

  /** The highest version of `apiKey` both this codec and the broker support, or undefined. */
  static pickVersion(
    broker: Map<number, { minVersion: number; maxVersion: number }>,
    apiKey: ApiKeys,
  ): number | undefined {
    const ours = supportedApiVersions().find((v) => v.apiKey === apiKey);
    const theirs = broker.get(apiKey);
    if (!ours || !theirs) return undefined;
    const v = Math.min(ours.maxVersion, theirs.maxVersion);
    return v >= Math.max(ours.minVersion, theirs.minVersion) ? v : undefined;
  }

  close(): Promise<void> {
    this.fail(new KafkaProtocolError(ErrorCode.NETWORK_EXCEPTION, 'connection closed'));
    return new Promise((resolve) => {
      if (this.socket.destroyed) resolve();
      else {
        this.socket.once('close', () => resolve());
        this.socket.end();
        setTimeout(() => this.socket.destroy(), 1000).unref();
      }
    });
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (e) {
      this.fail(e as Error);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      const correlationId = frame.readInt32BE(4);
      const p = this.pending.get(correlationId);
      if (!p) continue; // timed out earlier
      this.pending.delete(correlationId);
      clearTimeout(p.timer);
      try {
        p.resolve(decodeResponse(p.apiKey, p.apiVersion, frame).body);
      } catch (e) {
        p.reject(
          new KafkaProtocolError(
            ErrorCode.CORRUPT_MESSAGE,
            `cannot decode ${apiKeyName(p.apiKey)} v${p.apiVersion} response: ${(e as Error).message}`,
          ),
        );
      }
    }
  }

  private fail(e: Error): void {
    if (!this.failure) this.failure = e;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    this.pending.clear();
  }
}
