// Declarative deployments: the `kind: WeirJob` document `weir apply` reads (the Flink Kubernetes
// operator's spec fields), and the spec the JobManager records and compares, in which the bundle is
// its content hash. Both are checked against JSON Schemas (ajv) so that unknown keys, wrong types and
// missing fields are refused with their path before anything changes, as kubectl does.
import { Ajv, type ErrorObject } from 'ajv';
import { lazyValidator } from './contracts/lazy-validator.js';
import { Configuration } from './config.js';

export const WEIR_API_VERSION = 'weir/v1';
export const WEIR_JOB_KIND = 'WeirJob';

/** Flink operator's upgrade modes: how a running job is replaced when its spec changes. */
export const UPGRADE_MODES = ['stateless', 'savepoint', 'last-state'] as const;
export type UpgradeMode = (typeof UPGRADE_MODES)[number];

/** Flink operator's `spec.job.state`. */
export const DESIRED_STATES = ['running', 'suspended'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/** A deployment's name is its identity and its file name: an RFC 1123 label, as Kubernetes names. */
export const DEPLOYMENT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DEPLOYMENT_NAME_MAX = 63;

/** The setting last-state upgrades rely on: a canceled job keeps its latest checkpoint. */
export const RETENTION_KEY = 'execution.checkpointing.externalized-checkpoint-retention';

/** `spec` of a WeirJob document as written. */
export interface WeirJobSpec {
  bundle: string;
  args?: string[];
  parallelism?: number;
  config?: Record<string, string | number | boolean>;
  upgradeMode?: UpgradeMode;
  state?: DesiredState;
  allowNonRestoredState?: boolean;
  savepointNonce?: number;
  restartNonce?: number;
}

export interface WeirJobDocument {
  apiVersion: typeof WEIR_API_VERSION;
  kind: typeof WEIR_JOB_KIND;
  metadata: { name: string };
  spec: WeirJobSpec;
}

/** What the JobManager records and compares: defaults applied, the bundle as its sha256. */
export interface DeploymentSpec {
  bundleHash: string;
  /** The bundle's file name, for people; not compared. */
  bundleName: string;
  args: string[];
  /** Absent: the job's own default parallelism. */
  parallelism?: number;
  config: Record<string, string>;
  upgradeMode: UpgradeMode;
  state: DesiredState;
  allowNonRestoredState: boolean;
  savepointNonce: number;
  restartNonce: number;
}

/** One refusal: where (a path such as spec.parallelism) and why. */
export interface SpecProblem {
  path: string;
  reason: string;
}

const nonce = { type: 'integer', minimum: 0 } as const;
const commonSpecProperties = {
  args: { type: 'array', items: { type: 'string' } },
  parallelism: { type: 'integer', minimum: 1, maximum: 32768 },
  upgradeMode: { enum: [...UPGRADE_MODES] },
  state: { enum: [...DESIRED_STATES] },
  allowNonRestoredState: { type: 'boolean' },
  savepointNonce: nonce,
  restartNonce: nonce,
} as const;

const documentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: WEIR_API_VERSION },
    kind: { const: WEIR_JOB_KIND },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', pattern: DEPLOYMENT_NAME.source, maxLength: DEPLOYMENT_NAME_MAX } },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['bundle'],
      properties: {
        bundle: { type: 'string', minLength: 1 },
        config: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        ...commonSpecProperties,
      },
    },
  },
} as const;

const deploymentSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'bundleHash',
    'bundleName',
    'args',
    'config',
    'upgradeMode',
    'state',
    'allowNonRestoredState',
    'savepointNonce',
    'restartNonce',
  ],
  properties: {
    bundleHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    bundleName: { type: 'string', minLength: 1, maxLength: 255 },
    config: { type: 'object', additionalProperties: { type: 'string' } },
    ...commonSpecProperties,
  },
} as const;

// verbose: errors carry the refused value, for messages that say what was found. Compiled on first
// use: most processes that load this module never read a deployment file.
let ajv: Ajv | undefined;
const compile = (schema: object) =>
  (ajv ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true })).compile(schema);
const checkDocument = lazyValidator(() => compile(documentSchema));
const checkDeploymentSpec = lazyValidator(() => compile(deploymentSpecSchema));

/** spec.config["execution.checkpointing.interval"]: dots inside keys stay readable. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  number: 'a number',
};

function problemOf(e: ErrorObject, prefix: readonly string[]): SpecProblem {
  const segments = [
    ...prefix,
    ...e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')),
  ];
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: formatPath([...segments, String(p.additionalProperty)]), reason: 'unknown field' };
    case 'required':
      return { path: formatPath([...segments, String(p.missingProperty)]), reason: 'required field is missing' };
    case 'type': {
      const wanted = [String(p.type)].flatMap((t) => t.split(',')).map((t) => TYPE_WORDS[t] ?? t);
      const hint = wanted[0] === 'a string' && typeof e.data === 'number' ? ` (quote it: "${String(e.data)}")` : '';
      return { path: formatPath(segments), reason: `must be ${wanted.join(' or ')}, got ${typeName(e.data)}${hint}` };
    }
    case 'enum':
      return {
        path: formatPath(segments),
        reason: `must be one of ${(p.allowedValues as unknown[]).join(', ')}, got ${typeName(e.data)}`,
      };
    case 'const':
      return {
        path: formatPath(segments),
        reason: `must be ${JSON.stringify(p.allowedValue)}, got ${typeName(e.data)}`,
      };
    case 'pattern':
      if (segments.at(-1) === 'name')
        return {
          path: formatPath(segments),
          reason: `${typeName(e.data)} is not a valid name: lower case letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label)`,
        };
      return { path: formatPath(segments), reason: `${typeName(e.data)} does not match ${String(p.pattern)}` };
    case 'maxLength':
      return { path: formatPath(segments), reason: `must be at most ${String(p.limit)} characters long` };
    case 'minLength':
      return { path: formatPath(segments), reason: 'must not be empty' };
    case 'minimum':
    case 'maximum':
      return {
        path: formatPath(segments),
        reason: `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)}, got ${String(e.data)}`,
      };
    default:
      return { path: formatPath(segments), reason: e.message ?? e.keyword };
  }
}

/** ajv reports a failed `required` beside type errors of the same map; the first of each path is enough. */
function problemsOf(errors: ErrorObject[] | null | undefined, prefix: readonly string[]): SpecProblem[] {
  const seen = new Set<string>();
  const out: SpecProblem[] = [];
  for (const e of errors ?? []) {
    const problem = problemOf(e, prefix);
    const key = `${problem.path}\0${problem.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}

/** Values the engine would refuse: configuration values that do not parse, settings last-state cannot work with. */
function configProblems(
  config: Record<string, string>,
  upgradeMode: UpgradeMode,
  prefix: readonly string[],
): SpecProblem[] {
  const out: SpecProblem[] = [];
  for (const [key, value] of Object.entries(config)) {
    for (const reason of new Configuration({ [key]: value }).validate())
      out.push({ path: formatPath([...prefix, 'config', key]), reason });
  }
  const retention = config[RETENTION_KEY];
  if (
    upgradeMode === 'last-state' &&
    retention !== undefined &&
    retention.trim().toUpperCase() !== 'RETAIN_ON_CANCELLATION'
  ) {
    out.push({
      path: formatPath([...prefix, 'config', RETENTION_KEY]),
      reason: `upgradeMode: last-state restarts from the canceled job's latest checkpoint, which needs RETAIN_ON_CANCELLATION (leave the key out and Weir sets it), got ${JSON.stringify(retention)}`,
    });
  }
  return out;
}

function stringConfig(config: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(config ?? {}).map(([k, v]) => [k, String(v)]));
}

/** Checks one parsed YAML document; returns it typed, or every problem found. */
export function validateDocument(doc: unknown): { document?: WeirJobDocument; problems: SpecProblem[] } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return {
      problems: [
        { path: '(document)', reason: `must be a map with apiVersion, kind, metadata and spec, got ${typeName(doc)}` },
      ],
    };
  }
  if (!checkDocument(doc)) return { problems: problemsOf(checkDocument.errors, []) };
  const document = doc as WeirJobDocument;
  const problems = configProblems(stringConfig(document.spec.config), document.spec.upgradeMode ?? 'stateless', [
    'spec',
  ]);
  return problems.length ? { problems } : { document, problems };
}

/** The spec the JobManager compares, once the bundle is known by its hash. Defaults as the Flink operator's. */
export function deploymentSpecOf(spec: WeirJobSpec, bundleHash: string, bundleName: string): DeploymentSpec {
  return {
    bundleHash,
    bundleName,
    args: spec.args ?? [],
    ...(spec.parallelism !== undefined ? { parallelism: spec.parallelism } : {}),
    config: stringConfig(spec.config),
    upgradeMode: spec.upgradeMode ?? 'stateless',
    state: spec.state ?? 'running',
    allowNonRestoredState: spec.allowNonRestoredState ?? false,
    savepointNonce: spec.savepointNonce ?? 0,
    restartNonce: spec.restartNonce ?? 0,
  };
}

/** Checks a spec sent to the JobManager (PUT /deployments/:name); the paths start at `spec`. */
export function validateDeploymentSpec(spec: unknown): { spec?: DeploymentSpec; problems: SpecProblem[] } {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    return { problems: [{ path: 'spec', reason: `must be a map, got ${typeName(spec)}` }] };
  if (!checkDeploymentSpec(spec)) return { problems: problemsOf(checkDeploymentSpec.errors, ['spec']) };
  const s = spec as DeploymentSpec;
  const problems = configProblems(s.config, s.upgradeMode, ['spec']);
  return problems.length ? { problems } : { spec: s, problems };
}

export function checkDeploymentName(name: unknown): string | undefined {
  if (typeof name !== 'string' || !DEPLOYMENT_NAME.test(name) || name.length > DEPLOYMENT_NAME_MAX) {
    return `invalid deployment name ${JSON.stringify(typeof name === 'string' ? name.slice(0, 80) : name)}: lower case letters, digits and '-', starting and ending with a letter or digit, at most ${DEPLOYMENT_NAME_MAX} characters`;
  }
  return undefined;
}

export function describeProblem(p: SpecProblem): string {
  return `${p.path}: ${p.reason}`;
}
