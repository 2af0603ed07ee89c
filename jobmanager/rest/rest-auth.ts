// REST authentication: with security.rest.token (or -file) set, every request but the web UI's
// static files must carry `Authorization: Bearer <token>`. A JobManager reachable from other hosts
// without a token refuses to start, since whoever reaches the port can run code on every TaskManager.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Configuration } from '../../common/config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A static file of the web UI: served without a token (it holds no data, only the page). */
    publicUi?: boolean;
  }
}

/** The configured token (security.rest.token or the content of security.rest.token-file), if any. */
export function restToken(conf: Configuration): string | undefined {
  const inline = conf.getOptionalString('security.rest.token');
  const file = conf.getOptionalString('security.rest.token-file');
  if (inline !== undefined && file !== undefined)
    throw new Error('set security.rest.token or security.rest.token-file, not both');
  let token = inline;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`cannot read security.rest.token-file ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (token === undefined) return undefined;
  token = token.trim();
  if (!token)
    throw new Error(
      `the REST token (${file !== undefined ? `security.rest.token-file ${file}` : 'security.rest.token'}) is empty`,
    );
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new Error('the REST token must be printable ASCII without spaces (it travels in an HTTP header)');
  return token;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: reachable from this host only. */
export function isLoopback(address: string): boolean {
  const a = address
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (a === 'localhost') return true;
  if (isIPv4(a)) return a.startsWith('127.');
  if (!isIPv6(a)) return false;
  // The URL parser writes IPv6 in its shortest form: ::1, and ::ffff:7fxx:xxxx for 127.x.x.x.
  const canonical = new URL(`http://[${a}]`).hostname.replace(/^\[|\]$/g, '');
  return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}

/** Throws when the REST endpoint would be open to other hosts without a token. */
export function checkRestExposure(conf: Configuration, token: string | undefined): void {
  const bind = conf.getString('rest.bind-address');
  if (token !== undefined || isLoopback(bind) || conf.getBoolean('security.rest.allow-unauthenticated')) return;
  throw new Error(
    `refusing to serve the REST API on ${bind} without a token: anyone who reaches it could upload and run code on every TaskManager. ` +
      'Set security.rest.token (e.g. -D security.rest.token=$(openssl rand -hex 32)) or security.rest.token-file and give clients the token (--token or WEIR_TOKEN), ' +
      'bind rest.bind-address to 127.0.0.1, or set security.rest.allow-unauthenticated: true to accept the risk.',
  );
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export const MISSING_TOKEN =
  "this JobManager requires a token: send 'Authorization: Bearer <token>' (security.rest.token); the weir CLI takes --token or WEIR_TOKEN";
export const NOT_BEARER = "this JobManager requires a token: the Authorization header must be 'Bearer <token>'";
export const WRONG_TOKEN = "the token was refused: it is not this JobManager's security.rest.token";

/**
 * Checks the bearer token before anything else runs (so no body is parsed for a stranger).
 * Routes whose config says `publicUi` pass: the UI's files, so that the page can ask for the token.
 */
export function registerRestAuth(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.publicUi) return;
    const header = req.headers.authorization;
    const refuse = (message: string, error?: string) =>
      reply
        .code(401)
        .header('www-authenticate', `Bearer realm="weir"${error ? `, error="${error}"` : ''}`)
        .send({ errors: [message] });
    if (header === undefined || header.trim() === '') return refuse(MISSING_TOKEN);
    const m = /^Bearer +(\S+) *$/i.exec(header);
    if (!m) return refuse(NOT_BEARER, 'invalid_request');
    // Digests have equal lengths, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(m[1]!), expected)) return refuse(WRONG_TOKEN, 'invalid_token');
  });
}

/** Marks every route registered in `app` (an encapsulated plugin context) as a public UI file. */
export function markPublicUi(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), publicUi: true };
  });
}
