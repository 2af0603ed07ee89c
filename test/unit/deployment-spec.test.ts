// Deployment files (kind: WeirJob): every refusal names file, document, path and reason; the
// field-by-field diff; the reconciler's plan for each kind of change; one apply per name at a time.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffSpecs, isJobChange } from '../../common/deployment-diff.js';
import {
  deploymentSpecOf,
  validateDeploymentSpec,
  validateDocument,
  type DeploymentSpec,
} from '../../common/deployment-spec.js';
import { loadManifests, ManifestError } from '../../cli/deployments/manifest.js';
import { NameLocks } from '../../jobmanager/deployments/name-lock.js';
import { planReconcile } from '../../jobmanager/deployments/reconcile-plan.js';
import type { DeploymentRecord } from '../../jobmanager/deployments/deployment-record.js';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function doc(spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'weir/v1',
    kind: 'WeirJob',
    metadata: { name: 'orders' },
    spec: { bundle: './orders.weir', ...spec },
    ...extra,
  };
}

function problems(d: unknown): string[] {
  return validateDocument(d).problems.map((p) => `${p.path}: ${p.reason}`);
}

describe('WeirJob documents', () => {
  it('accepts a full document and applies the Flink operator defaults', () => {
    const d = doc({
      args: ['--topic', 'orders'],
      parallelism: 4,
      config: { 'execution.checkpointing.interval': '10 s', 'parallelism.default': 2 },
      upgradeMode: 'savepoint',
      state: 'running',
      allowNonRestoredState: false,
      savepointNonce: 0,
      restartNonce: 0,
    });
    const { document, problems: found } = validateDocument(d);
    expect(found).toEqual([]);
    expect(deploymentSpecOf(document!.spec, HASH_A, 'orders.weir')).toEqual({
      bundleHash: HASH_A,
      bundleName: 'orders.weir',
      args: ['--topic', 'orders'],
      parallelism: 4,
      config: { 'execution.checkpointing.interval': '10 s', 'parallelism.default': '2' },
      upgradeMode: 'savepoint',
      state: 'running',
      allowNonRestoredState: false,
      savepointNonce: 0,
      restartNonce: 0,
    });
    const minimal = validateDocument(doc()).document!;
    expect(deploymentSpecOf(minimal.spec, HASH_A, 'x.weir')).toMatchObject({
      args: [],
      config: {},
      upgradeMode: 'stateless',
      state: 'running',
      savepointNonce: 0,
      restartNonce: 0,
    });
    expect(deploymentSpecOf(minimal.spec, HASH_A, 'x.weir')).not.toHaveProperty('parallelism');
  });

  it.each([
    [doc({}, { apiVersion: 'v1' }), 'apiVersion: must be "weir/v1", got the string "v1"'],
    [doc({}, { kind: 'FlinkDeployment' }), 'kind: must be "WeirJob", got the string "FlinkDeployment"'],
    [doc({}, { status: {} }), 'status: unknown field'],
    [doc({}, { metadata: {} }), 'metadata.name: required field is missing'],
    [doc({}, { metadata: { name: 'Orders_1' } }), 'metadata.name: the string "Orders_1" is not a valid name'],
    [doc({}, { metadata: { name: 'a'.repeat(64) } }), 'metadata.name: must be at most 63 characters long'],
    [doc({}, { metadata: { name: 'x', labels: {} } }), 'metadata.labels: unknown field'],
    [
      { apiVersion: 'weir/v1', kind: 'WeirJob', metadata: { name: 'x' }, spec: {} },
      'spec.bundle: required field is missing',
    ],
    [doc({ bundle: '' }), 'spec.bundle: must not be empty'],
    [doc({ jarURI: 'x' }), 'spec.jarURI: unknown field'],
    [doc({ parallelism: 'four' }), 'spec.parallelism: must be an integer, got the string "four"'],
    [doc({ parallelism: 0 }), 'spec.parallelism: must be at least 1, got 0'],
    [doc({ parallelism: 2.5 }), 'spec.parallelism: must be an integer, got number 2.5'],
    [doc({ args: '--topic orders' }), 'spec.args: must be a list, got the string "--topic orders"'],
    [doc({ args: ['--n', 5] }), 'spec.args[1]: must be a string, got number 5 (quote it: "5")'],
    [
      doc({ config: { execution: { checkpointing: { interval: '1 s' } } } }),
      'spec.config.execution: must be a string or a number or true or false, got a map',
    ],
    [
      doc({ config: { 'execution.checkpointing.interval': 'soon' } }),
      'spec.config["execution.checkpointing.interval"]: configuration key \'execution.checkpointing.interval\'',
    ],
    [
      doc({
        upgradeMode: 'last-state',
        config: { 'execution.checkpointing.externalized-checkpoint-retention': 'DELETE_ON_CANCELLATION' },
      }),
      'spec.config["execution.checkpointing.externalized-checkpoint-retention"]: upgradeMode: last-state restarts',
    ],
    [
      doc({ upgradeMode: 'rolling' }),
      'spec.upgradeMode: must be one of stateless, savepoint, last-state, got the string "rolling"',
    ],
    [doc({ state: 'stopped' }), 'spec.state: must be one of running, suspended, got the string "stopped"'],
    [doc({ allowNonRestoredState: 'yes' }), 'spec.allowNonRestoredState: must be true or false, got the string "yes"'],
    [doc({ savepointNonce: -1 }), 'spec.savepointNonce: must be at least 0, got -1'],
    [doc({ restartNonce: 'x' }), 'spec.restartNonce: must be an integer, got the string "x"'],
    [['a list'], '(document): must be a map with apiVersion, kind, metadata and spec, got a list'],
  ])('refuses %j', (d, expected) => {
    const found = problems(d);
    expect(
      found.some((p) => p.startsWith(expected)),
      found.join('\n'),
    ).toBe(true);
  });

  it('reports every problem of a document at once', () => {
    expect(problems(doc({ parallelism: 'x', bogus: 1 }, { kind: 'Job' }))).toHaveLength(3);
  });

  it('checks specs sent to the JobManager the same way', () => {
    const good: DeploymentSpec = deploymentSpecOf({ bundle: 'x' }, HASH_A, 'x.weir');
    expect(validateDeploymentSpec(good).problems).toEqual([]);
    expect(
      validateDeploymentSpec({ ...good, bundleHash: 'nope', extra: 1 })
        .problems.map((p) => p.path)
        .sort(),
    ).toEqual(['spec.bundleHash', 'spec.extra']);
    expect(validateDeploymentSpec({ ...good, config: { 'parallelism.default': 'many' } }).problems[0]!.path).toBe(
      'spec.config["parallelism.default"]',
    );
  });
});

describe('deployment files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-manifests-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const good = (name: string) =>
    `apiVersion: weir/v1\nkind: WeirJob\nmetadata:\n  name: ${name}\nspec:\n  bundle: ./${name}.ts\n`;

  it('reads every document of a file and every *.yaml / *.yml of a directory, sorted, skipping empty documents', () => {
    const sub = join(dir, 'all');
    mkdirSync(sub);
    writeFileSync(join(sub, 'b.yml'), good('beta'));
    writeFileSync(join(sub, 'a.yaml'), `# two jobs\n${good('alpha')}---\n${good('gamma')}---\n`);
    writeFileSync(join(sub, 'notes.txt'), 'not yaml');
    const docs = loadManifests([sub]);
    expect(docs.map((d) => [d.document.metadata.name, d.index])).toEqual([
      ['alpha', 1],
      ['gamma', 2],
      ['beta', 1],
    ]);
    expect(docs[0]!.file).toBe(join(sub, 'a.yaml'));
  });

  it('names the file, the document and the path of each problem, in every document', () => {
    const path = file(
      'bad.yaml',
      `${good('one')}---\n${good('two')}  parallelism: many\n  extra: true\n---\n${good('one')}`,
    );
    let err: ManifestError | undefined;
    try {
      loadManifests([path]);
    } catch (e) {
      err = e as ManifestError;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect([...err!.problems].sort()).toEqual([
      `${path}: document 2 (two): spec.extra: unknown field`,
      `${path}: document 2 (two): spec.parallelism: must be an integer, got the string "many"`,
      `${path}: document 3: metadata.name: one is already defined by ${path}: document 1`,
    ]);
    expect(err!.message.split('\nerror: ')).toHaveLength(3);
  });

  it('refuses invalid YAML with its line, and duplicate keys', () => {
    const path = file('broken.yaml', `${good('x')}---\nspec: [unclosed\n`);
    expect(() => loadManifests([path])).toThrow(
      new RegExp(`${path}: document 2: invalid YAML: .* at line 9, column 1$`),
    );
    const dup = file('dup.yaml', `${good('x')}metadata:\n  name: y\n`);
    expect(() => loadManifests([dup])).toThrow(
      /dup\.yaml: document 1: invalid YAML: Map keys must be unique at line 7, column 1$/,
    );
  });

  it('refuses a missing file and a directory without YAML', () => {
    expect(() => loadManifests([join(dir, 'nope.yaml')])).toThrow(
      /cannot read .*nope\.yaml: no such file or directory/,
    );
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => loadManifests([empty])).toThrow(/holds no \*\.yaml or \*\.yml files/);
  });
});

function spec(over: Partial<DeploymentSpec> = {}): DeploymentSpec {
  return { ...deploymentSpecOf({ bundle: 'x', parallelism: 2, upgradeMode: 'savepoint' }, HASH_A, 'x.weir'), ...over };
}

describe('diffSpecs', () => {
  it('lists bundle, parallelism, config keys added, removed and changed, args, modes and nonces', () => {
    const a = spec({ config: { 'a.keep': '1', 'a.change': '1 s', 'a.remove': 'x' }, args: ['--n', '1'] });
    const b = spec({
      bundleHash: HASH_B,
      parallelism: 4,
      config: { 'a.keep': '1', 'a.change': '2 s', 'a.add': 'y' },
      args: ['--n', '2'],
      upgradeMode: 'last-state',
      state: 'suspended',
      savepointNonce: 1,
      restartNonce: 2,
    });
    const changes = diffSpecs(a, b);
    expect(changes.map((c) => c.text)).toEqual([
      'bundle: aaaaaaaaaaaa → bbbbbbbbbbbb',
      'args: ["--n","1"] → ["--n","2"]',
      'parallelism: 2 → 4',
      'config["a.add"]: added "y"',
      'config["a.change"]: "1 s" → "2 s"',
      'config["a.remove"]: removed (was "x")',
      'upgradeMode: "savepoint" → "last-state"',
      'state: "running" → "suspended"',
      'savepointNonce: 0 → 1',
      'restartNonce: 0 → 2',
    ]);
    expect(changes.filter(isJobChange).map((c) => c.field)).toEqual([
      'bundle',
      'args',
      'parallelism',
      'config["a.add"]',
      'config["a.change"]',
      'config["a.remove"]',
    ]);
    expect(diffSpecs(a, { ...a })).toEqual([]);
    expect(diffSpecs(spec(), spec({ parallelism: undefined }))[0]!.text).toBe('parallelism: 2 → (job default)');
  });
});

function record(over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const s = spec();
  return {
    formatVersion: 1,
    name: 'orders',
    spec: s,
    specVersion: 1,
    running: { spec: s, version: 1 },
    status: 'STABLE',
    jobId: 'f'.repeat(32),
    history: [],
    nextVersion: 2,
    createdAt: 0,
    updatedAt: 0,
    ...over,
  };
}

describe('planReconcile', () => {
  const live = { jobLive: true, jobState: 'RUNNING', interrupted: false };
  const plan = (r: DeploymentRecord | undefined, desired: DeploymentSpec, o: Partial<typeof live> = {}) =>
    planReconcile({ record: r, ...live, ...o }, desired);

  it('creates, leaves an equal spec alone, and upgrades on bundle, args, parallelism or config', () => {
    expect(plan(undefined, spec()).action).toBe('create');
    expect(plan(record(), spec()).action).toBe('unchanged');
    for (const change of [
      { bundleHash: HASH_B },
      { args: ['x'] },
      { parallelism: 3 },
      { config: { 'pipeline.name': 'x' } },
    ]) {
      expect(plan(record(), spec(change)).action).toBe('upgrade');
    }
  });

  it('nonces: savepoint and restart; settings alone need no new job', () => {
    expect(plan(record(), spec({ savepointNonce: 1 })).action).toBe('savepoint');
    expect(plan(record(), spec({ restartNonce: 1 })).action).toBe('restart');
    expect(plan(record(), spec({ upgradeMode: 'stateless' })).action).toBe('update');
    expect(plan(record(), spec({ parallelism: 3, savepointNonce: 1 }))).toMatchObject({
      action: 'upgrade',
      savepointRequested: true,
    });
  });

  it('suspends and resumes', () => {
    expect(plan(record(), spec({ state: 'suspended' })).action).toBe('suspend');
    const suspended = record({ status: 'SUSPENDED', spec: spec({ state: 'suspended' }) });
    expect(plan(suspended, spec({ state: 'suspended', parallelism: 4 }), { jobLive: false }).action).toBe('update');
    expect(plan(suspended, spec(), { jobLive: false }).action).toBe('resume');
  });

  it('does not retry a rolled-back spec, but retries after a failure or an interrupted upgrade', () => {
    const bad = spec({ bundleHash: HASH_B });
    const rolledBack = record({ status: 'ROLLED_BACK', cause: 'job x FAILED: boom', spec: bad });
    expect(plan(rolledBack, bad)).toMatchObject({
      action: 'unchanged',
      note: expect.stringContaining('rolled back (job x FAILED: boom)'),
    });
    // Back to the spec that runs: no new job, the status clears.
    expect(plan(rolledBack, spec()).action).toBe('update');
    expect(plan(record({ status: 'FAILED', spec: bad }), bad).action).toBe('upgrade');
    expect(plan(record({ status: 'FAILED' }), spec(), { jobLive: false, jobState: 'FAILED' }).action).toBe('restart');
    expect(plan(record({ status: 'UPGRADING', spec: bad }), bad, { interrupted: true }).action).toBe('upgrade');
  });

  it('leaves an ended job alone when nothing changed, and says how to run it again', () => {
    expect(plan(record(), spec(), { jobLive: false, jobState: 'FINISHED' })).toMatchObject({
      action: 'unchanged',
      note: expect.stringContaining('is FINISHED; change restartNonce'),
    });
  });
});

describe('NameLocks', () => {
  it('makes a second holder of a name wait, and refuses it with 409 after the timeout', async () => {
    const locks = new NameLocks();
    const release = await locks.acquire('orders', 'an apply', 1000);
    const order: string[] = [];
    const second = locks.acquire('orders', 'an apply', 5000).then((r) => {
      order.push('second');
      r();
    });
    await expect(locks.acquire('orders', 'an apply', 50)).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/deployment orders is busy: an apply has been running/),
    });
    const other = await locks.acquire('payments', 'an apply', 10);
    other();
    order.push('first');
    release();
    await second;
    expect(order).toEqual(['first', 'second']);
    expect(locks.isHeld('orders')).toBe(false);
  });
});
