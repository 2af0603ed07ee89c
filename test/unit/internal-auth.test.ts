// The internal secret and mutual TLS on real gRPC servers and clients in this process: unary and
// streaming calls, wrong and missing secrets, replayed and stale proofs, refusals logged once per
// caller, and TLS with the cluster's CA, another CA, or none.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import {
  jobManagerClient,
  jobManagerServiceDefinition,
  type RegisterTaskManagerResponse,
} from '../../common/control.js';
import { createForwardingLogger } from '../../common/logging.js';
import { bindServer, CHANNEL_OPTIONS, shutdownServer, unary } from '../../common/rpc.js';
import { AUTH_HEADER, createCallProof, MAX_CLOCK_SKEW_MS } from '../../common/security/call-proof.js';
import { createCertificateAuthority, issueCertificate, type PemPair } from '../../common/security/certificates.js';
import { createRpcServer, permanentRefusal, serverCredentials } from '../../common/security/grpc-security.js';
import {
  internalSecurityFrom,
  type InternalSecurity,
  type InternalTls,
} from '../../common/security/internal-security.js';

const REGISTER = '/weir.control.JobManagerGateway/RegisterTaskManager';
const registration = {
  taskManagerId: 'tm-test',
  rpcAddress: '127.0.0.1:1',
  slots: 1,
  protocolVersion: 1,
  engineVersion: 'x',
  pid: 1,
  hostname: 'h',
  workingDir: '/tmp',
};

let servers: grpc.Server[] = [];
let clients: grpc.Client[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await shutdownServer(s, 100);
  servers = [];
  clients = [];
});

/** A JobManagerGateway whose RegisterTaskManager accepts and whose FetchBundle streams three chunks. */
async function startGateway(sec: InternalSecurity): Promise<{ address: string; logLines: string[] }> {
  const logLines: string[] = [];
  const server = createRpcServer(
    sec,
    createForwardingLogger('test', (l) => logLines.push(l)),
  );
  server.addService(jobManagerServiceDefinition(), {
    RegisterTaskManager: (_call: unknown, cb: grpc.sendUnaryData<RegisterTaskManagerResponse>) =>
      cb(null, { accepted: true, reason: '', jobManagerId: 'jm', heartbeatIntervalMs: 1, heartbeatTimeoutMs: 1 }),
    FetchBundle: (call: grpc.ServerWritableStream<unknown, { data: Buffer }>) => {
      for (let i = 0; i < 3; i++) call.write({ data: Buffer.from([i]) });
      call.end();
    },
  });
  const port = await bindServer(server, '127.0.0.1', 0, serverCredentials(sec));
  servers.push(server);
  return { address: `127.0.0.1:${port}`, logLines };
}

function client(address: string, sec: InternalSecurity): grpc.Client {
  const c = jobManagerClient(address, sec);
  clients.push(c);
  return c;
}

function register(c: grpc.Client): Promise<RegisterTaskManagerResponse> {
  return unary<object, RegisterTaskManagerResponse>(c, 'RegisterTaskManager', registration, 5000);
}

function fetchBundle(c: grpc.Client): Promise<number> {
  return new Promise((resolve, reject) => {
    let chunks = 0;
    const call = (c as unknown as { FetchBundle(r: object): grpc.ClientReadableStream<unknown> }).FetchBundle({
      bundleId: 'x',
    });
    call.on('data', () => chunks++);
    call.on('end', () => resolve(chunks));
    call.on('error', reject);
  });
}

/** RegisterTaskManager with a hand-made x-weir-auth header and no interceptor. */
function registerWithHeader(address: string, header: string): Promise<unknown> {
  const Ctor = grpc.makeGenericClientConstructor(jobManagerServiceDefinition(), 'JobManagerGateway');
  const c = new Ctor(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  clients.push(c);
  const md = new grpc.Metadata();
  md.set(AUTH_HEADER, header);
  return new Promise((resolve, reject) =>
    (
      c as unknown as {
        RegisterTaskManager(r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: unknown) => void): void;
      }
    ).RegisterTaskManager(registration, md, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

describe('internal secret', () => {
  const sec = { secret: 'correct horse battery staple' };

  it('passes unary and server-streaming calls that prove the secret', async () => {
    const { address } = await startGateway(sec);
    const c = client(address, sec);
    expect((await register(c)).accepted).toBe(true);
    expect(await fetchBundle(c)).toBe(3);
  });

  it('refuses a wrong secret and a missing one with UNAUTHENTICATED, on unary and streaming calls, and logs each caller and reason once a minute', async () => {
    const { address, logLines } = await startGateway(sec);
    for (const other of [{ secret: 'wrong' }, {}]) {
      const c = client(address, other);
      const err = (await register(c).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(permanentRefusal(err)).toMatch(other.secret ? /wrong secret/ : /no proof of security\.internal\.secret/);
      await expect(fetchBundle(c)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    }
    const refusals = logLines
      .map((l) => JSON.parse(l) as { msg: string; peer: string; method: string })
      .filter((l) => l.msg.startsWith('refused a gRPC call'));
    // Four refused calls from 127.0.0.1, two for each reason: one line per reason.
    expect(refusals.map((r) => r.msg)).toEqual([
      expect.stringMatching(/wrong secret/),
      expect.stringMatching(/no proof/),
    ]);
    expect(refusals[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(refusals[0]!.method).toBe(REGISTER);
  });

  it('accepts a proof once: a replayed header is refused (and not as a permanent refusal); so is a stale one', async () => {
    const { address } = await startGateway(sec);
    const header = createCallProof(sec.secret, REGISTER);
    await expect(registerWithHeader(address, header)).resolves.toMatchObject({ accepted: true });
    const replay = (await registerWithHeader(address, header).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(replay.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(replay.details).toMatch(/replayed/);
    expect(permanentRefusal(replay)).toBeUndefined();
    const stale = createCallProof(sec.secret, REGISTER, Date.now() - MAX_CLOCK_SKEW_MS - 10_000);
    await expect(registerWithHeader(address, stale)).rejects.toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      details: expect.stringMatching(/synchronize the clocks/),
    });
    // A proof for another method is worth nothing here.
    await expect(
      registerWithHeader(address, createCallProof(sec.secret, '/weir.control.JobManagerGateway/SendHeartbeat')),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });
});

describe('mutual TLS', () => {
  let ca: PemPair;
  let tls: InternalTls;
  let otherTls: InternalTls;
  beforeAll(() => {
    ca = createCertificateAuthority();
    const leaf = issueCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] });
    tls = { ca: ca.certPem, cert: leaf.certPem, key: leaf.keyPem, verifyHostname: true };
    const other = createCertificateAuthority();
    const otherLeaf = issueCertificate(other, { hosts: ['127.0.0.1'] });
    otherTls = { ca: other.certPem, cert: otherLeaf.certPem, key: otherLeaf.keyPem, verifyHostname: true };
  });

  it('connects processes whose certificates the shared CA signed', async () => {
    const { address } = await startGateway({ tls });
    const c = client(address, { tls });
    expect((await register(c)).accepted).toBe(true);
    expect(await fetchBundle(c)).toBe(3);
  });

  it('fails for a client without TLS, one trusting another CA, and one whose certificate another CA signed', async () => {
    const { address } = await startGateway({ tls });
    await expect(register(client(address, {}))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const distrust = (await register(client(address, { tls: otherTls })).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(distrust.code).toBe(grpc.status.UNAVAILABLE);
    expect(permanentRefusal(distrust)).toMatch(
      /TLS certificate is not trusted here: self-signed certificate in certificate chain/,
    );
    await expect(
      register(client(address, { tls: { ...tls, cert: otherTls.cert, key: otherTls.key } })),
    ).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('checks the address dialled against subjectAltName unless verify-hostname is off', async () => {
    const elsewhere = issueCertificate(ca, { hosts: ['weir.example'] });
    const serverTls = { ...tls, cert: elsewhere.certPem, key: elsewhere.keyPem };
    const { address } = await startGateway({ tls: serverTls });
    const err = (await register(client(address, { tls })).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(permanentRefusal(err)).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
    expect((await register(client(address, { tls: { ...tls, verifyHostname: false } }))).accepted).toBe(true);
  });
});

describe('internal security configuration', () => {
  it('reads the secret inline or from a file, and the TLS material from PEM files, naming the key at fault', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-security-conf-'));
    try {
      const secretFile = join(dir, 'secret');
      writeFileSync(secretFile, 's3cret\n');
      expect(internalSecurityFrom(new Configuration())).toEqual({});
      expect(internalSecurityFrom(new Configuration({ 'security.internal.secret': 'abc' }))).toEqual({ secret: 'abc' });
      expect(internalSecurityFrom(new Configuration({ 'security.internal.secret-file': secretFile }))).toEqual({
        secret: 's3cret',
      });
      expect(() =>
        internalSecurityFrom(
          new Configuration({ 'security.internal.secret': 'a', 'security.internal.secret-file': secretFile }),
        ),
      ).toThrow(/not both/);
      expect(() =>
        internalSecurityFrom(new Configuration({ 'security.internal.secret-file': join(dir, 'missing') })),
      ).toThrow(/cannot read 'security\.internal\.secret-file'/);

      const ca = createCertificateAuthority();
      const leaf = issueCertificate(ca, { hosts: ['127.0.0.1'] });
      const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
      writeFileSync(files.ca, ca.certPem);
      writeFileSync(files.cert, leaf.certPem);
      writeFileSync(files.key, leaf.keyPem);
      const tlsKeys = {
        'security.ssl.internal.enabled': 'true',
        'security.ssl.internal.ca': files.ca,
        'security.ssl.internal.cert': files.cert,
        'security.ssl.internal.key': files.key,
      };
      expect(internalSecurityFrom(new Configuration(tlsKeys)).tls).toEqual({
        ca: ca.certPem,
        cert: leaf.certPem,
        key: leaf.keyPem,
        verifyHostname: true,
      });
      expect(() => internalSecurityFrom(new Configuration({ 'security.ssl.internal.enabled': 'true' }))).toThrow(
        /'security\.ssl\.internal\.ca' \(a PEM file\) is not set/,
      );
      expect(() =>
        internalSecurityFrom(new Configuration({ ...tlsKeys, 'security.ssl.internal.key': files.ca })),
      ).toThrow(/not a usable certificate, private key and CA/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
