// The row-format FileSink (Flink's FileSink in STREAMING mode). With checkpointing it commits in
// two phases: at a barrier the open part is closed and becomes pending for that checkpoint (its
// name and size go into operator state); when the checkpoint completes, pending parts are renamed
// into view. Readers thus see exactly the records of completed checkpoints. Without periodic
// checkpoints a part is visible as soon as it is closed (rolled, or at end of input).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MAX_PART_SIZE } from '../../api/file-sink.js';
import { ListStateDescriptor, type ListState } from '../../api/state.js';
import { FileSinkCommitter } from '../connectors/file-sink-committer.js';
import { recoverFileSink, type FileSinkWriterState } from '../connectors/file-sink-recovery.js';
import { RowFormatPartWriter } from '../connectors/file-sink-writer.js';
import { PartFileNaming } from '../connectors/part-file-naming.js';
import { StreamOperator, type OperatorSetup, type SnapshotContext, type StateInitializationContext } from './operator.js';
import { toLine } from './sinks.js';

/** Name of the sink's union list state: one FileSinkWriterState per subtask. */
export const FILE_SINK_STATE_NAME = 'file-sink-writer-state';

interface FileSinkLike {
  dir: string;
  encoder?: (v: unknown) => string;
  partPrefix?: string;
  partSuffix?: string;
  maxPartSize?: number;
}

export class FileSinkOperator extends StreamOperator {
  private readonly dir: string;
  private readonly naming: PartFileNaming;
  private readonly rollBytes: number;
  private readonly encode: (v: unknown) => string;
  /** Commit on checkpoint completion only (the job checkpoints). */
  private readonly twoPhase: boolean;
  private readonly committer: FileSinkCommitter;
  private state: ListState<FileSinkWriterState> | undefined;
  private writerInstance: RowFormatPartWriter | undefined;

  constructor(setup: OperatorSetup) {
    super(setup);
    const sink = setup.userCode as FileSinkLike | undefined;
    if (!sink || typeof sink.dir !== 'string' || sink.dir.length === 0) throw new Error(`operator '${this.name}': FileSink without a directory`);
    this.dir = resolve(sink.dir);
    this.naming = new PartFileNaming(sink.partPrefix ?? 'part', sink.partSuffix ?? '');
    // Bundles built before rolling policies existed carry no part size.
    this.rollBytes = sink.maxPartSize ?? DEFAULT_MAX_PART_SIZE;
    this.encode = sink.encoder ?? toLine;
    // A job that only takes savepoints commits at each savepoint's snapshot instead (see snapshotState).
    this.twoPhase = setup.services.checkpointing?.periodic === true;
    this.committer = new FileSinkCommitter(this.dir);
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    this.state = context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<FileSinkWriterState>(FILE_SINK_STATE_NAME));
    mkdirSync(this.dir, { recursive: true });
    if (context.isRestored()) {
      const { subtaskIndex, parallelism } = this.services;
      const r = recoverFileSink({ dir: this.dir, naming: this.naming, subtaskIndex, parallelism, states: this.state.get() });
      if (r.committed.length > 0 || r.deleted.length > 0) {
        this.services.log.info({ committed: r.committed.length, deleted: r.deleted.length }, 'FileSink restored: committed pending parts, deleted parts written after the checkpoint');
      }
    }
  }

  /** Created on first use, after a restore settled which part numbers are taken. */
  private get writer(): RowFormatPartWriter {
    if (this.writerInstance) return this.writerInstance;
    const { subtaskIndex } = this.services;
    mkdirSync(this.dir, { recursive: true });
    this.writerInstance = new RowFormatPartWriter(
      { dir: this.dir, subtaskIndex, naming: this.naming, rollBytes: this.rollBytes, firstPartNumber: this.naming.nextPartNumber(this.dir, subtaskIndex) },
      (part) => (this.twoPhase ? this.committer.add(part) : this.committer.commitNow(part)),
    );
    return this.writerInstance;
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.services.sinkRecords++;
    if (timestamp !== undefined) this.services.sinkLag.record(timestamp);
    let line: string;
    try {
      line = this.encode(value);
    } catch (e) {
      this.fail(e);
    }
    this.writer.write(line);
  }

  override async snapshotState(context: SnapshotContext): Promise<void> {
    // Without two-phase commit (a savepoint of a job that does not checkpoint) the part is
    // committed right here: the snapshot then covers exactly what is visible.
    this.writerInstance?.closePart();
    const pending = this.committer.prepareSnapshot(context.checkpointId);
    const entry: FileSinkWriterState = { dir: this.dir, subtaskIndex: this.services.subtaskIndex, pending };
    this.state?.update([entry]);
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.committer.commitUpTo(checkpointId);
  }

  override async finish(): Promise<void> {
    // With checkpoints the final snapshot closes the part and its completion commits it.
    if (this.twoPhase) this.writerInstance?.flush();
    else this.writerInstance?.closePart();
  }

  override stateEntries(): number {
    return this.committer.size;
  }

  override async close(): Promise<void> {
    // Whatever is still open stays hidden: a canceled or failed run publishes nothing half-written.
    this.writerInstance?.abort();
    await super.close();
  }
}
