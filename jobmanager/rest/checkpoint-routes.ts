// Checkpoint endpoints, shaped like Flink's: statistics, configuration, and one checkpoint's details.
import type { FastifyInstance, FastifyReply } from 'fastify';

/** A job's checkpoint views, live or archived. `config()` is undefined when the job does not checkpoint. */
export interface CheckpointViews {
  stats(): unknown;
  config(): unknown;
}

/** Undefined for a job this JobManager does not know. */
export type CheckpointViewLookup = (jobId: string) => CheckpointViews | undefined;

const JOB_ID = /^[0-9a-f]{32}$/;

export function registerCheckpointRoutes(app: FastifyInstance, lookup: CheckpointViewLookup): void {
  const views = (jobid: string, reply: FastifyReply): CheckpointViews | undefined => {
    if (!JOB_ID.test(jobid)) {
      void reply.status(400).send({ errors: [`invalid job id '${jobid}' (expected 32 hex characters)`] });
      return undefined;
    }
    const v = lookup(jobid);
    if (!v) void reply.status(404).send({ errors: [`job ${jobid} not found`] });
    return v;
  };

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/checkpoints', async (req, reply) => {
    const v = views(req.params.jobid, reply);
    return v ? reply.send(v.stats()) : reply;
  });

  app.get<{ Params: { jobid: string } }>('/jobs/:jobid/checkpoints/config', async (req, reply) => {
    const v = views(req.params.jobid, reply);
    if (!v) return reply;
    const config = v.config();
    if (config === undefined || config === null)
      return reply.status(404).send({ errors: ['Checkpointing is not enabled for this job'] });
    return reply.send(config);
  });

  app.get<{ Params: { jobid: string; checkpointid: string } }>(
    '/jobs/:jobid/checkpoints/details/:checkpointid',
    async (req, reply) => {
      const v = views(req.params.jobid, reply);
      if (!v) return reply;
      const raw = req.params.checkpointid;
      if (!/^\d+$/.test(raw))
        return reply.status(400).send({ errors: [`invalid checkpoint id '${raw}' (expected a non-negative integer)`] });
      const id = Number(raw);
      const history = (v.stats() as { history?: Array<{ id?: unknown }> } | null)?.history ?? [];
      const entry = history.find((h) => h.id === id);
      // As Flink: only checkpoints still in the history (web.checkpoints.history) have details.
      if (!entry)
        return reply.status(404).send({ errors: [`Could not find checkpointing statistics for checkpoint ${id}.`] });
      return reply.send(entry);
    },
  );
}
