// Mapping a savepoint's state onto a new job graph by operator id, and the checks that refuse a
// restore (state without a home, a changed maxParallelism) or a bad path.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointMetadataOperator } from '../../common/checkpoint.js';
import type { JobGraph } from '../../common/jobgraph.js';
import { savepointMetadata } from '../helpers/descriptors.js';
import {
  checkStateMapping,
  loadExternalRestore,
  SavepointRestoreError,
  type ExternalRestore,
} from '../../jobmanager/checkpoint/savepoint-restore.js';

const root = mkdtempSync(join(tmpdir(), 'weir-sp-restore-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function op(
  operatorId: string,
  uid: string | undefined,
  keyed: boolean,
  maxParallelism = 128,
  withState = true,
): CheckpointMetadataOperator {
  return {
    operatorId,
    ...(uid ? { uid } : {}),
    name: `op ${operatorId}`,
    parallelism: 2,
    maxParallelism,
    subtasks: withState
      ? [
          {
            operatorId,
            subtaskIndex: 0,
            file: `${operatorId}.state`,
            size: 1,
            sha256: 'x',
            keyGroupRange: keyed ? { start: 0, end: 63 } : null,
            operatorStates: keyed ? [] : ['_source-splits'],
          },
        ]
      : [],
  };
}

function restoreOf(operators: CheckpointMetadataOperator[]): ExternalRestore {
  return { metadata: savepointMetadata(operators), dir: '/sp/savepoint-abc' };
}

function graph(ops: Array<{ id: string; maxParallelism?: number }>): JobGraph {
  return {
    name: 'g',
    edges: [],
    maxParallelism: 128,
    warnings: [],
    config: {},
    vertices: ops.map((o) => ({
      id: o.id,
      name: o.id,
      parallelism: 3,
      maxParallelism: o.maxParallelism ?? 128,
      numInputs: 0,
      operators: [{ id: o.id, name: o.id, kind: 'map', config: {}, stateful: true, outputs: [] }],
    })),
  };
}

describe('checkStateMapping', () => {
  it('accepts added operators and a new parallelism; ignores operators without state', () => {
    const r = restoreOf([op('a', 'events', false), op('b', 'counter', true), op('c', undefined, false, 128, false)]);
    expect(checkStateMapping(r, graph([{ id: 'a' }, { id: 'b' }, { id: 'new' }]), false)).toEqual([]);
  });

  it('refuses state without a home, naming its uid and name, unless allowNonRestoredState', () => {
    const r = restoreOf([op('a', 'events', false), op('b', 'counter', true)]);
    expect(() => checkStateMapping(r, graph([{ id: 'a' }]), false)).toThrow(SavepointRestoreError);
    expect(() => checkStateMapping(r, graph([{ id: 'a' }]), false)).toThrow(
      /operator uid 'counter', name 'op b'.*allowNonRestoredState/,
    );
    expect(checkStateMapping(r, graph([{ id: 'a' }]), true).map((o) => o.uid)).toEqual(['counter']);
    const noUid = restoreOf([op('d', undefined, true)]);
    expect(() => checkStateMapping(noUid, graph([]), false)).toThrow(/operator id d \(no uid\)/);
  });

  it('refuses keyed state under another maxParallelism; operator state may move', () => {
    expect(() =>
      checkStateMapping(restoreOf([op('b', 'counter', true, 128)]), graph([{ id: 'b', maxParallelism: 256 }]), false),
    ).toThrow(/maximum parallelism \(256\).*\(128\)/);
    expect(
      checkStateMapping(restoreOf([op('a', 'events', false, 128)]), graph([{ id: 'a', maxParallelism: 256 }]), false),
    ).toEqual([]);
  });
});

describe('loadExternalRestore', () => {
  it('refuses relative, missing, non-savepoint and damaged paths with plain messages', async () => {
    await expect(loadExternalRestore('sp/x')).rejects.toThrow(/must be absolute/);
    await expect(loadExternalRestore(join(root, 'missing'))).rejects.toThrow(/does not exist/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(loadExternalRestore(empty)).rejects.toThrow(/is not a savepoint or checkpoint: it has no _metadata/);
    const file = join(root, 'file.txt');
    writeFileSync(file, 'x');
    await expect(loadExternalRestore(file)).rejects.toThrow(/is a file, not a savepoint directory/);
    const bad = join(root, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, '_metadata'), '{"format":"other"}');
    await expect(loadExternalRestore(join(bad, '_metadata'))).rejects.toThrow(/has format 'other'/);
  });
});
