// The reader of a bounded FileSource with TextLineInputFormat (Flink's FileSourceReader): every
// file is one split; subtask i of p reads the files whose index in the sorted listing is i mod p,
// one after the other, line by line. Its state is the list of splits still to read, each with
// the byte offset of its next line.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Output, TaskServices } from '../operators/operator.js';
import type { SourceReader } from './source-readers.js';
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

function statPath(path: string, given: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Error(`FileSource: path '${given}' does not exist (resolved to ${path})`, { cause: e });
    throw new Error(`FileSource: cannot read '${given}': ${(e as Error).message}`, { cause: e });
  }
}

/** Absolute paths of the files the source reads: files as given, directories as their regular non-hidden files sorted by name. */
export function enumerateFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const given of paths) {
    const path = resolve(given);
    const st = statPath(path, given);
    if (st.isFile()) {
      files.push(path);
    } else if (st.isDirectory()) {
      const names = readdirSync(path)
        .filter((n) => !n.startsWith('.'))
        .sort();
      for (const n of names) if (statPath(join(path, n), join(given, n)).isFile()) files.push(join(path, n));
    } else {
      throw new Error(`FileSource: '${given}' is neither a regular file nor a directory`);
    }
  }
  return files;
}

/** The splits subtask `index` of `parallelism` starts with. */
export function assignFileSplits(files: readonly string[], index: number, parallelism: number): FileSourceSplit[] {
  return files.filter((_, k) => k % parallelism === index).map((path) => ({ path, offset: 0 }));
}

export class FileSourceReader implements SourceReader {
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
): FileSourceReader {
  const s = source as { paths?: unknown; format?: { kind?: unknown } } | undefined;
  if (!s || !Array.isArray(s.paths) || !s.paths.every((p) => typeof p === 'string'))
    throw new Error(`operator '${operatorName}': FileSource without paths`);
  if (s.format?.kind !== 'text-line')
    throw new Error(
      `operator '${operatorName}': FileSource format ${JSON.stringify(s.format?.kind)} is not supported (TextLineInputFormat is)`,
    );
  const files = enumerateFiles(s.paths as string[]);
  return new FileSourceReader(assignFileSplits(files, services.subtaskIndex, services.parallelism), services);
}
