// What guards the REST endpoint, read and checked once from the configuration: the bearer token
// and the TLS material. The JobManager calls it before it binds anything, so a bad setting stops
// the start with one clear line.
import type { Configuration } from '../../common/config.js';
import { checkRestExposure, restToken } from './rest-auth.js';
import { restTls, type RestTls } from './rest-tls.js';

export interface RestSecurity {
  token?: string;
  tls?: RestTls;
}

export function restSecurity(conf: Configuration): RestSecurity {
  const token = restToken(conf);
  checkRestExposure(conf, token);
  const tls = restTls(conf);
  return { ...(token !== undefined ? { token } : {}), ...(tls ? { tls } : {}) };
}
