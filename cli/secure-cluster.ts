// weir cluster start --secure: a throwaway CA and one certificate for the cluster's processes,
// a random internal secret and a random REST token, written under <dir>/security (files 0600,
// the CA's private key never written: nobody can issue another certificate the cluster trusts),
// and the configuration keys that make every process use them.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../common/security/certificates.js';

export interface SecureClusterFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  secretFile: string;
  restTokenFile: string;
  restToken: string;
  /** key=value pairs for every process (-D). */
  config: Record<string, string>;
}

function writePrivate(path: string, content: string): void {
  rmSync(path, { force: true }); // a file left by an earlier start keeps its mode otherwise
  writeFileSync(path, content, { mode: 0o600 });
}

/** Addresses the processes are dialled at on this machine, besides `extraHosts` from the configuration. */
export function localHosts(extraHosts: (string | undefined)[] = []): string[] {
  const wildcard = new Set(['0.0.0.0', '::', '']);
  return [
    ...new Set([
      '127.0.0.1',
      '::1',
      'localhost',
      hostname(),
      ...extraHosts.filter((h): h is string => h !== undefined && !wildcard.has(h)),
    ]),
  ];
}

export function prepareSecureCluster(clusterDir: string, hosts: string[]): SecureClusterFiles {
  const dir = join(clusterDir, 'security');
  mkdirSync(clusterDir, { recursive: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  const ca = createCertificateAuthority({ commonName: 'Weir local cluster CA' });
  const leaf = issueCertificate(ca, { hosts, commonName: 'weir-internal' });
  const files = {
    caFile: join(dir, 'ca.pem'),
    certFile: join(dir, 'internal.pem'),
    keyFile: join(dir, 'internal-key.pem'),
    secretFile: join(dir, 'internal-secret'),
    restTokenFile: join(dir, 'rest-token'),
  };
  const restToken = randomBytes(32).toString('hex');
  writePrivate(files.caFile, ca.certPem);
  writePrivate(files.certFile, leaf.certPem);
  writePrivate(files.keyFile, leaf.keyPem);
  writePrivate(files.secretFile, randomBytes(32).toString('base64url'));
  writePrivate(files.restTokenFile, restToken);
  return {
    dir,
    ...files,
    restToken,
    config: {
      'security.internal.secret-file': files.secretFile,
      'security.ssl.internal.enabled': 'true',
      'security.ssl.internal.ca': files.caFile,
      'security.ssl.internal.cert': files.certFile,
      'security.ssl.internal.key': files.keyFile,
      'security.rest.token-file': files.restTokenFile,
    },
  };
}

/** The lines `weir cluster start --secure` prints once the cluster runs. */
export function secureClusterHints(files: SecureClusterFiles, restUrl: string): string {
  return (
    `  Security:            mutual TLS and an internal secret on every gRPC call; REST needs a token (files in ${files.dir})\n` +
    `  REST token:          ${files.restToken}   (also in ${files.restTokenFile})\n` +
    `    curl -H "Authorization: Bearer $(cat ${files.restTokenFile})" ${restUrl}/overview\n` +
    `    WEIR_TOKEN=$(cat ${files.restTokenFile}) weir list -m ${restUrl}\n`
  );
}
