// Declarative deployments (weir apply / diff / get): PUT a desired spec (?dryRun=true: only the
// plan), GET one or all with their history, DELETE one. Registered with every API route, so the
// authentication and fuzz tests cover them; the service is looked up per request.
import type { FastifyInstance } from 'fastify';
import { RequestError } from '../dispatcher.js';
import type { ClusterContext } from './cluster-routes.js';

interface NameParams {
  name: string;
}

function dryRunOf(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true' || value === '') return true;
  throw new RequestError(`dryRun must be true or false, got ${JSON.stringify(String(value).slice(0, 40))}`);
}

export function registerDeploymentRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const service = () => {
    if (!ctx.deployments) throw new RequestError('deployments are not available on this JobManager', 503);
    return ctx.deployments;
  };

  app.get('/deployments', async () => ({ deployments: await service().list() }));

  app.get<{ Params: NameParams }>('/deployments/:name', async (req) => service().get(req.params.name));

  app.put<{ Params: NameParams; Querystring: { dryRun?: string } }>('/deployments/:name', async (req) => {
    const dryRun = dryRunOf((req.query ?? {}).dryRun);
    return service().apply(req.params.name, req.body, dryRun);
  });

  app.delete<{ Params: NameParams }>('/deployments/:name', async (req) => service().delete(req.params.name));
}
