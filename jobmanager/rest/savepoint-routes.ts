// Savepoint endpoints, shaped like Flink's asynchronous operations: trigger (optionally
// cancelling the job), stop-with-savepoint, their status by trigger id, and disposal.
import type { FastifyInstance } from 'fastify';
import { RequestError, type Dispatcher } from '../dispatcher.js';
import type { StatePaths } from './state-paths.js';

interface SavepointBody {
  'target-directory'?: unknown;
  'cancel-job'?: unknown;
  /** Flink's newer clients send the format; only the canonical one exists here. */
  formatType?: unknown;
}

interface StopBody {
  targetDirectory?: unknown;
  drain?: unknown;
}

function objectBody<T>(body: unknown): T {
  if (body === undefined || body === null) return {} as T;
  if (typeof body !== 'object' || Array.isArray(body)) throw new RequestError('the request body must be a JSON object');
  return body as T;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean')
    throw new RequestError(`'${field}' must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new RequestError(`'${field}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function registerSavepointRoutes(
  app: FastifyInstance,
  d: Dispatcher,
  paths: StatePaths,
  startStop: (jobId: string, target: string | undefined, drain: boolean) => string,
): void {
  /** The request's directory (else state.savepoints.dir), refused outside the allowed directories. */
  const target = (requested: string | undefined) =>
    paths.check(d.savepointTarget(requested), 'savepoint target directory');

  app.post<{ Params: { jobid: string } }>('/jobs/:jobid/savepoints', async (req, reply) => {
    const body = objectBody<SavepointBody>(req.body);
    const requested = optionalString(body['target-directory'], 'target-directory');
    const cancelJob = optionalBoolean(body['cancel-job'], 'cancel-job');
    const jm = d.liveJob(req.params.jobid, 'take a savepoint');
    const dir = await target(requested);
    const requestId = d.operations.start(jm.jobId, jm.triggerSavepoint(dir, cancelJob), (location) => ({ location }));
    return reply.status(202).send({ 'request-id': requestId });
  });

  app.post<{ Params: { jobid: string } }>('/jobs/:jobid/stop', async (req, reply) => {
    const body = objectBody<StopBody>(req.body);
    const requested = optionalString(body.targetDirectory, 'targetDirectory');
    const drain = optionalBoolean(body.drain, 'drain');
    d.liveJob(req.params.jobid, 'stop with a savepoint');
    const dir = await target(requested);
    return reply.status(202).send({ 'request-id': startStop(req.params.jobid, dir, drain) });
  });

  app.get<{ Params: { jobid: string; triggerid: string } }>('/jobs/:jobid/savepoints/:triggerid', async (req) => {
    d.lookup(req.params.jobid);
    const status = d.operations.get(req.params.jobid, req.params.triggerid);
    if (!status)
      throw new RequestError(
        `There is no savepoint operation with trigger id ${req.params.triggerid} for job ${req.params.jobid} (unknown, or older than 5 minutes).`,
        404,
      );
    return status;
  });

  app.post('/savepoint-disposal', async (req, reply) => {
    const body = objectBody<{ 'savepoint-path'?: unknown }>(req.body);
    const path = optionalString(body['savepoint-path'], 'savepoint-path');
    if (!path) throw new RequestError("'savepoint-path' is required");
    // Only a savepoint (its _metadata says so) under the allowed directories is ever deleted.
    await paths.check(path, 'savepoint path');
    const requestId = d.operations.start(DISPOSAL, d.disposeSavepoint(path), () => ({}));
    return reply.status(202).send({ 'request-id': requestId });
  });

  app.get<{ Params: { triggerid: string } }>('/savepoint-disposal/:triggerid', async (req) => {
    const status = d.operations.get(DISPOSAL, req.params.triggerid);
    if (!status)
      throw new RequestError(
        `There is no savepoint disposal with trigger id ${req.params.triggerid} (unknown, or older than 5 minutes).`,
        404,
      );
    return status;
  });
}

const DISPOSAL = 'savepoint-disposal';
