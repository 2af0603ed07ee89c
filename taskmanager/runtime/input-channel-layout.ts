// How the channels of a task's input gates are numbered. Watermarks are tracked per logical input
// (a two-input operator sees each input's own watermark), so each logical input numbers the
// channels of its gates from 0; barrier alignment numbers the channels over all gates.

export class InputChannelLayout {
  /** Logical input (0 or 1) of each gate: the watermark valve its channels feed. */
  readonly inputOfGate: number[] = [];
  /** Each gate's first channel within its logical input. */
  readonly offsetInInput: number[] = [];
  /** Number of channels of each logical input. */
  readonly channelsPerInput: number[];
  /** Each gate's first channel over all gates (barrier alignment's numbering). */
  readonly offsetOverall: number[] = [];
  readonly totalChannels: number;

  /**
   * `gateInputs`: the logical input of each gate, used only when `numInputs` is 2 (with one input
   * every gate feeds input 0).
   */
  constructor(gates: readonly { numChannels: number }[], gateInputs: readonly number[], numInputs: 1 | 2) {
    this.channelsPerInput = new Array<number>(numInputs).fill(0);
    gates.forEach((g, i) => {
      const v = numInputs === 2 ? (gateInputs[i] ?? 0) : 0;
      this.inputOfGate.push(v);
      this.offsetInInput.push(this.channelsPerInput[v]!);
      this.channelsPerInput[v]! += g.numChannels;
    });
    let totalChannels = 0;
    for (const g of gates) {
      this.offsetOverall.push(totalChannels);
      totalChannels += g.numChannels;
    }
    this.totalChannels = totalChannels;
  }

  /** The gate and its channel of channel `global` (numbered over all gates). */
  locate(global: number): [number, number] {
    const offsets = this.offsetOverall;
    let g = offsets.length - 1;
    while (offsets[g]! > global) g--;
    return [g, global - offsets[g]!];
  }
}
