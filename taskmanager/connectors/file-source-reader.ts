// The reader of a FileSource with TextLineInputFormat (Flink's FileSourceReader): every file is one
// split, read line by line. In a cluster the JobManager's enumerator hands the files out on request
// (jobmanager/file-split-enumerator.ts), so a subtask on a slower core reads fewer of them; without
// an enumerator (a harness), subtask i of p lists the files itself and reads those whose index in
// the sorted listing is i mod p. Its state is the list of splits it still has to read, each with
// the byte offset of its next line.
import type { SourceSplits } from '../../common/control.js';
import { listFilesSync } from '../../common/file-listing.js';
import type { Output, TaskServices } from '../operators/operator.js';
import type { SourceReader } from './source-readers.js';
import { RequestedSplitsReader, type SplitHolder, type SplitRequester } from './split-requests.js';
import { DEFAULT_CHUNK_BYTES, TextLineSplitReader } from './text-line-split-reader.js';

/** One file to read and where to resume: the byte offset of its next line. */
export interface FileSourceSplit {
  path: string;
  offset: number;
}

function isFileSourceSplit(v: unknown): v is FileSourceSplit {
  const s = v as FileSourceSplit;
  return (
    !!s &&
    typeof s === 'object' &&
    typeof s.path === 'string' &&
    s.path.length > 0 &&
    Number.isSafeInteger(s.offset) &&
    s.offset >= 0
  );
}

/** The splits subtask `index` of `parallelism` starts with when no enumerator hands them out. */
export function assignFileSplits(files: readonly string[], index: number, parallelism: number): FileSourceSplit[] {
  return files.filter((_, k) => k % parallelism === index).map((path) => ({ path, offset: 0 }));
}

export class FileSourceReader implements SplitHolder {
  readonly ratePerSecond = undefined;
  private splits: FileSourceSplit[];
  private current: TextLineSplitReader | undefined;

  constructor(
    splits: FileSourceSplit[],
    private readonly services: TaskServices,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.splits = splits.map((s) => ({ ...s }));
  }

  get finished(): boolean {
    return this.splits.length === 0;
  }

  get held(): number {
    return this.splits.length;
  }

  take(splits: SourceSplits): void {
    for (const path of splits.files) this.splits.push({ path, offset: 0 });
  }

  emitBatch(max: number, out: Output): number {
    let n = 0;
    try {
      while (n < max && this.splits.length > 0) {
        const split = this.splits[0]!;
        this.current ??= new TextLineSplitReader(split.path, split.offset, this.chunkBytes);
        const line = this.current.nextLine();
        if (line === undefined) {
          this.current.release();
          this.current = undefined;
          this.splits.shift();
          continue;
        }
        split.offset = this.current.offset;
        n++;
        out.collect(line, undefined);
        // An async sink in the chain asked to wait: stop the batch here.
        if (this.services.pending !== undefined) break;
      }
    } finally {
      // No descriptor outlives a batch: a canceled task leaks nothing.
      this.current?.release();
    }
    return n;
  }

  snapshotSplits(): unknown[] {
    return this.splits.map((s) => ({ path: s.path, offset: s.offset }));
  }

  restoreSplits(splits: unknown[]): void {
    const restored: FileSourceSplit[] = [];
    for (const v of splits) {
      if (!isFileSourceSplit(v))
        throw new Error(`FileSource: restored split ${JSON.stringify(v)} is not a file split ({ path, offset })`);
      restored.push({ path: v.path, offset: v.offset });
    }
    this.current?.release();
    this.current = undefined;
    this.splits = restored;
  }
}

/** The reader of subtask services.subtaskIndex for a FileSource descriptor from the bundle. */
export function createFileSourceReader(
  source: unknown,
  services: TaskServices,
  operatorName: string,
  requester?: SplitRequester,
): SourceReader {
  const s = source as { paths?: unknown; format?: { kind?: unknown }; discoveryIntervalMs?: unknown } | undefined;
  if (!s || !Array.isArray(s.paths) || !s.paths.every((p) => typeof p === 'string'))
    throw new Error(`operator '${operatorName}': FileSource without paths`);
  if (s.format?.kind !== 'text-line')
    throw new Error(
      `operator '${operatorName}': FileSource format ${JSON.stringify(s.format?.kind)} is not supported (TextLineInputFormat is)`,
    );
  if (requester) return new RequestedSplitsReader(new FileSourceReader([], services), requester);
  if (s.discoveryIntervalMs !== undefined)
    throw new Error(
      `operator '${operatorName}': FileSource.monitorContinuously() needs the JobManager, which discovers the files and hands them out; run the job on a cluster (or read a bounded FileSource here)`,
    );
  const files = listFilesSync(s.paths as string[]);
  return new FileSourceReader(assignFileSplits(files, services.subtaskIndex, services.parallelism), services);
}
