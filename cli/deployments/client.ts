// The CLI side of deployments: documents turned into specs (bundles known by their hash), the
// JobManager's dry run of each (so that everything it would refuse is refused before anything
// changes), and the one line `weir apply` prints per deployment.
import { deploymentSpecOf, type DeploymentSpec } from '../../common/deployment-spec.js';
import { CliError } from '../errors.js';
import { RestError, type RestClient } from '../rest-client.js';
import { BundleResolver, type ResolvedBundle } from './bundles.js';
import { loadManifests, ManifestError, where, type LoadedDocument } from './manifest.js';

export interface Prepared {
  doc: LoadedDocument;
  bundle: ResolvedBundle;
  spec: DeploymentSpec;
}

/** The answer of PUT /deployments/:name. */
export interface ApplyAnswer {
  name: string;
  action: string;
  dryRun: boolean;
  message: string;
  changes: { field: string; text: string }[];
  status?: string;
  version?: number;
  jobId?: string;
  savepointPath?: string;
  restoredFrom?: string;
  cause?: string;
  bundleKnown?: boolean;
}

/** Actions after which the deployment does not run its spec: `weir apply` exits non-zero. */
export const UNREACHED = new Set(['failed', 'rolled-back']);

/** Reads and checks every document and knows every bundle's hash; nothing is sent yet. */
export async function prepare(files: string[], resolver: BundleResolver): Promise<Prepared[]> {
  const docs = loadManifests(files);
  const out: Prepared[] = [];
  const problems: string[] = [];
  for (const doc of docs) {
    try {
      const bundle = await resolver.resolve(doc);
      out.push({ doc, bundle, spec: deploymentSpecOf(doc.document.spec, bundle.hash, bundle.name) });
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length) throw new ManifestError(problems);
  return out;
}

export function putDeployment(
  client: RestClient,
  p: Prepared,
  opts: { dryRun: boolean; jarId?: string },
): Promise<ApplyAnswer> {
  const name = encodeURIComponent(p.doc.document.metadata.name);
  return client.request<ApplyAnswer>('PUT', `/deployments/${name}${opts.dryRun ? '?dryRun=true' : ''}`, {
    body: { spec: p.spec, ...(opts.jarId ? { jarId: opts.jarId } : {}) },
    // An upgrade stops a job with a savepoint and plans the new one; a busy name waits for the apply before it.
    timeoutMs: opts.dryRun ? 60_000 : 15 * 60_000,
  });
}

/** The JobManager's plan for every document; what it refuses is reported per document, all at once. */
export async function planAll(client: RestClient, prepared: Prepared[]): Promise<ApplyAnswer[]> {
  const answers: ApplyAnswer[] = [];
  const problems: string[] = [];
  for (const p of prepared) {
    try {
      answers.push(await putDeployment(client, p, { dryRun: true }));
    } catch (e) {
      // A refused spec names its document; an unreachable, unauthorized or standby JobManager is one error for all.
      if (!(e instanceof RestError) || e.status >= 500 || e.status === 401 || e.status === 403) throw e;
      problems.push(`${where(p.doc)} (${p.doc.document.metadata.name}): ${e.message}`);
    }
  }
  if (problems.length) throw new ManifestError(problems);
  return answers;
}

export function lineOf(a: ApplyAnswer): string {
  // A dry run's message says "would ..." already; kubectl's "(dry run)" marks the others.
  return `weirjob/${a.name} ${a.message}${a.dryRun && !a.message.startsWith('would') ? ' (dry run)' : ''}`;
}

/** A failed PUT as an answer, so that the other documents are still applied. */
export function failedAnswer(p: Prepared, e: unknown): ApplyAnswer {
  const message = e instanceof CliError ? e.message : (e as Error).message;
  return {
    name: p.doc.document.metadata.name,
    action: 'failed',
    dryRun: false,
    message: `failed: ${message}`,
    changes: [],
  };
}
