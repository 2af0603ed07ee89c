import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeEvent, decodeRecords, encodeEvent, encodeRecords } from '../../common/serialization.js';
import type { NetworkEvent } from '../../taskmanager/network/types.js';
import { mulberry32 } from '../reference/random.js';


function randomValue(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  const leaf = depth >= 3 || r < 0.55;
  if (leaf) {
    switch (Math.floor(rnd() * 9)) {
      case 0: return Math.floor(rnd() * 256);
      case 1: return Math.floor((rnd() - 0.5) * 2 ** 40);
      case 2: return (rnd() - 0.5) * 1e6;
      case 3: return null;
      case 4: return rnd() < 0.5;
      case 5: return 'k' + Math.floor(rnd() * 1000);
      case 6: return 'ünïcødé ✓ ' + String.fromCharCode(0x4e00 + Math.floor(rnd() * 100));
      case 7: return '';
      default: return Number.MAX_SAFE_INTEGER - Math.floor(rnd() * 10);
    }
  }
  if (r < 0.75) {
    const n = Math.floor(rnd() * 5);
    return Array.from({ length: n }, () => randomValue(rnd, depth + 1));
  }
  const obj: Record<string, unknown> = {};
  const shapes = [['key', 'value'], ['a', 'b', 'c'], ['word', 'count'], ['x']];
  const keys = rnd() < 0.7 ? shapes[Math.floor(rnd() * shapes.length)] : Array.from({ length: Math.floor(rnd() * 4) }, () => 'f' + Math.floor(rnd() * 50));
  for (const k of keys) obj[k] = randomValue(rnd, depth + 1);
  return obj;
}

describe('record serialization', () => {
  it('round-trips randomized values, with and without timestamps, decoded in any order', () => {
    const rnd = mulberry32(42);
    const buffers: { bytes: Uint8Array; values: unknown[]; timestamps: (number | undefined)[] | null }[] = [];
    for (let b = 0; b < 200; b++) {
      const n = 1 + Math.floor(rnd() * 300);
      const values = Array.from({ length: n }, () => randomValue(rnd));
      let timestamps: (number | undefined)[] | null = null;
      if (b % 2 === 1) timestamps = values.map(() => (rnd() < 0.2 ? undefined : 1_700_000_000_000 + Math.floor(rnd() * 1e6) + (rnd() < 0.1 ? 0.5 : 0)));
      buffers.push({ bytes: encodeRecords(values, timestamps), values, timestamps });
    }
    // Reverse order: no buffer may depend on structures defined in an earlier one.
    for (let i = buffers.length - 1; i >= 0; i--) {
      const { bytes, values, timestamps } = buffers[i];
      const decoded = decodeRecords(bytes);
      expect(decoded.values).toStrictEqual(values);
      expect(decoded.timestamps).toStrictEqual(timestamps);
    }
  });

  it('is self-contained: a fresh decoder reads a buffer written after many others', () => {
    for (let i = 0; i < 50; i++) encodeRecords([{ key: i, value: i }, { other: i }], null);
    const bytes = encodeRecords([{ key: 1, value: 2 }, { other: 3 }], null);
    expect(new Unpackr().unpack(bytes.subarray(1))).toStrictEqual([{ key: 1, value: 2 }, { other: 3 }]);
  });

  it('round-trips undefined values and undefined fields', () => {
    const values = [undefined, { key: 1, value: undefined }, [undefined, 1], null];
    const decoded = decodeRecords(encodeRecords(values, null));
    expect(decoded.values).toHaveLength(4);
    expect(decoded.values[0]).toBeUndefined();
    expect(Object.hasOwn(decoded.values[1] as object, 'value')).toBe(true);
    expect(decoded.values).toStrictEqual(values);
  });

  it('keeps small {key, value} records compact', () => {
    const values = Array.from({ length: 1000 }, (_, i) => ({ key: i % 100, value: i * 7 }));
    const bytes = encodeRecords(values, null);
    // Record definitions are written once per buffer, not once per record.
    expect(bytes.length).toBeLessThan(1000 * 10);
  });

  it('rejects malformed buffers with a clear error', () => {
    expect(() => decodeRecords(new Uint8Array(0))).toThrow(/empty buffer/);
    expect(() => decodeRecords(Uint8Array.of(7, 1, 2))).toThrow(/unknown buffer format/);
    expect(() => encodeRecords([1, 2], [1])).toThrow(/2 values but 1 timestamps/);
  });

  it('round-trips every network event kind', () => {
    const events: NetworkEvent[] = [
      { type: 'endOfPartition' },
      { type: 'watermark', timestamp: 1_700_000_000_123 },
      { type: 'barrier', checkpointId: 7, timestamp: 99, savepoint: true },
      { type: 'cancelBarrier', checkpointId: 8 },
      { type: 'idle', idle: true },
    ];
    for (const e of events) expect(decodeEvent(encodeEvent(e))).toStrictEqual(e);
  });
});
