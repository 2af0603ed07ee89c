// Flink's StatusWatermarkValve: a task's input watermark is the minimum over its input channels,
// leaving out idle channels, and it only ever moves forward. A channel that comes back from idle
// takes part again once its watermark has caught up with the task's.
import { MIN_WATERMARK } from './timer-service.js';

export class StatusWatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private readonly aligned: boolean[];
  private lastOutput = MIN_WATERMARK;
  private outputIdle = false;

  constructor(
    numChannels: number,
    private readonly onWatermark: (watermark: number) => void,
    private readonly onIdleChange: (idle: boolean) => void,
  ) {
    this.watermarks = new Array<number>(numChannels).fill(MIN_WATERMARK);
    this.idle = new Array<boolean>(numChannels).fill(false);
    this.aligned = new Array<boolean>(numChannels).fill(true);
  }

  get currentWatermark(): number {
    return this.lastOutput;
  }

  inputWatermark(channel: number, watermark: number): void {
    // A watermark is a sign of life: the channel is active again.
    const wasIdle = this.idle[channel]!;
    if (wasIdle) this.setChannelIdle(channel, false);
    if (watermark <= this.watermarks[channel]!) {
      if (wasIdle) this.advance();
      return;
    }
    this.watermarks[channel] = watermark;
    if (!this.aligned[channel] && watermark >= this.lastOutput) this.aligned[channel] = true;
    this.advance();
  }

  inputIdle(channel: number, idle: boolean): void {
    if (this.idle[channel] === idle) return;
    this.setChannelIdle(channel, idle);
    this.advance();
  }

  private setChannelIdle(channel: number, idle: boolean): void {
    this.idle[channel] = idle;
    if (!idle) this.aligned[channel] = this.watermarks[channel]! >= this.lastOutput;
  }

  private advance(): void {
    let min = Infinity;
    let anyActive = false;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (this.idle[i] || !this.aligned[i]) continue;
      anyActive = true;
      if (this.watermarks[i]! < min) min = this.watermarks[i]!;
    }
    const allIdle = this.idle.every((x) => x);
    if (allIdle !== this.outputIdle) {
      this.outputIdle = allIdle;
      this.onIdleChange(allIdle);
    }
    if (anyActive && min > this.lastOutput) {
      this.lastOutput = min;
      this.onWatermark(min);
    }
  }
}
