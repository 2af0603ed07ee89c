// Keys of keyed state compare by value, as Flink compares serialized keys: primitives stand for
// themselves as Map keys, structured keys (arrays, objects) by their JSON text behind a NUL mark.
// Strings that start with NUL are marked too, so they cannot collide with structured keys.

const MARK = '\u0000';

/** The Map key standing for `key`: equal keys (by value) give the same normalized key. */
export function normalizeKey(key: unknown): unknown {
  switch (typeof key) {
    case 'object':
      return key === null ? null : MARK + JSON.stringify(key);
    case 'string':
      return key.length > 0 && key.charCodeAt(0) === 0 ? MARK + JSON.stringify(key) : key;
    case 'number': {
      // -0 and 0 are one key. An integer computed as a double (`h >>> 0`, a division) is the same
      // key as its int32: as an int32 the Map hashes and compares it without a heap number.
      const int = key | 0;
      return int === key ? int : key;
    }
    default:
      return key;
  }
}

/** The key a normalized key stands for (structured keys come back as equal, new objects). */
export function denormalizeKey(normalized: unknown): unknown {
  if (typeof normalized === 'string' && normalized.length > 0 && normalized.charCodeAt(0) === 0) {
    return JSON.parse(normalized.slice(1)) as unknown;
  }
  return normalized;
}

/** A short printable form of a key for error messages. */
export function describeKey(key: unknown): string {
  let text: string;
  try {
    text =
      typeof key === 'string'
        ? JSON.stringify(key)
        : typeof key === 'bigint'
          ? `${key}n`
          : String(JSON.stringify(key) ?? key);
  } catch {
    text = String(key);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
