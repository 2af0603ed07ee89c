// REST over TLS (security.ssl.rest.*): the certificate and key fastify serves HTTPS with.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Configuration, OptionKey } from '../../common/config.js';

export interface RestTls {
  cert: Buffer;
  key: Buffer;
}

function readPem(conf: Configuration, key: OptionKey): Buffer {
  const path = conf.getOptionalString(key);
  if (!path) throw new Error(`security.ssl.rest.enabled is true but '${key}' (a PEM file) is not set`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${key} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** The PEM material when REST TLS is enabled; undefined for plain HTTP. */
export function restTls(conf: Configuration): RestTls | undefined {
  if (!conf.getBoolean('security.ssl.rest.enabled')) return undefined;
  const tls = { cert: readPem(conf, 'security.ssl.rest.cert'), key: readPem(conf, 'security.ssl.rest.key') };
  // A bad PEM or a key that does not match the certificate fails here, before anything starts.
  try {
    createSecureContext(tls);
  } catch (e) {
    throw new Error(
      `security.ssl.rest.cert and security.ssl.rest.key are not a usable certificate and key: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return tls;
}

/** The scheme of the advertised REST URL. */
export function restScheme(conf: Configuration): 'http' | 'https' {
  return conf.getBoolean('security.ssl.rest.enabled') ? 'https' : 'http';
}
