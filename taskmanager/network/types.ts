// The contract between the network stack and the stream tasks that use it.
// Records travel in buffers (many records serialized together); events travel in the same
// ordered stream as the records, so a watermark or barrier never overtakes a record.

/** In-band events. New kinds (watermarks, barriers, ...) are added here, not as new channels. */
export type NetworkEvent =
  | { type: 'endOfPartition' }
  | { type: 'watermark'; timestamp: number }
  | {
      type: 'barrier';
      checkpointId: number;
      timestamp: number;
      savepoint?: boolean;
      stop?: boolean;
      drain?: boolean;
      unaligned?: boolean;
    }
  | { type: 'cancelBarrier'; checkpointId: number }
  | { type: 'idle'; idle: boolean };

/** What a task polls from an input gate. Timestamps are per record; undefined means "no timestamp". */
export type BufferOrEvent =
  | {
      kind: 'records';
      channel: number;
      values: unknown[];
      timestamps: (number | undefined)[] | null;
      /** Size of the buffer they came in. */ bytes: number;
    }
  | { kind: 'event'; channel: number; event: NetworkEvent };

export interface ResultPartitionMetrics {
  numRecordsOut: number;
  numBytesOut: number;
  numBuffersOut: number;
  /** Milliseconds the producing task spent waiting for this partition to become available. */
  backPressuredTimeMs: number;
}

/** The producing side of one JobEdge for one producer subtask. */
export interface ResultPartitionWriter {
  readonly partitionId: string;
  readonly numSubpartitions: number;
  readonly metrics: ResultPartitionMetrics;
  /** Appends a record to a subpartition's current buffer (hot path: no awaiting here). */
  emitRecord(value: unknown, timestamp: number | undefined, subpartition: number): void;
  /** Appends a record to every subpartition. */
  broadcastRecord(value: unknown, timestamp: number | undefined): void;
  /** Flushes pending records of every subpartition, then enqueues the event on every subpartition. */
  broadcastEvent(event: NetworkEvent): void;
  /** Finishes the current buffer of every subpartition so it can be sent. */
  flushAll(): void;
  /** False while a subpartition holds more unsent buffers than its consumer granted credit for (backpressure). */
  isAvailable(): boolean;
  /** Resolves when isAvailable() turns true; resolves at once when it already is. */
  getAvailableFuture(): Promise<void>;
  /** Sends EndOfPartition on every subpartition; resolves once consumers have received all data. */
  finish(): Promise<void>;
  /** Drops all data (cancel or failure); consumers see the channel fail with `cause`. */
  release(cause?: Error): void;
}

/** The consuming side of one JobEdge for one consumer subtask. */
export interface InputGate {
  readonly numChannels: number;
  /** Next buffer or event from any unblocked channel, or undefined when none is ready now. Throws a channel's error. */
  pollNext(): BufferOrEvent | undefined;
  /**
   * Takes what already reached this thread for the gate's channels but would wait for its event
   * loop (another slot thread's port messages); true when pollNext() may now return something.
   */
  receivePending?(): boolean;
  /** Resolves when pollNext() may return something (or an error is pending). */
  getAvailableFuture(): Promise<void>;
  /** True once every channel delivered EndOfPartition and everything was polled. */
  isFinished(): boolean;
  /** Bytes of the buffers polled so far (buffer debloating measures the task's throughput by them). */
  readonly numBytesPolled: number;
  /** Buffers the gate's channels grant together: the most that can be in flight to it. */
  readonly numCredits: number;
  /** Buffer debloating: the producers finish buffers of `bytes` from now on. */
  announceBufferSize(bytes: number): void;
  /** Holds back a channel (barrier alignment): pollNext skips it until resumed. */
  blockChannel(channel: number): void;
  resumeChannel(channel: number): void;
  close(): void;
}
