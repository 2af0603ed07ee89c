// Splits a TCP byte stream into Kafka frames (a 4-byte size, then that many bytes).

export const MAX_FRAME_BYTES = 100 * 1024 * 1024; // Kafka's socket.request.max.bytes

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Adds bytes; returns the complete frames, each including its 4-byte size. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const size = this.peekSize();
        if (size < 0 || size > this.maxFrameBytes) throw new RangeError(`invalid frame size ${size}`);
        this.need = size + 4;
      }
      if (this.buffered < this.need) break;
      out.push(this.take(this.need));
      this.need = -1;
    }
    return out;
  }

  private peekSize(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.readInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let frame: Buffer;
    if (first.length >= n) {
      frame = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      frame = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return frame;
  }
}
