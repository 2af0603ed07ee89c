// Watermark alignment on a source subtask's side (Flink's FLIP-182 reader side): every update
// interval the subtask reports the watermark it last emitted, and whether it is idle, to the
// JobManager, which answers with the most its group may advance to, and pushes it a new limit
// while it is paused when the rest of the group moves. The source loop pauses reading while its
// watermark is past that limit; mail and checkpoints go on meanwhile.
// Subtasks of the group that run in this TaskManager also align on its board (alignment-board.ts),
// on their current watermarks: when the whole group runs here the board alone decides, and a
// paused subtask looks again every millisecond instead of waiting for the JobManager's answer.
import type { SourceWatermarkReport } from '../../common/control.js';
import type { WatermarkAlignmentConfig } from '../../common/jobgraph.js';
import type { AlignmentBoard } from './alignment-board.js';
import { MIN_WATERMARK } from './timer-service.js';
import { WakeSignal } from './wake-signal.js';

/** Sends a report; the task adds which execution it is. */
export type AlignmentReporter = (report: Omit<SourceWatermarkReport, 'executionId'>) => void;

/** The TaskManager's board and this subtask's group on it. */
export interface LocalAlignment {
  board: AlignmentBoard;
  groupKey: number;
  /** Source subtasks in the group, over every TaskManager. */
  members: number;
}

/** How often a subtask paused by the board looks at it again. */
const BOARD_POLL_MS = 1;

export class SourceWatermarkAlignment {
  private maxAllowed = Infinity;
  private sequence = 0;
  private watermark: () => number = () => -Infinity;
  private isIdle: () => boolean = () => false;
  /** What the last report said, and when it went. */
  private reported = { watermark: -Infinity, idle: false };
  private reportedAt = -Infinity;
  /** Whether the source loop last found it had to pause. */
  private paused = false;
  /** Whether the whole group was on the board when it last looked: the JobManager's limits do not count. */
  private boardDecides = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly answered = new WakeSignal();
  /** This subtask's cell on the board, while it runs (undefined: no board, or a full one). */
  private cell: number | undefined;
  private poll: NodeJS.Timeout | undefined;
  private ended = false;
  /** Marked idle by its watermark strategy: holds nobody back. */
  private idle = false;

  constructor(
    private readonly config: WatermarkAlignmentConfig,
    private readonly reporter: AlignmentReporter,
    private readonly local?: LocalAlignment,
  ) {}

  /**
   * Reports now, then whenever its watermark or idleness changed: at once when the last report is
   * an update interval old, else at the next tick of the interval. A subtask whose watermark moves
   * less often than the interval (every autoWatermarkInterval, for most sources) so reports each
   * move as it happens, and the JobManager pushes it on to the paused subtasks it held back; one
   * whose watermark moves all the time reports once per interval, as in Flink. A subtask reports at
   * once when it pauses (the JobManager pushes limits to paused subtasks only), and every interval
   * while paused, even unchanged, so a limit pushed to it and lost is answered again.
   */
  start(watermark: () => number, idle: () => boolean): void {
    this.idle = idle();
    if (this.local) this.cell = this.local.board.claim(this.local.groupKey, this.idle ? Infinity : watermark());
    this.watermark = watermark;
    this.isIdle = idle;
    this.report();
    this.timer = setInterval(() => {
      if (this.paused || this.changed()) this.report();
    }, this.config.updateInterval);
    this.timer.unref();
  }

  /** The subtask emitted a watermark. */
  watermarkEmitted(): void {
    if (this.timer !== undefined && performance.now() - this.reportedAt >= this.config.updateInterval && this.changed())
      this.report();
  }

  private changed(): boolean {
    return this.watermark() !== this.reported.watermark || this.isIdle() !== this.reported.idle;
  }

  private report(): void {
    this.reported = { watermark: this.watermark(), idle: this.isIdle() };
    this.reportedAt = performance.now();
    // Paused by the board alone, it needs no limits from the JobManager.
    const paused = this.paused && !this.boardDecides;
    this.reporter({ group: this.config.group, ...this.reported, maxDrift: this.config.maxDrift, paused });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.poll) clearTimeout(this.poll);
    this.poll = undefined;
    // A subtask that read all its input stays on the board, holding nobody back, so the rest of
    // its group still aligns there alone; the cell goes with its thread.
    if (this.cell !== undefined && !this.ended) this.local!.board.release(this.cell);
    this.cell = undefined;
    this.answered.signal();
  }

  /** The source read all its input (not stopped or canceled): it holds nobody back any more. */
  endOfInput(): void {
    if (this.cell === undefined) return;
    this.local!.board.publish(this.cell, Infinity);
    this.ended = true;
  }

  /**
   * The JobManager's limit, answered to a report or pushed; `sequence` orders the two, which travel
   * apart, so an older limit arriving late is ignored.
   */
  setMaxAllowedWatermark(limit: number, sequence = 0): void {
    if (sequence < this.sequence) return;
    this.sequence = sequence;
    this.maxAllowed = limit;
    this.answered.signal();
  }

  /** An idle subtask holds nobody on the board back; an active one holds them at its watermark. */
  idleChanged(idle: boolean, watermark: number): void {
    this.idle = idle;
    if (this.cell !== undefined) this.local!.board.publish(this.cell, idle ? Infinity : watermark);
    this.watermarkEmitted();
  }

  /** Whether a source that emitted `watermark` must wait before it reads on. */
  mustPause(watermark: number): boolean {
    const paused = this.pastLimit(watermark);
    const began = paused && !this.paused;
    this.paused = paused;
    // The JobManager pushes limits to paused subtasks only: it learns at once that this one waits,
    // unless the board alone decides (the whole group runs in this TaskManager).
    if (began && !this.boardDecides && this.timer !== undefined) this.report();
    return paused;
  }

  private pastLimit(watermark: number): boolean {
    if (this.cell === undefined) return watermark > this.maxAllowed;
    this.local!.board.publish(this.cell, this.idle ? Infinity : watermark);
    return watermark > this.groupLowest() + this.config.maxDrift;
  }

  /**
   * The group's lowest watermark as far as this subtask knows it: the board's (its own included),
   * and, while part of the group runs elsewhere, the JobManager's last limit less the drift.
   */
  private groupLowest(): number {
    const fromJobManager = this.maxAllowed - this.config.maxDrift;
    if (this.cell === undefined) return fromJobManager;
    const { board, groupKey, members } = this.local!;
    const here = board.lowest(groupKey);
    this.boardDecides = here.members >= members;
    return this.boardDecides ? here.watermark : Math.min(here.watermark, fromJobManager);
  }

  /**
   * Flink's watermarkAlignmentDrift: how far `watermark` is ahead of its group's lowest watermark, as
   * far as this subtask knows it (the board, and the JobManager's last limit); 0 for the lowest,
   * while another has emitted no watermark yet, and before it starts or once it stopped.
   */
  currentDrift(watermark: number): number {
    // Not reading any more (its final watermark is the maximum): it holds nobody and nothing holds it.
    if (this.timer === undefined) return 0;
    const lowest = this.groupLowest();
    // A subtask that has emitted no watermark yet (the minimum) leaves the drift unknown.
    if (lowest <= MIN_WATERMARK) return 0;
    const drift = watermark - lowest;
    return Number.isFinite(drift) && drift > 0 ? drift : 0;
  }

  /** Resolves at the next answer (or stop()), or, on a board, when it is time to look at it again. */
  nextAnswer(): Promise<void> {
    const wait = this.answered.wait();
    if (this.cell !== undefined)
      this.poll ??= setTimeout(() => {
        this.poll = undefined;
        this.answered.signal();
      }, BOARD_POLL_MS);
    return wait;
  }
}
