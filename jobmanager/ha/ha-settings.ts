// high-availability.* settings, checked once at JobManager start.
import { isAbsolute, join, resolve } from 'node:path';
import type { Configuration } from '../../common/config.js';

export type HighAvailabilityType = 'none' | 'file' | 'etcd';

export interface HighAvailabilitySettings {
  type: HighAvailabilityType;
  /** storageDir/<cluster-id>: job records, bundles, and (etcd) nothing else; checkpoints stay in state.checkpoints.dir. */
  dir: string;
  clusterId: string;
  etcdEndpoints: string[];
  leaseTtlMs: number;
}

export function highAvailabilitySettings(conf: Configuration): HighAvailabilitySettings | undefined {
  const raw = (conf.getOptionalString('high-availability.type') ?? 'none').trim().toLowerCase();
  if (raw === 'none' || raw === '') return undefined;
  if (raw !== 'file' && raw !== 'etcd') {
    throw new Error(
      `high-availability.type '${raw}' is not supported: use 'none', 'file' (one JobManager, restarted in place) or 'etcd' (a leader and standbys)`,
    );
  }
  const storage = conf.getOptionalString('high-availability.storageDir');
  if (!storage)
    throw new Error(
      `high-availability.type: ${raw} needs high-availability.storageDir, a directory every JobManager reaches (it keeps submitted jobs and their bundles)`,
    );
  const storageDir = storage.replace(/^file:\/\//, '');
  if (!isAbsolute(storageDir))
    throw new Error(`high-availability.storageDir must be an absolute path, got '${storage}'`);
  const clusterId = conf.getString('high-availability.cluster-id');
  if (!/^[A-Za-z0-9._-]+$/.test(clusterId))
    throw new Error(`high-availability.cluster-id may hold letters, digits, '.', '_' and '-' only, got '${clusterId}'`);
  const etcdEndpoints = (conf.getOptionalString('high-availability.etcd.endpoints') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (raw === 'etcd' && etcdEndpoints.length === 0)
    throw new Error('high-availability.type: etcd needs high-availability.etcd.endpoints, e.g. http://127.0.0.1:2379');
  const leaseTtlMs = conf.getDuration('high-availability.etcd.lease-ttl');
  if (leaseTtlMs < 1000 || leaseTtlMs % 1000 !== 0)
    throw new Error(`high-availability.etcd.lease-ttl must be whole seconds, at least 1 s, got ${leaseTtlMs} ms`);
  return { type: raw, dir: join(resolve(storageDir), clusterId), clusterId, etcdEndpoints, leaseTtlMs };
}
