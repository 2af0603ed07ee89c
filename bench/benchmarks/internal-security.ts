// What internal security costs on the data plane: the keyed running count at parallelism 2 on
// two TaskManagers of one slot each (the keyBy shuffle half over gRPC between them), on three
// clusters running side by side: (a) no internal security, (b) security.internal.secret,
// (c) the secret and mutual TLS (security.ssl.internal.*). The variants take turns, each round
// in another order, so drift of this shared machine spreads over all three; b/a and c/a are the
// figures. The secret costs one HMAC per call (a data stream is one call), TLS encrypts every byte.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../../common/security/certificates.js';
import type { Benchmark, BenchOptions, BenchmarkResult, Figure } from '../lib/benchmark.js';
import { BenchCluster } from '../lib/cluster.js';
import { DEFAULT_KEYS } from '../lib/keyed-records.js';
import { formatCount, median, medianFigure } from '../lib/stats.js';
import { runCounted } from '../lib/weir-run.js';

const JOB = 'bench/jobs/keyed-count.ts';
const RECORDS = 10_000_000;
const WARMUP_RECORDS = 1_000_000;

interface Variant {
  label: string;
  config: Record<string, string>;
  cluster?: BenchCluster;
  jarId?: string;
  rates: number[];
}

/** A throwaway CA and one certificate for 127.0.0.1, as `weir cluster start --secure` makes them. */
function tlsConfig(dir: string): Record<string, string> {
  const ca = createCertificateAuthority();
  const leaf = issueCertificate(ca, { hosts: ['127.0.0.1', 'localhost'] });
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.cert, leaf.certPem);
  writeFileSync(files.key, leaf.keyPem, { mode: 0o600 });
  return {
    'security.ssl.internal.enabled': 'true',
    'security.ssl.internal.ca': files.ca,
    'security.ssl.internal.cert': files.cert,
    'security.ssl.internal.key': files.key,
  };
}

export const internalSecurity: Benchmark = {
  name: 'internal-security',
  description:
    'keyed count at p2 on 2 TaskManagers (gRPC shuffle): no internal security vs security.internal.secret vs secret + mutual TLS, side by side',
  async run(options: BenchOptions): Promise<BenchmarkResult> {
    const records = Math.max(10_000, Math.round(RECORDS * options.scale));
    const keys = DEFAULT_KEYS;
    const certDir = mkdtempSync(join(tmpdir(), 'weir-bench-tls-'));
    const secret = { 'security.internal.secret': randomBytes(24).toString('hex') };
    const variants: Variant[] = [
      { label: '(a) none', config: {}, rates: [] },
      { label: '(b) secret', config: secret, rates: [] },
      { label: '(c) secret + mTLS', config: { ...secret, ...tlsConfig(certDir) }, rates: [] },
    ];
    try {
      for (const v of variants) {
        v.cluster = await BenchCluster.start({ taskManagers: 2, slots: 1, config: v.config });
        v.jarId = await v.cluster.upload(await v.cluster.bundle(JOB));
        const warm = await runCounted(
          v.cluster,
          v.jarId,
          [String(Math.min(records, WARMUP_RECORDS)), String(keys)],
          2,
          Math.min(records, WARMUP_RECORDS),
          undefined,
          v.label,
        );
        options.log(`${v.label}: warm-up ${formatCount(warm.eventsPerSecond)} records/s`);
      }
      for (let r = 0; r < options.repetitions; r++) {
        for (let i = 0; i < variants.length; i++) {
          const v = variants[(i + r) % variants.length]!;
          const run = await runCounted(
            v.cluster!,
            v.jarId!,
            [String(records), String(keys)],
            2,
            records,
            records,
            v.label,
          );
          v.rates.push(run.eventsPerSecond);
          options.log(
            `${v.label}: run ${r + 1}: ${formatCount(run.eventsPerSecond)} records/s (${(run.durationMs / 1000).toFixed(2)} s)`,
          );
        }
      }
    } finally {
      for (const v of variants) await v.cluster?.stop();
      rmSync(certDir, { recursive: true, force: true });
    }
    const [a, b, c] = variants.map((v) => median(v.rates)) as [number, number, number];
    const figures: Figure[] = [
      ...variants.map((v) => medianFigure(`${v.label}, p2 on 2 TaskManagers`, v.rates, 'records/s')),
      { name: 'b/a (secret)', value: b / a, unit: 'ratio', note: 'aim ≥ 0.97' },
      { name: 'c/a (secret + mTLS)', value: c / a, unit: 'ratio' },
    ];
    return {
      benchmark: this.name,
      description: this.description,
      figures,
      details: {
        records,
        keys,
        recordsPerSecond: { a, b, c },
        ratios: { bOverA: b / a, cOverA: c / a },
        runs: Object.fromEntries(variants.map((v) => [v.label, v.rates])),
      },
    };
  },
};
