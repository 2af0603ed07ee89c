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

export function copyRecord(v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      copiedBytes = (copiedBytes + 5) | 0;
      return v;
    case 'string':
      copiedBytes = (copiedBytes + v.length + 2) | 0;
      return v;
    case 'object':
      if (v === null) {
        copiedBytes = (copiedBytes + 1) | 0;
        return null;
      }
      // Strings, numbers and bigints are immutable, so only objects are copied.
      return (v as { constructor?: unknown }).constructor === Object ? copyFields(v, false) : copyObject(v);
    case 'boolean':
      copiedBytes = (copiedBytes + 1) | 0;
      return v;
    case 'bigint':
      copiedBytes = (copiedBytes + 10) | 0;
      return v;
    default:
      // undefined, and what has no data form (functions, symbols)
      copiedBytes = (copiedBytes + 1) | 0;
      return undefined;
  }
}

/**
 * An object's fields into a plain object, walking the key trie the codec writes shapes with, so
 * the copy takes the keys the codec would (`checkOwn` for other than plain objects, whose
 * prototypes may have enumerable fields) and, once the shape repeats, the decoder's hidden class.
 */
function copyFields(o: object, checkOwn: boolean): Record<string, unknown> {
  copiedBytes = (copiedBytes + 2) | 0;
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
  if (t === 'number') copiedBytes = (copiedBytes + 7) | 0;
  else if (t === 'string') copiedBytes = (copiedBytes + (x as string).length + 4) | 0;
  else if (t === 'object' || t === 'function' || t === 'symbol') return copyRecord(x);
  else copiedBytes = (copiedBytes + 3) | 0;
  return x;
}

function copyObject(o: object): unknown {
  if (Array.isArray(o)) return copyArray(o);
  if (o instanceof Date) {
    copiedBytes = (copiedBytes + 9) | 0;
    return new Date(o.getTime());
  }
  if (o instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of o) m.set(copyRecord(k), copyRecord(v));
    copiedBytes = (copiedBytes + 2) | 0;
    return m;
  }
  if (o instanceof Set) {
    const s = new Set<unknown>();
    for (const v of o) s.add(copyRecord(v));
    copiedBytes = (copiedBytes + 2) | 0;
    return s;
  }
  if (ArrayBuffer.isView(o) && !(o instanceof DataView)) {
    if (Buffer.isBuffer(o)) {
      copiedBytes = (copiedBytes + o.byteLength + 3) | 0;
      return Buffer.from(o);
    }
    if (TYPED_KINDS.includes(o.constructor as TypedArrayConstructor)) {
      copiedBytes = (copiedBytes + o.byteLength + 3) | 0;
      return (o as unknown as Uint8Array).slice();
    }
    return copyFields(o, true);
  }
  if (o instanceof ArrayBuffer) {
    copiedBytes = (copiedBytes + o.byteLength + 3) | 0;
    return o.slice(0);
  }
  if (o instanceof RegExp) {
    copiedBytes = (copiedBytes + o.source.length + 4) | 0;
    return new RegExp(o.source, o.flags);
  }
  if (o instanceof Error) {
    const stack = copyRecord(o.stack);
    copiedBytes = (copiedBytes + 4) | 0;
    return reviveError(String(o.name), String(o.message), stack);
  }
  return copyFields(o, true);
}

function copyArray(a: unknown[]): unknown[] {
  const n = a.length;
  const c = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v === undefined && !(i in a)) copiedBytes = (copiedBytes + 1) | 0;
    else c[i] = copyRecord(v);
  }
  copiedBytes = (copiedBytes + 3) | 0;
  return c;
}
