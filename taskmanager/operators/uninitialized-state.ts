// What a keyed operator holds before initializeState() gave it a backend: every access fails with
// a message that names the operator and the missing step, instead of a TypeError deep in a hot path.
import type { KeyedStateBackend, StateTable } from '../state/types.js';

export function uninitializedKeyedState(operatorName: string): KeyedStateBackend & StateTable {
  const fail = (): never => {
    throw new Error(
      `operator '${operatorName}' keeps keyed state but its state was not initialized: the task calls initializeState() with a keyed state backend before open()`,
    );
  };
  return {
    type: 'heap',
    maxParallelism: 0,
    keyGroupRange: { start: 0, end: -1 },
    meta: { name: '_uninitialized', kind: 'raw' },
    setCurrentKey: fail,
    getCurrentKey: fail,
    getTable: fail,
    numEntries: () => 0,
    snapshot: fail,
    restoreEntry: fail,
    finishRestore: fail,
    dispose: async () => {},
    get: fail,
    put: fail,
    remove: fail,
  };
}
