// Watermark alignment within one TaskManager, without the JobManager's round trip: the slot
// threads share a board (a SharedArrayBuffer the TaskManager makes at start) with a cell per aligned
// source subtask running here: its group, the thread that owns it, and its last watermark. A source
// reads its group's lowest watermark off the board each time it checks whether to pause, so a
// subtask ahead of another of this TaskManager pauses and resumes on what that one emitted just
// now, not on the report the JobManager last had. The JobManager still aligns the group across
// TaskManagers. A thread that ends, however it ends, has its cells cleared by the main thread.

/** Cells on a board: aligned source subtasks one TaskManager can run at once (more align through the JobManager only). */
export const BOARD_CELLS = 256;

/** A new board for one TaskManager's slot threads. */
export function createAlignmentBoard(): SharedArrayBuffer {
  // owners, keys, watermarks, then the count of cells ever claimed (a bound for scans).
  const sab = new SharedArrayBuffer(BOARD_CELLS * (4 + 4 + 8) + 8);
  new Float64Array(sab, BOARD_CELLS * 8, BOARD_CELLS).fill(Infinity);
  return sab;
}

/** A 32-bit key for a job attempt's alignment group, never 0 (a free cell's key). */
export function alignmentGroupKey(jobId: string, attempt: number, group: string): number {
  let h = 0x811c9dc5;
  const s = `${jobId}\u0000${attempt}\u0000${group}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 1;
}

export class AlignmentBoard {
  /** Per cell: the thread that claimed it (0: free). */
  private readonly owners: Int32Array;
  /** Per cell: its group's key (0: none yet, or released). */
  private readonly keys: Int32Array;
  private readonly watermarks: Float64Array;
  /** [0]: one past the highest cell ever claimed; cells are claimed lowest first, so scans stop there. */
  private readonly used: Int32Array;

  /** `owner`: this thread's tag on the cells it claims (positive, unique per thread). */
  constructor(
    sab: SharedArrayBuffer,
    private readonly owner: number,
  ) {
    this.owners = new Int32Array(sab, 0, BOARD_CELLS);
    this.keys = new Int32Array(sab, BOARD_CELLS * 4, BOARD_CELLS);
    this.watermarks = new Float64Array(sab, BOARD_CELLS * 8, BOARD_CELLS);
    this.used = new Int32Array(sab, BOARD_CELLS * 16, 1);
  }

  /**
   * A cell for a subtask of `groupKey` starting at `watermark`, or undefined when the board is
   * full. The watermark is set before the key, so whoever sees the key sees it.
   */
  claim(groupKey: number, watermark: number): number | undefined {
    for (let i = 0; i < BOARD_CELLS; i++) {
      if (Atomics.compareExchange(this.owners, i, 0, this.owner) !== 0) continue;
      this.watermarks[i] = watermark;
      // Raised before the key is set, so a reader that sees the key scans far enough.
      for (let u = Atomics.load(this.used, 0); u <= i; u = Atomics.load(this.used, 0))
        Atomics.compareExchange(this.used, 0, u, i + 1);
      Atomics.store(this.keys, i, groupKey);
      return i;
    }
    return undefined;
  }

  /** The subtask's watermark; Infinity while it holds nobody back (idle). */
  publish(cell: number, watermark: number): void {
    this.watermarks[cell] = watermark;
  }

  /** Frees a cell this thread claimed. */
  release(cell: number): void {
    Atomics.store(this.keys, cell, 0);
    this.watermarks[cell] = Infinity;
    Atomics.store(this.owners, cell, 0);
  }

  /** The lowest watermark of the group's subtasks on the board, and how many there are. */
  lowest(groupKey: number): { watermark: number; members: number } {
    let watermark = Infinity;
    let members = 0;
    const used = Atomics.load(this.used, 0);
    for (let i = 0; i < used; i++) {
      if (Atomics.load(this.keys, i) !== groupKey) continue;
      members++;
      const w = this.watermarks[i]!;
      if (w < watermark) watermark = w;
    }
    return { watermark, members };
  }

  /** Frees every cell of a thread that ended (the main thread calls this when a slot thread exits). */
  static clearOwner(sab: SharedArrayBuffer, owner: number): void {
    const board = new AlignmentBoard(sab, owner);
    for (let i = 0; i < BOARD_CELLS; i++) if (Atomics.load(board.owners, i) === owner) board.release(i);
  }
}
