// A throwaway certificate authority and the certificates it signs, for mutual TLS between the
// processes of a cluster (weir cluster start --secure, and tests). Keys come from Node's own
// crypto (native, fast); node-forge builds and signs the X.509 certificates, so nothing beyond
// Node.js and npm is needed. Addresses dialled by IP are in subjectAltName as IP entries.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;

function newKeyPair(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), keyPem };
}

function baseCertificate(
  publicKey: forge.pki.PublicKey,
  commonName: string,
  validityDays: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial of 16 random bytes (the high bit cleared keeps it positive in DER).
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000); // tolerate clocks a little behind
  cert.validity.notAfter = new Date(now + validityDays * DAY_MS);
  cert.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Weir' },
  ]);
  return cert;
}

export function createCertificateAuthority(opts: { commonName?: string; validityDays?: number } = {}): PemPair {
  const { forgeKey, publicKey, keyPem } = newKeyPair();
  const cert = baseCertificate(publicKey, opts.commonName ?? 'Weir throwaway CA', opts.validityDays ?? 365);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/**
 * A certificate signed by `ca` for a process reached at `hosts` (IP addresses and DNS names),
 * usable both as server and as client (mutual TLS).
 */
export function issueCertificate(
  ca: PemPair,
  opts: { hosts: string[]; commonName?: string; validityDays?: number },
): PemPair {
  if (opts.hosts.length === 0) throw new Error('a certificate needs at least one host name or address');
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const { publicKey, keyPem } = newKeyPair();
  const cert = baseCertificate(publicKey, opts.commonName ?? opts.hosts[0]!, opts.validityDays ?? 365);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...new Set(opts.hosts)].map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
