// Names of a FileSink's part files: `<prefix>-<subtask>-<n><suffix>` once committed, the same
// name hidden as `.<name>.inprogress` while being written or waiting for its checkpoint.
import { readdirSync } from 'node:fs';

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

export class PartFileNaming {
  constructor(
    readonly partPrefix: string,
    readonly partSuffix: string,
  ) {}

  finalName(subtaskIndex: number, partNumber: number): string {
    return `${this.partPrefix}-${subtaskIndex}-${partNumber}${this.partSuffix}`;
  }

  /** The part number of `fileName` when it is a part (hidden or not) of `subtaskIndex`. */
  parse(fileName: string, subtaskIndex: number): ParsedPartName | undefined {
    const core = `${escapeRegExp(this.partPrefix)}-${subtaskIndex}-(\\d+)${escapeRegExp(this.partSuffix)}`;
    const m = new RegExp(`^(?:(${escapeRegExp(HIDDEN_PREFIX)})${core}${escapeRegExp(HIDDEN_SUFFIX)}|${core})$`).exec(fileName);
    if (!m) return undefined;
    const hidden = m[1] !== undefined;
    return { partNumber: Number(hidden ? m[2] : m[3]), hidden };
  }

  /** Part files of `subtaskIndex` in `dir`, committed and hidden. */
  list(dir: string, subtaskIndex: number): (ParsedPartName & { fileName: string })[] {
    const out: (ParsedPartName & { fileName: string })[] = [];
    for (const fileName of readdirSync(dir)) {
      const p = this.parse(fileName, subtaskIndex);
      if (p) out.push({ ...p, fileName });
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
