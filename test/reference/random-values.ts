// Random record values for codec tests: JSON-like trees of a few shapes (randomValue), and trees
// with what JSON cannot hold (jsonLike: -0, bigints, Dates, Maps, holes, lone surrogates, ...).

export function randomValue(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  const leaf = depth >= 3 || r < 0.55;
  if (leaf) {
    switch (Math.floor(rnd() * 9)) {
      case 0:
        return Math.floor(rnd() * 256);
      case 1:
        return Math.floor((rnd() - 0.5) * 2 ** 40);
      case 2:
        return (rnd() - 0.5) * 1e6;
      case 3:
        return null;
      case 4:
        return rnd() < 0.5;
      case 5:
        return 'k' + Math.floor(rnd() * 1000);
      case 6:
        return 'ünïcødé ✓ ' + String.fromCharCode(0x4e00 + Math.floor(rnd() * 100));
      case 7:
        return '';
      default:
        return Number.MAX_SAFE_INTEGER - Math.floor(rnd() * 10);
    }
  }
  if (r < 0.75) {
    const n = Math.floor(rnd() * 5);
    return Array.from({ length: n }, () => randomValue(rnd, depth + 1));
  }
  const obj: Record<string, unknown> = {};
  const shapes = [['key', 'value'], ['a', 'b', 'c'], ['word', 'count'], ['x']];
  const keys =
    rnd() < 0.7
      ? shapes[Math.floor(rnd() * shapes.length)]
      : Array.from({ length: Math.floor(rnd() * 4) }, () => 'f' + Math.floor(rnd() * 50));
  for (const k of keys) obj[k] = randomValue(rnd, depth + 1);
  return obj;
}

/** Values JSON cannot hold, and what msgpack changed or refused. */
function specialValue(rnd: () => number): unknown {
  switch (Math.floor(rnd() * 16)) {
    case 0:
      return undefined;
    case 1:
      return -0;
    case 2:
      return [NaN, Infinity, -Infinity][Math.floor(rnd() * 3)];
    case 3:
      return new Date(1_700_000_000_000 + Math.floor(rnd() * 1e9));
    case 4:
      return BigInt(Math.floor((rnd() - 0.5) * 2 ** 52));
    case 5:
      return (rnd() < 0.5 ? -1n : 1n) * (2n ** BigInt(60 + Math.floor(rnd() * 200)) + BigInt(Math.floor(rnd() * 1e9)));
    case 6:
      return 'pair 😀 𝄞 ' + String.fromCodePoint(0x10000 + Math.floor(rnd() * 0xfffff));
    case 7:
      return rnd() < 0.5 ? 'lone \ud800 high' : '\udc00' + 'x'.repeat(Math.floor(rnd() * 100));
    case 8:
      return Uint8Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
    case 9:
      return new Map<unknown, unknown>([
        [Math.floor(rnd() * 10), 'a'],
        ['k', { x: -0 }],
      ]);
    case 10:
      return new Set<unknown>([1, 'two', undefined, 3n]);
    case 11:
      return [[[1, [undefined]], []], [[-0]]];
    case 12:
      return 'long ' + 'é✓😀'.repeat(20 + Math.floor(rnd() * 300));
    case 13:
      return rnd() * 2 ** 70;
    case 14:
      return '\ufeffbom';
    default:
      return 2 ** 31 + Math.floor(rnd() * 1000);
  }
}

export function jsonLike(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  if (depth >= 4 || r < 0.5) return rnd() < 0.4 ? specialValue(rnd) : randomValue(rnd, 3);
  if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 6) }, () => jsonLike(rnd, depth + 1));
  const obj: Record<string, unknown> = {};
  const shapes = [
    ['key', 'value'],
    ['key', 'value', 'count'],
    ['a', 'b'],
    ['0', 'x', '1'],
    ['__proto__', 'y'],
  ];
  // Sometimes more keys than a shape takes (64), with leaves only, so the values stay small.
  const wide = rnd() >= 0.8;
  const keys = wide
    ? Array.from({ length: Math.floor(rnd() * 80) }, () => 'f' + Math.floor(rnd() * 500))
    : shapes[Math.floor(rnd() * shapes.length)];
  for (const k of keys)
    Object.defineProperty(obj, k, {
      value: wide ? specialValue(rnd) : jsonLike(rnd, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return obj;
}

/** A class instance: it travels as a plain object of its own fields. */
export class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
