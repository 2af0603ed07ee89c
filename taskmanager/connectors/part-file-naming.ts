// Names of a FileSink's part files: `<prefix>-<subtask>-<n><suffix>` once committed, the same
// name hidden as `.<name>.inprogress` while being written or waiting for its checkpoint. Parts live
// in the sink's directory or in bucket sub-directories of it.
import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

const HIDDEN_PREFIX = '.';
const HIDDEN_SUFFIX = '.inprogress';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The hidden name of a part file until it is committed. */
export function hiddenPartName(finalName: string): string {
  return `${HIDDEN_PREFIX}${finalName}${HIDDEN_SUFFIX}`;
}

export interface ParsedPartName {
  partNumber: number;
  hidden: boolean;
}

export interface AnyPartName extends ParsedPartName {
  subtaskIndex: number;
}

/** readdir that treats a directory that vanished or is not one as empty. */
function readDirEntries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}

export class PartFileNaming {
  private readonly anyPart: RegExp;

  constructor(
    readonly partPrefix: string,
    readonly partSuffix: string,
  ) {
    const core = `${escapeRegExp(partPrefix)}-(\\d+)-(\\d+)${escapeRegExp(partSuffix)}`;
    this.anyPart = new RegExp(`^(?:${escapeRegExp(HIDDEN_PREFIX)}${core}${escapeRegExp(HIDDEN_SUFFIX)}|${core})$`);
  }

  finalName(subtaskIndex: number, partNumber: number): string {
    return `${this.partPrefix}-${subtaskIndex}-${partNumber}${this.partSuffix}`;
  }

  /** The part number of `fileName` when it is a part (hidden or not) of `subtaskIndex`. */
  parse(fileName: string, subtaskIndex: number): ParsedPartName | undefined {
    const core = `${escapeRegExp(this.partPrefix)}-${subtaskIndex}-(\\d+)${escapeRegExp(this.partSuffix)}`;
    const m = new RegExp(`^(?:(${escapeRegExp(HIDDEN_PREFIX)})${core}${escapeRegExp(HIDDEN_SUFFIX)}|${core})$`).exec(
      fileName,
    );
    if (!m) return undefined;
    const hidden = m[1] !== undefined;
    return { partNumber: Number(hidden ? m[2] : m[3]), hidden };
  }

  /** Subtask, part number and visibility of `fileName` when it is a part of any subtask. */
  parseAny(fileName: string): AnyPartName | undefined {
    const m = this.anyPart.exec(fileName);
    if (!m) return undefined;
    const hidden = m[1] !== undefined;
    return hidden
      ? { subtaskIndex: Number(m[1]), partNumber: Number(m[2]), hidden }
      : { subtaskIndex: Number(m[3]), partNumber: Number(m[4]), hidden };
  }

  /**
   * Hidden part files (in progress or pending) of the subtasks `indices` in `dir` and every
   * directory below it (the buckets), as absolute paths. Symbolic links are not followed.
   */
  hiddenPartsBelow(dir: string, indices: ReadonlySet<number>): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const e of readDirEntries(d)) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.isFile()) this.collectHidden(d, e.name, indices, out);
      }
    };
    walk(dir);
    return out;
  }

  /** Hidden part files of the subtasks `indices` directly in `dir` (absolute paths). */
  hiddenPartsIn(dir: string, indices: ReadonlySet<number>): string[] {
    const out: string[] = [];
    for (const e of readDirEntries(dir)) if (e.isFile()) this.collectHidden(dir, e.name, indices, out);
    return out;
  }

  private collectHidden(dir: string, name: string, indices: ReadonlySet<number>, out: string[]): void {
    const p = this.parseAny(name);
    if (p && p.hidden && indices.has(p.subtaskIndex)) out.push(join(dir, name));
  }

  /** Part files of `subtaskIndex` in `dir`, committed and hidden. */
  list(dir: string, subtaskIndex: number): (ParsedPartName & { fileName: string })[] {
    const out: (ParsedPartName & { fileName: string })[] = [];
    for (const e of readDirEntries(dir)) {
      const p = this.parse(e.name, subtaskIndex);
      if (p) out.push({ ...p, fileName: e.name });
    }
    return out;
  }

  /** The first part number after every part of `subtaskIndex` in `dir`: numbering never reuses a name. */
  nextPartNumber(dir: string, subtaskIndex: number): number {
    let max = -1;
    for (const p of this.list(dir, subtaskIndex)) if (p.partNumber > max) max = p.partNumber;
    return max + 1;
  }
}
