// A real single-member etcd (Debian's etcd-server) for a benchmark or a test: free client and peer
// ports on 127.0.0.1 and a temporary data directory; stop() kills it and removes the directory.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports.js';
import { stopProcess } from './stop-process.js';

/** The etcd binary: $ETCD_BIN, else the Debian package's, else undefined. */
export function etcdBinary(): string | undefined {
  const candidates = [process.env.ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd'];
  return candidates.find((c): c is string => typeof c === 'string' && c.length > 0 && existsSync(c));
}

export interface EtcdServer {
  /** Client URL, http://127.0.0.1:<port>. */
  readonly endpoint: string;
  log(): string;
  stop(): Promise<void>;
}

export interface EtcdServerOptions {
  timeoutMs?: number;
  /** Leave the data directory and log behind after stop(), to look at. */
  keepDir?: boolean;
}

async function healthy(endpoint: string): Promise<boolean> {
  return fetch(`${endpoint}/health`)
    .then(async (r) => r.ok && (JSON.parse(await r.text()) as { health?: string }).health === 'true')
    .catch(() => false);
}

/** Starts etcd and resolves once it reports itself healthy. */
export async function startEtcd(opts: EtcdServerOptions = {}): Promise<EtcdServer> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const bin = etcdBinary();
  if (!bin) throw new Error('etcd is not installed: install it (Debian package etcd-server) or set ETCD_BIN');
  const dir = mkdtempSync(join(tmpdir(), 'weir-etcd-'));
  const [clientPort, peerPort] = await freePorts(2);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFile = join(dir, 'etcd.log');
  const fd = openSync(logFile, 'a');
  const proc = spawn(
    bin,
    [
      '--name',
      'weir',
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `weir=${peer}`,
      '--initial-cluster-state',
      'new',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopProcess(proc, 'SIGTERM', 5000);
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`etcd exited (${proc.exitCode}) before it was ready:\n${log().slice(-2000)}`);
    }
    if (await healthy(endpoint)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy within ${timeoutMs} ms:\n${log().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, log, stop };
}
