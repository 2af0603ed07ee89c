// Copies a record as a trip through the network buffers would (common/serialization.ts), without
// the bytes: what a consumer on the same thread receives must not depend on where the scheduler
// put it, and later changes to the emitted object must not reach it. The copy is exactly what
// decodeRecords(encodeRecords([v])) gives: plain objects of their enumerable string-keyed fields
// (class instances of their own ones), in the decoder's hidden class, functions and symbols as
// undefined, holes kept, Dates, Maps, Sets, typed arrays, RegExps and Errors rebuilt.
//
// Each copy also adds an estimate of its serialized size to `copiedBytes` (a running total), so
// a batch of copies is finished at about the size of a network buffer.
import {
  compileCopier,
  defineField,
  fieldShape,
  reviveError,
  shapeKeys,
  TYPED_KINDS,
  type TypedArrayConstructor,
} from './serialization.js';

/**
 * Estimated serialized bytes of everything copied so far in this thread, modulo 2^32 as an int32:
 * only differences are read, and a module variable past 2^31 would become a boxed double that every
 * copy of a long-running job reallocates.
 */
export let copiedBytes = 0;

function count(bytes: number): void {
  copiedBytes = (copiedBytes + bytes) | 0;
}

export function copyRecord(v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      count(5);
      return v;
    case 'string':
      count(v.length + 2);
      return v;
    case 'object':
      if (v === null) {
        count(1);
        return null;
      }
      // Strings, numbers and bigints are immutable, so only objects are copied.
      return (v as { constructor?: unknown }).constructor === Object ? copyFields(v, false) : copyObject(v);
    case 'boolean':
      count(1);
      return v;
    case 'bigint':
      count(10);
      return v;
    default:
      // undefined, and what has no data form (functions, symbols)
      count(1);
      return undefined;
  }
}

/**
 * An object's fields into a plain object, walking the key trie the codec writes shapes with, so
 * the copy takes the keys the codec would (`checkOwn` for other than plain objects, whose
 * prototypes may have enumerable fields) and, once the shape repeats, the decoder's hidden class.
 */
function copyFields(o: object, checkOwn: boolean): Record<string, unknown> {
  count(2);
  const node = fieldShape(o, checkOwn);
  if (node === null) return copyDictionary(o as Record<string, unknown>, Object.keys(o));
  const copier = node.copier;
  if (copier !== null) return copier(o as Record<string, unknown>, copyField);
  if (++node.copies < 2) return copyDictionary(o as Record<string, unknown>, shapeKeys(node));
  return (node.copier = compileCopier(shapeKeys(node)))(o as Record<string, unknown>, copyField);
}

/** Field by field, as the decoder builds an object it has no shape for. */
function copyDictionary(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  for (const k of keys) defineField(c, k, copyField(o[k]));
  return c;
}

/** One field's value: copyRecord, with the size estimate of a field for what is not copied. */
function copyField(x: unknown): unknown {
  const t = typeof x;
  if (t === 'number') count(7);
  else if (t === 'string') count((x as string).length + 4);
  else if (t === 'object' || t === 'function' || t === 'symbol') return copyRecord(x);
  else count(3);
  return x;
}

function copyObject(o: object): unknown {
  if (Array.isArray(o)) return copyArray(o);
  if (o instanceof Date) {
    count(9);
    return new Date(o.getTime());
  }
  if (o instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of o) m.set(copyRecord(k), copyRecord(v));
    count(2);
    return m;
  }
  if (o instanceof Set) {
    const s = new Set<unknown>();
    for (const v of o) s.add(copyRecord(v));
    count(2);
    return s;
  }
  if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
    if (Buffer.isBuffer(o)) {
      count(o.byteLength + 3);
      return Buffer.from(o);
    }
    if (TYPED_KINDS.includes(o.constructor as TypedArrayConstructor)) {
      count(o.byteLength + 3);
      return (o as unknown as Uint8Array).slice();
    }
    return copyFields(o, true);
  }
  if (o instanceof ArrayBuffer) {
    count(o.byteLength + 3);
    return o.slice(0);
  }
  if (o instanceof RegExp) {
    count(o.source.length + 4);
    return new RegExp(o.source, o.flags);
  }
  if (o instanceof Error) {
    const stack = copyRecord(o.stack);
    count(4);
    return reviveError(String(o.name), String(o.message), stack);
  }
  return copyFields(o, true);
}

function copyArray(a: unknown[]): unknown[] {
  const n = a.length;
  const c = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v === undefined && !(i in a)) count(1);
    else c[i] = copyRecord(v);
  }
  count(3);
  return c;
}
