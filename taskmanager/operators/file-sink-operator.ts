// The row-format FileSink (Flink's FileSink in STREAMING mode). Records go to the in-progress part
// of their bucket; the rolling policy decides when a part rolls (by size before a record, by age or
// inactivity on a processing-time check every bucketCheckInterval and at checkpoints). With periodic
// checkpoints the sink commits in two phases: an in-progress part stays open across checkpoints,
// each checkpoint recording its name and valid length (a restore cuts it back and resumes it); a
// rolled part is pending for the next checkpoint and renamed into view when that checkpoint
// completes. A stop-with-savepoint and the final checkpoint of a bounded job roll every part, so
// everything they cover is published when they complete. Readers thus see exactly the records of
// completed checkpoints. Without periodic checkpoints a part is visible as soon as it rolls, and a
// savepoint's snapshot rolls (publishes) every part.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BasePathBucketAssigner,
  isBucketAssigner,
  type BucketAssigner,
  type BucketAssignerContext,
} from '../../api/file-sink-buckets.js';
import {
  DEFAULT_MAX_PART_SIZE,
  DefaultRollingPolicy,
  isRollingPolicy,
  type RollingPolicy,
} from '../../api/file-sink-rolling.js';
import { DEFAULT_BUCKET_CHECK_INTERVAL } from '../../api/file-sink.js';
import { ListStateDescriptor, type ListState } from '../../api/state.js';
import { FINAL_CHECKPOINT_ID } from '../../common/checkpoint.js';
import { FileSinkBuckets } from '../connectors/file-sink-buckets.js';
import { FileSinkCommitter } from '../connectors/file-sink-committer.js';
import { recoverFileSink, type FileSinkWriterState } from '../connectors/file-sink-recovery.js';
import { PartFileNaming } from '../connectors/part-file-naming.js';
import {
  StreamOperator,
  type OperatorSetup,
  type SnapshotContext,
  type StateInitializationContext,
} from './operator.js';
import { toLine } from './sinks.js';

/** Name of the sink's union list state: one FileSinkWriterState per subtask. */
export const FILE_SINK_STATE_NAME = 'file-sink-writer-state';

const MIN_WATERMARK = Number.MIN_SAFE_INTEGER;

/** What the operator reads of the FileSink object (fields of older builds are optional). */
interface FileSinkLike {
  dir: string;
  encoder?: (v: unknown) => string;
  partPrefix?: string;
  partSuffix?: string;
  /** Sinks built before rolling policies carry only this. */
  maxPartSize?: number;
  rollingPolicy?: unknown;
  bucketAssigner?: unknown;
  bucketCheckInterval?: number;
}

export class FileSinkOperator extends StreamOperator {
  private readonly dir: string;
  private readonly naming: PartFileNaming;
  private readonly policy: RollingPolicy<unknown, string>;
  /** Undefined when every record goes to the sink's directory itself. */
  private readonly assigner: BucketAssigner<unknown, unknown> | undefined;
  private readonly bucketCheckInterval: number;
  private readonly encode: (v: unknown) => string;
  /** Commit on checkpoint completion only (the job checkpoints periodically). */
  private readonly twoPhase: boolean;
  private readonly committer: FileSinkCommitter;
  private readonly buckets: FileSinkBuckets;
  private state: ListState<FileSinkWriterState> | undefined;
  private cancelCheck: (() => void) | undefined;
  private ended = false;
  private watermark = MIN_WATERMARK;
  /** Processing time and timestamp of the record being assigned, for the assigner's context. */
  private now = 0;
  private timestamp: number | undefined;
  private readonly context: BucketAssignerContext = {
    currentProcessingTime: () => this.now,
    currentWatermark: () => this.watermark,
    timestamp: () => this.timestamp ?? null,
  };

  constructor(setup: OperatorSetup) {
    super(setup);
    const sink = setup.userCode as FileSinkLike | undefined;
    if (!sink || typeof sink.dir !== 'string' || sink.dir.length === 0)
      throw new Error(`operator '${this.name}': FileSink without a directory`);
    this.dir = resolve(sink.dir);
    this.naming = new PartFileNaming(sink.partPrefix ?? 'part', sink.partSuffix ?? '');
    this.policy = isRollingPolicy(sink.rollingPolicy)
      ? (sink.rollingPolicy as RollingPolicy<unknown, string>)
      : DefaultRollingPolicy.builder()
          .withMaxPartSize(sink.maxPartSize ?? DEFAULT_MAX_PART_SIZE)
          .build();
    this.assigner =
      isBucketAssigner(sink.bucketAssigner) && !(sink.bucketAssigner instanceof BasePathBucketAssigner)
        ? sink.bucketAssigner
        : undefined;
    this.bucketCheckInterval =
      sink.bucketCheckInterval !== undefined && sink.bucketCheckInterval > 0
        ? sink.bucketCheckInterval
        : DEFAULT_BUCKET_CHECK_INTERVAL;
    this.encode = sink.encoder ?? toLine;
    // A job that only takes savepoints commits at each savepoint's snapshot instead (see snapshotState).
    this.twoPhase = setup.services.checkpointing?.periodic === true;
    this.committer = new FileSinkCommitter(this.dir);
    this.buckets = new FileSinkBuckets({
      dir: this.dir,
      subtaskIndex: setup.services.subtaskIndex,
      naming: this.naming,
      policy: this.policy,
      onPartClosed: (part) => (this.twoPhase ? this.committer.add(part) : this.committer.commitNow(part)),
    });
  }

  override async initializeState(context: StateInitializationContext): Promise<void> {
    this.state = context
      .getOperatorStateStore()
      .getUnionListState(new ListStateDescriptor<FileSinkWriterState>(FILE_SINK_STATE_NAME));
    mkdirSync(this.dir, { recursive: true });
    if (context.isRestored()) {
      const { subtaskIndex, parallelism } = this.services;
      const r = recoverFileSink({
        dir: this.dir,
        naming: this.naming,
        subtaskIndex,
        parallelism,
        states: this.state.get(),
        buckets: this.assigner !== undefined,
      });
      this.buckets.resume(r.resume);
      if (r.committed.length > 0 || r.deleted.length > 0 || r.resume.length > 0) {
        this.services.log.info(
          { committed: r.committed.length, deleted: r.deleted.length, resumed: r.resume.length },
          'FileSink restored: committed pending parts, resumed in-progress parts at their checkpointed length, deleted parts written after the checkpoint',
        );
      }
      if (r.alreadyCommitted.length > 0) {
        this.services.log.warn(
          { parts: r.alreadyCommitted },
          'FileSink restored: in-progress parts of the checkpoint were already committed by a later run (restored an older savepoint?); writing goes on in new parts',
        );
      }
    }
  }

  override async open(): Promise<void> {
    await super.open();
    this.scheduleBucketCheck();
  }

  private scheduleBucketCheck(): void {
    const pt = this.services.processingTime;
    this.cancelCheck = pt.schedule(pt.now() + this.bucketCheckInterval, () => {
      this.cancelCheck = undefined;
      if (this.ended) return;
      this.buckets.onProcessingTime(pt.now());
      this.scheduleBucketCheck();
    });
  }

  private stopBucketCheck(): void {
    this.ended = true;
    this.cancelCheck?.();
    this.cancelCheck = undefined;
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
    const now = this.services.processingTime.now();
    let bucket = '';
    if (this.assigner) {
      this.now = now;
      this.timestamp = timestamp;
      try {
        const id = this.assigner.getBucketId(value, this.context);
        bucket = typeof id === 'string' ? id : String(id);
      } catch (e) {
        this.fail(e);
      }
    }
    this.buckets.write(bucket, value, line, now);
  }

  override processWatermark(timestamp: number): void {
    this.watermark = timestamp;
    super.processWatermark(timestamp);
  }

  override async snapshotState(context: SnapshotContext): Promise<void> {
    let inProgress: FileSinkWriterState['inProgress'] = [];
    if (!this.twoPhase) {
      // Without two-phase commit (a savepoint of a job that does not checkpoint) every part is
      // committed right here: the snapshot then covers exactly what is visible.
      this.buckets.closeAll();
    } else {
      // A stop-with-savepoint and the end of input publish everything once they complete.
      const rollAll = context.checkpointId === FINAL_CHECKPOINT_ID || context.options?.stop === true;
      inProgress = this.buckets.snapshot(this.services.processingTime.now(), rollAll);
    }
    const pending = this.committer.prepareSnapshot(context.checkpointId);
    const entry: FileSinkWriterState = { dir: this.dir, subtaskIndex: this.services.subtaskIndex, pending, inProgress };
    this.state?.update([entry]);
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    this.committer.commitUpTo(checkpointId);
  }

  override async finish(): Promise<void> {
    this.stopBucketCheck();
    // With checkpoints the final snapshot rolls every part and its completion commits them.
    if (this.twoPhase) this.buckets.flushAll();
    else this.buckets.closeAll();
  }

  override stateEntries(): number {
    return this.committer.size + this.buckets.openParts;
  }

  override async close(): Promise<void> {
    this.stopBucketCheck();
    // Whatever is still open stays hidden: a canceled or failed run publishes nothing half-written.
    this.buckets.abortAll();
    await super.close();
  }
}
