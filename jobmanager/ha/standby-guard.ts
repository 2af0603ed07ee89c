// A standby JobManager (etcd high availability) answers no REST request but the web UI's files
// (the routes marked publicUi, as the token check does): 503 with where the leader is, so that
// scripts and the CLI go there.
import type { FastifyReply, FastifyRequest } from 'fastify';

export function standbyGuard(isLeader: () => boolean, leaderUrl: () => string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isLeader() || req.routeOptions.config?.publicUi) return;
    const leader = leaderUrl();
    await reply
      .code(503)
      .header('retry-after', '1')
      .send({
        errors: [
          `this JobManager is a standby${leader ? `; the leader is at ${leader}` : ' and no leader is elected yet'} (find it with --jobmanager etcd://<host>:2379)`,
        ],
      });
  };
}
