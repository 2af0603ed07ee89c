// The states finished subtasks end with, kept for checkpoints taken after they finished. While
// other subtasks of its operator run, a finished subtask stays in every checkpoint with the
// snapshot it took after the end of its input: a restore runs it again from there (it ends at
// once), so its share of split state is handed on and its union list entries (Kafka partitions
// read to their end, committed sink transactions) are not lost. Flink instead restores such
// subtasks empty and refuses checkpoints of partially finished operators with union list state,
// which would stall a job whose sink subtasks finish one by one. Once every subtask of an operator
// finished, its state is no longer needed: a restore does not run it.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OperatorSubtaskStateHandle, TaskCheckpointAck } from '../../common/checkpoint.js';
import type { Logger } from '../../common/logging.js';
import type { SubtaskOperators } from './pending-checkpoint.js';

interface EndState {
  handles: OperatorSubtaskStateHandle[];
  /** The completed checkpoint directory holding the handles' files. */
  dir: string;
}

/** Prefix of a carried copy's file name in a later checkpoint. */
const CARRIED_PREFIX = 'finished-';

export class FinishedSubtaskStates {
  /** Per task attempt: its latest completed snapshot taken after the end of its input. */
  private readonly endStates = new Map<string, EndState>();

  constructor(private readonly log: Logger) {}

  /** A checkpoint completed in `dir`: remember the end-of-input snapshots it holds. */
  recordCompleted(acks: Iterable<TaskCheckpointAck>, dir: string): void {
    for (const a of acks) if (a.endOfInput) this.endStates.set(a.executionId, { handles: a.handles, dir });
  }

  /**
   * Copies the end-of-input state of the finished subtasks of operators that still run elsewhere
   * into `targetDir` (the checkpoint being completed) and returns their handles. A subtask that
   * finished without such a snapshot (a job without periodic checkpoints) is recorded with no state.
   */
  async carry(
    finished: SubtaskOperators[],
    fullyFinished: (operatorId: string) => boolean,
    targetDir: string,
  ): Promise<OperatorSubtaskStateHandle[]> {
    const out: OperatorSubtaskStateHandle[] = [];
    for (const f of finished) {
      const state = f.executionId === undefined ? undefined : this.endStates.get(f.executionId);
      if (!state) continue;
      const copies: OperatorSubtaskStateHandle[] = [];
      try {
        for (const h of state.handles) {
          if (fullyFinished(h.operatorId)) continue;
          // A name of its own: a late write of the task (it finished meanwhile) may still land on the original.
          const file = h.file.startsWith(CARRIED_PREFIX) ? h.file : `${CARRIED_PREFIX}${h.file}`;
          if (state.dir !== targetDir || file !== h.file)
            await copyFile(join(state.dir, h.file), join(targetDir, file));
          copies.push({ ...h, file });
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        // Deleted under us (by hand): the subtask restores empty, as in Flink, rather than fail every checkpoint.
        this.log.warn(
          { err: (e as Error).message, executionId: f.executionId },
          'the end-of-input state of a finished subtask is gone; it is recorded without state',
        );
        this.endStates.delete(f.executionId!);
        continue;
      }
      out.push(...copies);
    }
    return out;
  }

  /** The carried states now live in `dir` too, which retention keeps longer than the older one. */
  moved(carried: SubtaskOperators[], handles: OperatorSubtaskStateHandle[], dir: string): void {
    for (const f of carried) {
      const state = f.executionId === undefined ? undefined : this.endStates.get(f.executionId);
      if (!state) continue;
      const mine = handles.filter((h) => h.subtaskIndex === f.subtaskIndex && f.operatorIds.includes(h.operatorId));
      // Only a state carried whole moves; an operator that fully finished needs its part no more.
      if (mine.length === state.handles.length) this.endStates.set(f.executionId!, { handles: mine, dir });
    }
  }

  /** A new attempt or the end of the job: the old attempts' states are not needed any more. */
  clear(): void {
    if (this.endStates.size > 0)
      this.log.debug({ states: this.endStates.size }, 'end-of-input states of finished subtasks dropped');
    this.endStates.clear();
  }
}
