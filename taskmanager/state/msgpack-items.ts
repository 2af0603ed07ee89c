// The MessagePack items of a file, read in blocks. msgpackr's stream decoder (decodeIter) tries an
// item that continues past the bytes read again with every block that arrives, decoding its start
// each time: an item spanning n blocks costs about n²/2 blocks of decoding, and a state file's
// chunks of 4 096 large values span many. Here an incomplete item is tried again only once the
// bytes held for it have doubled (or reach what its header said is missing), so the bytes decoded
// in vain stay below twice the item's size, and an item within one block is decoded once.
import { open } from 'node:fs/promises';
import { Unpackr, type Options } from 'msgpackr';

interface UnpackError extends Error {
  incomplete?: boolean;
  /** Where the item that failed began. */
  lastPosition?: number;
  /** The items before it. */
  values?: unknown[];
  /** Bytes past the end that its header says it needs, at least. */
  missingBytes?: number;
}

/** An item that the file ends in the middle of. */
export class TruncatedItemError extends Error {
  readonly incomplete = true;
  constructor() {
    super('Unexpected end of MessagePack data');
  }
}

/**
 * Yields the items of `path` in order, reading `blockBytes` (or what an item needs) at a time into one buffer that is used
 * again for the next items (binary values are decoded as copies, never as views of it). Decoding
 * errors are msgpackr's; a file ending inside an item throws TruncatedItemError.
 */
export async function* readMsgpackItems(path: string, blockBytes: number, options: Options): AsyncGenerator<unknown> {
  const unpackr = new Unpackr({ ...options, copyBuffers: true });
  const fh = await open(path, 'r');
  try {
    // Fresh memory costs page faults, so the bytes go to the same buffer each time: it holds the
    // start of an item the bytes so far end inside of, then what is read after it.
    let buffer = Buffer.allocUnsafe(2 * blockBytes);
    let filled = 0;
    let need = 0;
    for (;;) {
      // What an incomplete item still needs is read at once.
      const want = Math.max(blockBytes, need - filled);
      if (buffer.length < filled + want) {
        const grown = Buffer.allocUnsafe(Math.max(2 * buffer.length, filled + want));
        buffer.copy(grown, 0, 0, filled);
        buffer = grown;
      }
      const { bytesRead } = await fh.read(buffer, filled, want, null);
      filled += bytesRead;
      if (bytesRead > 0 && filled < need) continue;
      // At the end, what is held is tried whatever its size.
      if (filled === 0) return;
      const source = buffer.subarray(0, filled);
      let values: unknown[];
      try {
        values = unpackr.unpackMultiple(source) as unknown[];
        filled = 0;
        need = 0;
      } catch (e) {
        const err = e as UnpackError;
        for (const v of err.values ?? []) yield v;
        if (!err.incomplete) throw e;
        if (bytesRead === 0) throw new TruncatedItemError();
        const start = err.lastPosition ?? 0;
        buffer.copyWithin(0, start, filled);
        filled -= start;
        need = Math.max(filled + (err.missingBytes ?? 1), 2 * filled);
        continue;
      }
      for (const v of values) yield v;
    }
  } finally {
    await fh.close();
  }
}
