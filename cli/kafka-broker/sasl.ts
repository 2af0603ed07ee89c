// SASL/PLAIN logins for the development broker: Kafka's SASL_PLAINTEXT listener with the PLAIN
// mechanism (KIP-43, KIP-152), for trying out and testing clients configured with credentials.
// Users come from a file of `username:password` lines (`weir kafka-broker --sasl-users <file>`).
//
// Per connection, as Kafka's SaslServerAuthenticator: before a successful login only ApiVersions,
// SaslHandshake and then SaslAuthenticate are accepted; any other request closes the connection.
// A SaslHandshake v0 is followed by one raw PLAIN token (a size and the bytes, no request header)
// answered by an empty token; v1 by a SaslAuthenticate request. A refused login is answered with
// SASL_AUTHENTICATION_FAILED and Kafka's message, then the connection is closed. Passwords never
// reach a log line or a response. Without users, the broker accepts every connection as before
// and answers SASL requests with ILLEGAL_SASL_STATE, as Kafka does on a PLAINTEXT listener.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { ApiKeys, apiKeyName } from '../../common/kafka/protocol/api-keys.js';
import { decodeRequest, encodeResponse } from '../../common/kafka/protocol/codec.js';
import { ErrorCode } from '../../common/kafka/protocol/errors.js';
import type { Logger } from '../../common/logging.js';

export const PLAIN = 'PLAIN';

/** Kafka's messages (PlainSaslServer), word for word: clients show them to their users. */
export const INVALID_CREDENTIALS = 'Authentication failed: Invalid username or password';

/** Kafka's sasl.server.max.receive.size: the largest request accepted before a login. */
const MAX_UNAUTHENTICATED_FRAME = 524_288;

/** A refused PLAIN login, with the message Kafka sends for it. */
export class SaslAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslAuthenticationError';
  }
}

/**
 * Reads a users file: one `username:password` per line (the password is everything after the
 * first colon, kept as written), blank lines and lines starting with # ignored.
 */
export function parseSaslUsers(text: string, source = 'the SASL users file'): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const colon = line.indexOf(':');
    // Never echo the line: it holds a password.
    if (colon < 0) throw new Error(`${source}, line ${i + 1}: expected username:password`);
    const username = line.slice(0, colon).trim();
    const password = line.slice(colon + 1);
    if (username === '') throw new Error(`${source}, line ${i + 1}: the username is empty`);
    if (username.includes('\0') || password.includes('\0'))
      throw new Error(`${source}, line ${i + 1}: NUL characters cannot be used with PLAIN`);
    if (password === '') throw new Error(`${source}, line ${i + 1}: user '${username}' has an empty password`);
    if (users.has(username)) throw new Error(`${source}, line ${i + 1}: user '${username}' is listed twice`);
    users.set(username, password);
  }
  if (users.size === 0) throw new Error(`${source} lists no users`);
  return users;
}

export function readSaslUsers(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(
      `cannot read the SASL users file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      { cause: e },
    );
  }
  return parseSaslUsers(text, `SASL users file ${file}`);
}

export interface PlainMessage {
  /** The authorization id (empty: the same as the username). */
  authzid: string;
  username: string;
  password: string;
}

/** Splits a PLAIN message `[authzid] NUL username NUL password` (RFC 4616), as Kafka does. */
export function parsePlainMessage(bytes: Buffer): PlainMessage {
  const tokens = bytes.toString('utf8').split('\0');
  if (tokens.length !== 3)
    throw new SaslAuthenticationError(`Invalid SASL/PLAIN response: expected 3 tokens, got ${tokens.length}`);
  const [authzid, username, password] = tokens as [string, string, string];
  if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
  if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
  return { authzid, username, password };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Checks a PLAIN message against the users; returns the username or throws Kafka's error. */
export function authenticatePlain(users: ReadonlyMap<string, string>, bytes: Buffer): string {
  const m = parsePlainMessage(bytes);
  const expected = users.get(m.username);
  // Compared in constant time (digests, so that lengths leak nothing either).
  const ok = timingSafeEqual(digest(expected ?? '\0unknown user'), digest(m.password)) && expected !== undefined;
  if (!ok) throw new SaslAuthenticationError(INVALID_CREDENTIALS);
  if (m.authzid !== '' && m.authzid !== m.username)
    throw new SaslAuthenticationError(
      'Authentication failed: Client requested an authorization id that is different from username',
    );
  return m.username;
}

/** The broker's SASL configuration; one SaslSession per connection. */
export class SaslAuthenticator {
  constructor(private readonly users: ReadonlyMap<string, string> | undefined) {}

  get enabled(): boolean {
    return this.users !== undefined && this.users.size > 0;
  }

  session(socket: Socket, log: Logger): SaslSession {
    return new SaslSession(this.users && this.users.size > 0 ? this.users : undefined, socket, log);
  }
}

type State = 'handshake' | 'authenticate' | 'raw-token' | 'authenticated' | 'closed';

export class SaslSession {
  private state: State;
  /** The logged-in user (undefined before a login, and without SASL). */
  principal: string | undefined;

  constructor(
    private readonly users: ReadonlyMap<string, string> | undefined,
    private readonly socket: Socket,
    private readonly log: Logger,
  ) {
    this.state = users ? 'handshake' : 'authenticated';
  }

  /**
   * Called with every request frame before it is decoded: true lets the broker handle it; false
   * means this session has answered it (a SASL request) or closed the connection.
   */
  admit(frame: Buffer): boolean {
    const state = this.state;
    if (state === 'closed') return false;
    const apiKey = frame.length >= 6 ? frame.readInt16BE(4) : -1;
    if (state === 'authenticated' && apiKey !== ApiKeys.SaslHandshake && apiKey !== ApiKeys.SaslAuthenticate)
      return true;
    if (state === 'raw-token') return this.rawToken(frame);
    if (frame.length > MAX_UNAUTHENTICATED_FRAME + 4 && state !== 'authenticated')
      return this.close(
        `a ${frame.length - 4}-byte request before SASL authentication (at most ${MAX_UNAUTHENTICATED_FRAME})`,
      );
    if (apiKey === ApiKeys.ApiVersions && state === 'handshake') return true;
    if (apiKey !== ApiKeys.SaslHandshake && apiKey !== ApiKeys.SaslAuthenticate) {
      return this.close(
        `${apiKeyName(apiKey)} request before SASL authentication (${state === 'handshake' ? 'SaslHandshake' : 'SaslAuthenticate'} expected)`,
      );
    }
    let req;
    try {
      req = decodeRequest(frame);
    } catch {
      return true; // the broker refuses what it cannot decode, and closes the connection
    }
    const { header, body } = req;
    const respond = (res: object, thenClose = false) => {
      const out = encodeResponse(header.apiKey, header.apiVersion, header.correlationId, res);
      if (thenClose) this.endWith(out);
      else this.socket.write(out);
      return false;
    };

    if (header.apiKey === ApiKeys.SaslHandshake) {
      if (state === 'authenticated')
        return respond({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: this.users ? [PLAIN] : [] });
      if (state !== 'handshake') return this.close('a second SaslHandshake');
      const mechanism = String(body.mechanism);
      if (mechanism !== PLAIN) {
        this.log.info(
          { mechanism },
          `SASL handshake for unsupported mechanism '${mechanism}' (enabled: ${PLAIN}); closing the connection`,
        );
        this.state = 'closed';
        return respond({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: [PLAIN] }, true);
      }
      this.state = header.apiVersion === 0 ? 'raw-token' : 'authenticate';
      return respond({ errorCode: 0, mechanisms: [PLAIN] });
    }

    // SaslAuthenticate
    if (state === 'authenticated') {
      const errorMessage = this.users
        ? 'SaslAuthenticate request received after successful authentication'
        : 'SASL authentication is not enabled on this listener';
      return respond({
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage,
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0,
      });
    }
    if (state !== 'authenticate') return this.close('SaslAuthenticate before SaslHandshake');
    try {
      this.loggedIn(authenticatePlain(this.users!, body.authBytes as Buffer));
      // A session lifetime of 0: no re-authentication (KIP-368) is asked for.
      return respond({ errorCode: 0, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 });
    } catch (e) {
      const errorMessage = e instanceof SaslAuthenticationError ? e.message : 'Authentication failed';
      this.refused(body.authBytes as Buffer, errorMessage);
      return respond(
        {
          errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
          errorMessage,
          authBytes: Buffer.alloc(0),
          sessionLifetimeMs: 0,
        },
        true,
      );
    }
  }

  /** After a SaslHandshake v0: the frame is a bare PLAIN token; success is an empty token. */
  private rawToken(frame: Buffer): boolean {
    const token = frame.subarray(4);
    try {
      this.loggedIn(authenticatePlain(this.users!, token));
      this.socket.write(Buffer.alloc(4));
    } catch (e) {
      this.refused(token, e instanceof SaslAuthenticationError ? e.message : 'Authentication failed');
      this.endWith(Buffer.alloc(0));
    }
    return false;
  }

  private loggedIn(username: string): void {
    this.state = 'authenticated';
    this.principal = username;
    this.log.debug({ user: username }, `SASL/PLAIN login of user '${username}'`);
  }

  private refused(token: Buffer, message: string): void {
    this.state = 'closed';
    let user = '';
    try {
      user = parsePlainMessage(token).username;
    } catch {
      // a malformed token: no username to name
    }
    this.log.info(
      { user },
      `failed SASL/PLAIN authentication${user ? ` of user '${user}'` : ''} (${message}); closing the connection`,
    );
  }

  /** Writes the last bytes, then closes (a peer that keeps its end open is cut off after 1 s). */
  private endWith(bytes: Buffer): void {
    this.state = 'closed';
    this.socket.end(bytes);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private close(why: string): false {
    this.state = 'closed';
    this.log.warn(`${why}; closing the connection`);
    this.socket.destroy();
    return false;
  }
}
