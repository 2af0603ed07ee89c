// Loads a job's user code in this TaskManager: runs the bundle's main() again in runtime mode
// and checks it built the graph the JobManager planned, so operator ids map to the same functions.
import { pathToFileURL } from 'node:url';
import { buildJobGraph, createEnvironment, runMain } from '../api/internal.js';
import type { TaskDeploymentDescriptor } from '../common/deployment.js';
import type { JobVertex } from '../common/jobgraph.js';

const MAIN_TIMEOUT_MS = 30_000;

export async function loadUserCode(
  entryPath: string,
  tdd: TaskDeploymentDescriptor,
): Promise<{ vertex: JobVertex; userCode: Map<string, unknown> }> {
  const mod: unknown = await import(pathToFileURL(entryPath).href);
  const env = createEnvironment({ defaultParallelism: tdd.defaultParallelism, programArgs: tdd.programArgs });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      runMain(mod, env, tdd.programArgs),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`job main() did not return within ${MAIN_TIMEOUT_MS / 1000} s on the TaskManager`)),
          MAIN_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  const { jobGraph, userCode } = buildJobGraph(env, tdd.jobName);
  const planned = tdd.jobGraph.vertices.find((v) => v.id === tdd.vertexId);
  const rebuilt = jobGraph.vertices.find((v) => v.id === tdd.vertexId);
  if (!planned) throw new Error(`vertex ${tdd.vertexId} is not in the deployed job graph`);
  const same =
    rebuilt &&
    rebuilt.operators.length === planned.operators.length &&
    rebuilt.operators.every((o, i) => o.id === planned.operators[i]!.id && o.kind === planned.operators[i]!.kind);
  if (!same) {
    throw new Error(
      `job main() built a different graph on the TaskManager than when it was planned (vertex '${planned.name}'); main() must build the same pipeline every time it runs`,
    );
  }
  return { vertex: planned, userCode };
}
