// Every REST API route of the JobManager, read from the function that registers them
// (registerApi), so that a route added later is covered by the authentication and fuzz tests
// without editing them. Registration only records handlers; nothing of the context is used.
import Fastify from 'fastify';
import { Configuration } from '../../common/config.js';
import { silentLogger } from '../../common/logging.js';
import type { ClusterContext } from '../../jobmanager/rest/cluster-routes.js';
import { registerApi } from '../../jobmanager/rest/server.js';

export interface RouteTemplate {
  method: string;
  /** With fastify's parameters, e.g. /jobs/:jobid/savepoints/:triggerid. */
  url: string;
  params: string[];
}

export async function apiRoutes(): Promise<RouteTemplate[]> {
  const app = Fastify();
  const seen = new Map<string, RouteTemplate>();
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      const params = [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
      seen.set(`${method} ${r.url}`, { method, url: r.url, params });
    }
  });
  const ctx = {
    conf: new Configuration(),
    log: silentLogger(),
    logFile: '/nonexistent/jobmanager.log',
    rm: {},
    dispatcher: { jars: {} },
    metrics: {},
  };
  registerApi(app, ctx as unknown as ClusterContext);
  await app.ready();
  await app.close();
  return [...seen.values()].sort((a, b) => `${a.url} ${a.method}`.localeCompare(`${b.url} ${b.method}`));
}

/** The route's URL with each `:param` replaced by `value(param)` (not encoded: the caller decides). */
export function fillRoute(route: RouteTemplate, value: (param: string) => string): string {
  return route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => value(name)).replace(/\*$/, 'x');
}

/** Plausible, well-formed values that name nothing this JobManager knows. */
export const UNKNOWN_IDS: Record<string, string> = {
  jobid: '0123456789abcdef0123456789abcdef',
  triggerid: 'fedcba9876543210fedcba9876543210',
  jarid: '0123456789abcdef0123456789abcdef_job.weir',
  id: 'no-such-taskmanager',
  checkpointid: '1',
  vertexid: 'abcdef0123456789abcdef0123456789',
  subtaskindex: '0',
};
