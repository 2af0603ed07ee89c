// Bundle ("jar") endpoints, as in Flink: upload (multipart field `jarfile`), list, run, delete.
import type { FastifyInstance } from 'fastify';
import { RequestError } from '../dispatcher.js';
import type { ClusterContext } from './cluster-routes.js';

interface RunBody {
  parallelism?: number | string | null;
  programArgs?: string | null;
  programArgsList?: string[] | null;
  savepointPath?: string | null;
  allowNonRestoredState?: boolean | null;
  entryClass?: string | null;
}

/** Flink accepts run parameters in the body or the query string; the body wins. */
function parseRun(body: RunBody, query: RunBody): { parallelism?: number; programArgs: string[]; savepointPath?: string; allowNonRestoredState: boolean } {
  const pick = <K extends keyof RunBody>(k: K) => (body[k] ?? query[k] ?? undefined) as RunBody[K] | undefined;
  const p = pick('parallelism');
  let parallelism: number | undefined;
  if (p !== undefined && p !== null && p !== '') {
    parallelism = Number(p);
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new RequestError(`parallelism must be a positive integer, got '${p}'`);
  }
  const list = pick('programArgsList');
  const str = pick('programArgs');
  if (list !== undefined && list !== null && (!Array.isArray(list) || list.some((a) => typeof a !== 'string'))) {
    throw new RequestError('programArgsList must be an array of strings');
  }
  const programArgs = list ?? (typeof str === 'string' && str.trim() ? str.trim().split(/\s+/) : []);
  const savepointPath = pick('savepointPath') ?? undefined;
  return { parallelism, programArgs, ...(savepointPath ? { savepointPath } : {}), allowNonRestoredState: pick('allowNonRestoredState') === true };
}

export function registerJarRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const jars = ctx.dispatcher.jars;

  app.post('/jars/upload', async (req) => {
    if (!req.isMultipart()) throw new RequestError("expected a multipart/form-data upload with the bundle in field 'jarfile'");
    const part = await req.file();
    if (!part) throw new RequestError("no file in the upload (field 'jarfile')");
    if (part.fieldname !== 'jarfile') throw new RequestError(`unexpected field '${part.fieldname}': the bundle goes in field 'jarfile'`);
    const data = await part.toBuffer();
    const info = await jars.add(part.filename, data).catch((e: Error) => {
      throw new RequestError(e.message);
    });
    ctx.log.info({ jarId: info.id, name: info.manifest.name, bytes: data.length }, 'bundle uploaded');
    return { filename: `/jars/${info.id}`, status: 'success' };
  });

  app.get('/jars', async () => ({
    address: ctx.conf.getString('rest.address'),
    files: jars.list().map((j) => ({
      id: j.id,
      name: j.name,
      uploaded: j.uploaded,
      bundleId: j.bundleId,
      manifest: j.manifest,
      entry: [{ name: j.manifest.entry, description: `${j.manifest.name} ${j.manifest.version}` }],
    })),
  }));

  app.delete<{ Params: { jarid: string } }>('/jars/:jarid', async (req, reply) => {
    if (!(await jars.delete(req.params.jarid))) throw new RequestError(`jar '${req.params.jarid}' not found`, 404);
    return reply.status(200).send({});
  });

  app.post<{ Params: { jarid: string }; Body: RunBody | null; Querystring: RunBody }>('/jars/:jarid/run', async (req) => {
    const body = req.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw new RequestError('the request body must be a JSON object');
    const run = parseRun(body, req.query ?? {});
    const jobid = await ctx.dispatcher.runJar({ jarId: req.params.jarid, ...run });
    return { jobid };
  });
}
