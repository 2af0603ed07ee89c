// Bundle ("jar") endpoints, as in Flink: upload (multipart, one file in any field: `jarfile` from
// curl and the web UI, `file_0` from Flink's RestClient), list, run, delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isJobConfigKey, RequestError } from '../dispatcher.js';
import type { ClusterContext } from './cluster-routes.js';
import type { StatePaths } from './state-paths.js';

interface RunBody {
  parallelism?: number | string | null;
  programArgs?: string | null;
  programArgsList?: string[] | null;
  savepointPath?: string | null;
  /** A boolean in the body; the string 'true' in the query string. */
  allowNonRestoredState?: boolean | string | null;
  entryClass?: string | null;
  jobId?: string | null;
  /** Flink's per-job configuration: job keys (execution.*, state.*, ...) apply to the job; the Kubernetes operator sends its whole configuration, whose cluster keys are ignored. */
  flinkConfiguration?: unknown;
}

const JOB_ID = /^[0-9a-f]{32}$/;
/** What JarStore makes ids of: no path separators, no '..' alone, a bounded length. */
const JAR_ID = /^[A-Za-z0-9._-]{1,255}$/;

function checkJarId(id: string): string {
  if (!JAR_ID.test(id) || /^\.+$/.test(id))
    throw new RequestError(`invalid jar id '${id.slice(0, 100)}' (letters, digits, '.', '_' and '-' only)`);
  return id;
}

/** Errors of a broken multipart body (busboy's own, without a status) are the client's. */
function uploadError(e: unknown, maxBytes: number): Error {
  if (e instanceof RequestError) return e;
  const err = e as { code?: string; statusCode?: number; message?: string };
  if (err.code === 'FST_FILES_LIMIT') return new RequestError('the upload has several files: send exactly one bundle');
  if (err.code === 'FST_REQ_FILE_TOO_LARGE')
    return new RequestError(`the bundle is larger than rest.server.max-content-length (${maxBytes} bytes)`, 413);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)
    return new RequestError(err.message ?? 'bad upload', err.statusCode);
  return new RequestError(`malformed multipart upload: ${err.message ?? String(e)}`);
}

/** Flink accepts run parameters in the body or the query string; the body wins. */
function parseRun(
  body: RunBody,
  query: RunBody,
): {
  parallelism?: number;
  programArgs: string[];
  savepointPath?: string;
  allowNonRestoredState: boolean;
  jobId?: string;
} {
  const pick = <K extends keyof RunBody>(k: K) => (body[k] ?? query[k] ?? undefined) as RunBody[K] | undefined;
  const p = pick('parallelism');
  let parallelism: number | undefined;
  if (p !== undefined && p !== null && p !== '') {
    parallelism = Number(p);
    if (!Number.isInteger(parallelism) || parallelism < 1)
      throw new RequestError(`parallelism must be a positive integer, got '${p}'`);
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

/** Flink's flinkConfiguration: the settings a job may have of its own (RunRequest.config), and the keys left out. */
function jobSettings(raw: unknown): { config: Record<string, string>; ignored: string[] } {
  if (raw === undefined || raw === null) return { config: {}, ignored: [] };
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new RequestError('flinkConfiguration must be a map of configuration keys to values');
  const config: Record<string, string> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object')
      throw new RequestError(
        `flinkConfiguration['${key.slice(0, 100)}'] must be a string, got ${Array.isArray(value) ? 'a list' : 'a map'}`,
      );
    if (isJobConfigKey(key)) config[key] = String(value);
    else ignored.push(key);
  }
  return { config, ignored };
}

/**
 * The one file of a multipart upload, whatever its field name; other (non-file) fields, such as
 * the `request` field Flink's RestClient adds, are ignored.
 */
async function singleUploadedFile(req: FastifyRequest, maxBytes: number): Promise<{ filename: string; data: Buffer }> {
  if (!req.isMultipart())
    throw new RequestError('expected a multipart/form-data upload with the bundle as its one file');
  let found: { filename: string; data: Buffer } | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      if (found)
        throw new RequestError(
          `the upload has several files ('${found.filename}', '${part.filename}'): send exactly one bundle`,
        );
      found = { filename: part.filename, data: await part.toBuffer() };
    }
  } catch (e) {
    // Limits (one file, its size) and broken bodies are the client's: 4xx answers.
    throw uploadError(e, maxBytes);
  }
  if (!found) throw new RequestError('the upload has no file: send the bundle as a file field (e.g. jarfile)');
  return found;
}

export function registerJarRoutes(app: FastifyInstance, ctx: ClusterContext, paths: StatePaths): void {
  const jars = ctx.dispatcher.jars;
  const maxBytes = ctx.conf.getMemorySize('rest.server.max-content-length');
  const maxJars = ctx.conf.getInt('web.upload.max-jars');

  app.post('/jars/upload', async (req) => {
    // Refused before the body is read; the bundle a job runs from stays even when its jar is deleted.
    if (jars.list().length >= maxJars) {
      throw new RequestError(
        `the JobManager already keeps ${maxJars} bundles (web.upload.max-jars): delete some (DELETE /jars/:jarid, or in the web UI) before uploading more`,
        409,
      );
    }
    const { filename, data } = await singleUploadedFile(req, maxBytes);
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
    if (!(await jars.delete(checkJarId(req.params.jarid))))
      throw new RequestError(`jar '${req.params.jarid}' not found`, 404);
    return reply.status(200).send({});
  });

  app.post<{ Params: { jarid: string }; Body: RunBody | null; Querystring: RunBody }>(
    '/jars/:jarid/run',
    async (req) => {
      const body = req.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body))
        throw new RequestError('the request body must be a JSON object');
      checkJarId(req.params.jarid);
      const run = parseRun(body, req.query ?? {});
      if (run.savepointPath !== undefined) await paths.check(run.savepointPath, 'savepoint path');
      const { config, ignored } = jobSettings(body.flinkConfiguration);
      // Deployment tools send their whole configuration: the keys of the cluster's processes are not the job's to set.
      if (ignored.length)
        ctx.log.info(
          { jarId: req.params.jarid, keys: ignored.length },
          'cluster settings in the flinkConfiguration of the run request ignored',
        );
      const jobid = await ctx.dispatcher.runJar({
        jarId: req.params.jarid,
        ...run,
        ...(Object.keys(config).length ? { config } : {}),
      });
      return { jobid };
    },
  );
}
