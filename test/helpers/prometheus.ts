// Starts a real Prometheus server for a test: a temporary config (no scrape jobs), its own TSDB
// directory, a free port on 127.0.0.1 and the remote-write receiver; stop() always kills it and
// removes the directory. Plus small clients for its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAndWait } from './cluster.js';
import { freePort } from './ports.js';

/** The prometheus binary: $PROMETHEUS_BIN, else the Debian package's, else undefined. */
export function prometheusBinary(): string | undefined {
  const candidates = [process.env.PROMETHEUS_BIN, '/usr/bin/prometheus', '/usr/local/bin/prometheus'];
  return candidates.find((c): c is string => typeof c === 'string' && c.length > 0 && existsSync(c));
}

/** Why Prometheus tests are skipped, or undefined when they run (WEIR_REQUIRE_SERVICES makes a missing binary a failure). */
export function prometheusSkipReason(): string | undefined {
  if (prometheusBinary() || process.env.WEIR_REQUIRE_SERVICES) return undefined;
  return 'prometheus is not installed (set PROMETHEUS_BIN, or WEIR_REQUIRE_SERVICES to fail instead of skipping)';
}

export interface PrometheusServer {
  readonly url: string;
  /** The remote-write endpoint (/api/v1/write). */
  readonly writeUrl: string;
  readonly dir: string;
  /** GET /api/v1/<path> with query parameters; returns `data` or throws with Prometheus' error. */
  api<T = any>(path: string, params: Record<string, string | string[]>): Promise<T>;
  /** Every raw sample of the series matching `selector` in the window (time - range, time]: [labels, [timestampMs, value][]]. */
  rawSamples(
    selector: string,
    rangeSeconds: number,
    time?: number,
  ): Promise<{ labels: Record<string, string>; samples: [number, number][] }[]>;
  /** The log of the process (its stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** Parses a Prometheus sample value ("NaN", "+Inf", "-Inf" or a decimal). */
export function parseSampleValue(v: string): number {
  if (v === 'NaN') return Number.NaN;
  if (v === '+Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(v);
}

export async function startPrometheus(timeoutMs = 30_000): Promise<PrometheusServer> {
  const bin = prometheusBinary();
  if (!bin)
    throw new Error('prometheus is not installed: install it (Debian package prometheus) or set PROMETHEUS_BIN');
  const dir = mkdtempSync(join(tmpdir(), 'weir-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, 'global:\n  scrape_interval: 1h\nscrape_configs: []\n');
  const logFile = join(dir, 'prometheus.log');
  let proc: ChildProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (proc) await killAndWait(proc, 'SIGTERM', 5000);
    if (!process.env.WEIR_KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  try {
    // A port can be taken between the probe and the bind: try a few.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const fd = openSync(logFile, 'a');
      proc = spawn(
        bin,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-remote-write-receiver',
          '--log.level=warn',
        ],
        { stdio: ['ignore', fd, fd] },
      );
      const url = `http://127.0.0.1:${port}`;
      const ready = await waitReady(proc, url, timeoutMs);
      if (ready === true) return server(url, dir, log, stop);
      await killAndWait(proc, 'SIGTERM', 2000);
      if (attempt >= 2 || !/address already in use/.test(log()))
        throw new Error(`prometheus did not start (${ready}):\n${log().slice(-3000)}`);
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

/** true once /-/ready answers 200; otherwise why not. */
async function waitReady(proc: ChildProcess, url: string, timeoutMs: number): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return `exited with ${proc.signalCode ?? proc.exitCode}`;
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.text();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return `not ready within ${timeoutMs} ms`;
}

function server(url: string, dir: string, log: () => string, stop: () => Promise<void>): PrometheusServer {
  const api = async (path: string, params: Record<string, string | string[]>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, x);
    const res = await fetch(`${url}/api/v1/${path}?${q}`);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string; errorType?: string };
    if (res.status !== 200 || body.status !== 'success')
      throw new Error(`Prometheus /api/v1/${path} failed (${res.status}): ${body.errorType}: ${body.error}`);
    return body.data as any;
  };
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    dir,
    api,
    async rawSamples(selector, rangeSeconds, time = Date.now() / 1000) {
      const data = (await api('query', { query: `${selector}[${rangeSeconds}s]`, time: String(time) })) as {
        resultType: string;
        result: { metric: Record<string, string>; values: [number, string][] }[];
      };
      if (data.resultType !== 'matrix') throw new Error(`expected a matrix, got ${data.resultType}`);
      return data.result.map((r) => ({
        labels: r.metric,
        samples: r.values.map(([t, v]) => [Math.round(t * 1000), parseSampleValue(v)] as [number, number]),
      }));
    },
    log,
    stop,
  };
}
