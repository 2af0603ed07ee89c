// The MessagePack items of a file, read in blocks. Each item's end is found first by walking its
// headers (no values built), so an item is decoded once, when all its bytes are there, and an item
// the caller does not want is passed over undecoded. msgpackr's stream decoder (decodeIter) instead
// tries an item that continues past the bytes read again with every block that arrives, decoding its
// start each time: an item spanning n blocks costs about n²/2 blocks of decoding, and a state file's
// chunks of 4 096 large values span many.
import { open } from 'node:fs/promises';
import { Unpackr, type Options } from 'msgpackr';

interface UnpackError extends Error {
  incomplete?: boolean;
}

/** An item that the file ends in the middle of. */
export class TruncatedItemError extends Error {
  readonly incomplete = true;
  constructor() {
    super('Unexpected end of MessagePack data');
  }
}

/** itemEnd: the bytes end inside the item. */
export const INCOMPLETE = -1;
/** itemEnd: an extension whose length the walk cannot know (it may be followed by its data). */
export const UNKNOWN = -2;

/**
 * Where the MessagePack item at `at` ends (exclusive), walking headers only; INCOMPLETE when it
 * continues past `end`, UNKNOWN at an extension type other than msgpackr's self-contained ones
 * (timestamps, undefined, bigint), which msgpackr may follow with another item.
 */
export function itemEnd(src: Uint8Array, at: number, end: number): number {
  let p = at;
  let remaining = 1;
  while (remaining > 0) {
    if (p >= end) return INCOMPLETE;
    const t = src[p]!;
    remaining--;
    if (t < 0x80 || t >= 0xe0 || t === 0xc0 || t === 0xc1 || t === 0xc2 || t === 0xc3) p += 1;
    else if (t < 0x90) {
      remaining += 2 * (t & 0x0f);
      p += 1;
    } else if (t < 0xa0) {
      remaining += t & 0x0f;
      p += 1;
    } else if (t < 0xc0) p += 1 + (t & 0x1f);
    else {
      switch (t) {
        case 0xc4:
        case 0xd9:
          if (p + 2 > end) return INCOMPLETE;
          p += 2 + src[p + 1]!;
          break;
        case 0xc5:
        case 0xda:
          if (p + 3 > end) return INCOMPLETE;
          p += 3 + ((src[p + 1]! << 8) | src[p + 2]!);
          break;
        case 0xc6:
        case 0xdb:
          if (p + 5 > end) return INCOMPLETE;
          p += 5 + readUint32(src, p + 1);
          break;
        case 0xc7:
        case 0xc8:
        case 0xc9: {
          const head = t === 0xc7 ? 2 : t === 0xc8 ? 3 : 5;
          if (p + head + 1 > end) return INCOMPLETE;
          const length =
            t === 0xc7 ? src[p + 1]! : t === 0xc8 ? (src[p + 1]! << 8) | src[p + 2]! : readUint32(src, p + 1);
          if (!selfContained(src[p + head]!)) return UNKNOWN;
          p += head + 1 + length;
          break;
        }
        case 0xca:
          p += 5;
          break;
        case 0xcb:
          p += 9;
          break;
        case 0xcc:
        case 0xd0:
          p += 2;
          break;
        case 0xcd:
        case 0xd1:
          p += 3;
          break;
        case 0xce:
        case 0xd2:
          p += 5;
          break;
        case 0xcf:
        case 0xd3:
          p += 9;
          break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          if (p + 2 > end) return INCOMPLETE;
          if (!selfContained(src[p + 1]!)) return UNKNOWN;
          p += 2 + (1 << (t - 0xd4));
          break;
        case 0xdc:
        case 0xde:
          if (p + 3 > end) return INCOMPLETE;
          remaining += ((src[p + 1]! << 8) | src[p + 2]!) * (t === 0xde ? 2 : 1);
          p += 3;
          break;
        case 0xdd:
        case 0xdf:
          if (p + 5 > end) return INCOMPLETE;
          remaining += readUint32(src, p + 1) * (t === 0xdf ? 2 : 1);
          p += 5;
          break;
        default:
          return UNKNOWN;
      }
    }
  }
  return p <= end ? p : INCOMPLETE;
}

function readUint32(src: Uint8Array, at: number): number {
  return src[at]! * 0x1000000 + ((src[at + 1]! << 16) | (src[at + 2]! << 8) | src[at + 3]!);
}

/** Extension types msgpackr writes as one item: timestamps (-1), undefined (0), bigint (0x42). */
function selfContained(type: number): boolean {
  return type === 0xff || type === 0x00 || type === 0x42;
}

/**
 * Yields the items of `path` in order, reading `blockBytes` (or what an item needs) at a time into
 * one buffer that is used again for the next items (binary values are decoded as copies, never as
 * views of it). Items for which `skip(bytes, start, end)` is true are not decoded. Decoding errors are
 * msgpackr's; a file ending inside an item throws TruncatedItemError.
 */
export async function* readMsgpackItems(
  path: string,
  blockBytes: number,
  options: Options,
  skip?: (src: Uint8Array, at: number, end: number) => boolean,
): AsyncGenerator<unknown> {
  const unpackr = new Unpackr({ ...options, copyBuffers: true });
  const fh = await open(path, 'r');
  try {
    // Fresh memory costs page faults, so the bytes go to the same buffer each time: it holds the
    // start of an item the bytes so far end inside of, then what is read after it.
    let buffer = Buffer.allocUnsafe(2 * blockBytes);
    let filled = 0;
    let need = 0;
    let atEnd = false;
    while (!atEnd) {
      const want = Math.max(blockBytes, need - filled);
      if (buffer.length < filled + want) {
        const grown = Buffer.allocUnsafe(Math.max(2 * buffer.length, filled + want));
        buffer.copy(grown, 0, 0, filled);
        buffer = grown;
      }
      const { bytesRead } = await fh.read(buffer, filled, want, null);
      filled += bytesRead;
      atEnd = bytesRead === 0;
      if (!atEnd && filled < need) continue;
      let p = 0;
      while (p < filled) {
        let e = itemEnd(buffer, p, filled);
        if (e === INCOMPLETE) break;
        let value: unknown;
        if (e === UNKNOWN) {
          // Decoded to find where it ends; msgpackr says when its bytes are not all there yet.
          try {
            unpackr.unpackMultiple(buffer.subarray(p, filled), (v: unknown, _start?: number, stop?: number) => {
              value = v;
              e = p + stop!;
              return false;
            });
          } catch (err) {
            if ((err as UnpackError).incomplete) break;
            throw err;
          }
        } else if (skip?.(buffer, p, e)) {
          p = e;
          continue;
        } else value = unpackr.unpack(buffer.subarray(p, e));
        p = e;
        yield value;
      }
      // What is left is the start of an item: kept, and tried again once it has doubled.
      buffer.copyWithin(0, p, filled);
      filled -= p;
      need = 2 * filled;
      if (atEnd && filled > 0) throw new TruncatedItemError();
    }
  } finally {
    await fh.close();
  }
}
