// What guards the gRPC calls between processes, read once from the configuration: the internal
// secret (security.internal.secret / -file) and the mutual TLS material (security.ssl.internal.*).
// Plain strings only, so a TaskManager hands the same settings to its slot threads (workerData).
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Configuration, OptionKey } from '../config.js';

export interface InternalTls {
  /** PEM text of the CA that signs every process's certificate (the only one trusted). */
  ca: string;
  /** PEM text of this process's certificate chain and private key. */
  cert: string;
  key: string;
  /** Check that the server's certificate names the address dialled (security.ssl.internal.verify-hostname). */
  verifyHostname: boolean;
}

export interface InternalSecurity {
  /** Every call carries an HMAC proof of this secret; a server with it refuses calls without. */
  secret?: string;
  tls?: InternalTls;
}

/** Neither secret nor TLS: what tests and tools without a configuration use. */
export const NO_INTERNAL_SECURITY: InternalSecurity = Object.freeze({});

function readPem(conf: Configuration, key: OptionKey): string {
  const path = conf.getOptionalString(key);
  if (!path) throw new Error(`security.ssl.internal.enabled is true but '${key}' (a PEM file) is not set`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read '${key}' (${path}): ${(e as Error).message}`, { cause: e });
  }
}

function readSecret(conf: Configuration): string | undefined {
  const inline = conf.getOptionalString('security.internal.secret');
  const file = conf.getOptionalString('security.internal.secret-file');
  if (inline !== undefined && file !== undefined)
    throw new Error("set either 'security.internal.secret' or 'security.internal.secret-file', not both");
  let secret = inline;
  if (file !== undefined) {
    try {
      // A trailing newline from `echo ... > file` is not part of the secret.
      secret = readFileSync(file, 'utf8').replace(/\s+$/, '');
    } catch (e) {
      throw new Error(`cannot read 'security.internal.secret-file' (${file}): ${(e as Error).message}`, { cause: e });
    }
  }
  if (secret !== undefined && secret.length === 0)
    throw new Error(`the internal secret${file ? ` in ${file}` : ''} is empty`);
  return secret;
}

/** Reads and checks the internal security settings; throws a message naming the key at fault. */
export function internalSecurityFrom(conf: Configuration): InternalSecurity {
  const secret = readSecret(conf);
  const tls = conf.getBoolean('security.ssl.internal.enabled')
    ? {
        ca: readPem(conf, 'security.ssl.internal.ca'),
        cert: readPem(conf, 'security.ssl.internal.cert'),
        key: readPem(conf, 'security.ssl.internal.key'),
        verifyHostname: conf.getBoolean('security.ssl.internal.verify-hostname'),
      }
    : undefined;
  if (tls) {
    // Fail at startup with the keys named, not at the first connection with an OpenSSL code.
    try {
      createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    } catch (e) {
      throw new Error(
        `security.ssl.internal.cert, .key and .ca are not a usable certificate, private key and CA (PEM): ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  return { ...(secret !== undefined ? { secret } : {}), ...(tls ? { tls } : {}) };
}

/** For startup log lines: what is on, never the material itself. */
export function describeInternalSecurity(sec: InternalSecurity): { internalSecret: boolean; internalTls: boolean } {
  return { internalSecret: sec.secret !== undefined, internalTls: sec.tls !== undefined };
}
