// etcd for the high-availability tests: the launcher is the benchmarks' (bench/lib/etcd-server.ts);
// here only whether the tests run without it.
import { etcdBinary, startEtcd as startEtcdServer, type EtcdServer } from '../../bench/lib/etcd-server.js';

export type { EtcdServer };

/** Why etcd tests are skipped, or undefined when they run (WEIR_REQUIRE_SERVICES makes a missing binary a failure). */
export function etcdSkipReason(): string | undefined {
  if (etcdBinary() || process.env.WEIR_REQUIRE_SERVICES) return undefined;
  return 'etcd is not installed (Debian package etcd-server; set ETCD_BIN, or WEIR_REQUIRE_SERVICES to fail instead of skipping)';
}

export function startEtcd(timeoutMs?: number): Promise<EtcdServer> {
  return startEtcdServer({ timeoutMs, keepDir: !!process.env.WEIR_KEEP_TEST_DIRS });
}
