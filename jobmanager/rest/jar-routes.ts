// Bundle ("jar") endpoints, as in Flink: upload (multipart, one file in any field: `jarfile` from
// curl and the web UI, `file_0` from Flink's RestClient), list, run, delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestError } from '../dispatcher.js';
import type { ClusterContext } from './cluster-routes.js';

interface RunBody {
  parallelism?: number | string | null;
  programArgs?: string | null;
  programArgsList?: string[] | null;
  savepointPath?: string | null;
  /** A boolean in the body; the string 'true' in the query string. */
  allowNonRestoredState?: boolean | string | null;
  entryClass?: string | null;
  jobId?: string | null;
  /** Flink's per-job configuration (the Kubernetes operator sends its whole configuration here). */
  flinkConfiguration?: Record<string, string> | null;
}

const JOB_ID = /^[0-9a-f]{32}$/;

/** Flink accepts run parameters in the body or the query string; the body wins. */
function parseRun(body: RunBody, query: RunBody): { parallelism?: number; programArgs: string[]; savepointPath?: string; allowNonRestoredState: boolean; jobId?: string } {
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
  const nonRestored = pick('allowNonRestoredState');
  const jobId = pick('jobId') ?? undefined;
  if (jobId !== undefined && (typeof jobId !== 'string' || !JOB_ID.test(jobId))) {
    throw new RequestError(`jobId must be 32 lowercase hex characters, got '${String(jobId)}'`);
  }
  return {
    parallelism,
    programArgs,
    ...(savepointPath ? { savepointPath } : {}),
    allowNonRestoredState: nonRestored === true || nonRestored === 'true',
    ...(jobId ? { jobId } : {}),
  };
}

/**
 * The one file of a multipart upload, whatever its field name; other (non-file) fields, such as
 * the `request` field Flink's RestClient adds, are ignored.
 */
async function singleUploadedFile(req: FastifyRequest): Promise<{ filename: string; data: Buffer }> {
  if (!req.isMultipart()) throw new RequestError('expected a multipart/form-data upload with the bundle as its one file');
  let found: { filename: string; data: Buffer } | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      if (found) throw new RequestError(`the upload has several files ('${found.filename}', '${part.filename}'): send exactly one bundle`);
      found = { filename: part.filename, data: await part.toBuffer() };
    }
  } catch (e) {
    // The server's multipart limit (one file) stops a second file before it is read.
    if ((e as { code?: string }).code === 'FST_FILES_LIMIT') throw new RequestError('the upload has several files: send exactly one bundle');
    throw e;
  }
  if (!found) throw new RequestError('the upload has no file: send the bundle as a file field (e.g. jarfile)');
  return found;
}

export function registerJarRoutes(app: FastifyInstance, ctx: ClusterContext): void {
  const jars = ctx.dispatcher.jars;

  app.post('/jars/upload', async (req) => {
    const { filename, data } = await singleUploadedFile(req);
    const info = await jars.add(filename, data).catch((e: Error) => {
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
    const ignored = Object.keys(body.flinkConfiguration ?? {});
    // Deployment tools send their whole configuration; Weir takes job settings from the bundle and the cluster.
    if (ignored.length) ctx.log.info({ jarId: req.params.jarid, keys: ignored.length }, 'flinkConfiguration of the run request ignored');
    const jobid = await ctx.dispatcher.runJar({ jarId: req.params.jarid, ...run });
    return { jobid };
  });
}
