// etcd:// addresses of a highly available cluster, parsed without loading etcd's client.

/**
 * `etcd://host:2379,host2:2379[/cluster-id]` → endpoints ['http://host:2379', 'http://host2:2379']
 * and the cluster id when given (etcds:// for https); undefined for any other URL.
 */
export function parseEtcdUrl(url: string): { endpoints: string[]; clusterId?: string } | undefined {
  const m = /^etcd(s?):\/\/([^/]+)(?:\/([^/]*))?\/*$/i.exec(url.trim());
  if (!m) return undefined;
  const scheme = m[1] ? 'https' : 'http';
  const endpoints = m[2]!
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => `${scheme}://${h}`);
  if (endpoints.length === 0) throw new Error(`no etcd endpoint in '${url}'`);
  return m[3] ? { endpoints, clusterId: m[3] } : { endpoints };
}
