// The schema machinery: a message is a list of fields, each with the versions it exists in, as in
// Apache Kafka's JSON message definitions (clients/src/main/resources/common/message/*.json).
// One definition gives both the encoder and the decoder of every version; flexible versions use
// compact strings, arrays and bytes and carry tagged fields at the end of every struct.
import { Reader, Writer } from './io.js';

export type PrimitiveType =
  'int8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'float64' | 'bool' | 'string' | 'bytes' | 'records' | 'uuid';

/**
 * A field. `type` is a primitive, `[]<primitive>` (an array of it), `[]` (an array of structs
 * with `fields`) or `{}` (a struct with `fields`). Versions are written as in Kafka: '0+', '3-7'.
 */
export interface FieldSpec {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  /** Tagged field (flexible versions only): its tag and the versions in which it is tagged. */
  tag?: number;
  taggedVersions?: string;
  default?: unknown;
  fields?: FieldSpec[];
}

export interface VersionRange {
  min: number;
  max: number;
}

export function parseVersions(v: string | undefined): VersionRange {
  if (v === undefined || v === 'none') return { min: 1, max: 0 };
  if (v.endsWith('+')) return { min: Number(v.slice(0, -1)), max: Number.MAX_SAFE_INTEGER };
  const dash = v.indexOf('-');
  if (dash > 0) return { min: Number(v.slice(0, dash)), max: Number(v.slice(dash + 1)) };
  const n = Number(v);
  return { min: n, max: n };
}

function inRange(r: VersionRange, version: number): boolean {
  return version >= r.min && version <= r.max;
}

/** A field compiled for one version. */
interface Step {
  name: string;
  kind: 'prim' | 'array' | 'struct';
  prim?: PrimitiveType;
  /** For kind 'array': element primitive, or element struct steps. */
  elem?: PrimitiveType;
  sub?: CompiledStruct;
  present: boolean;
  nullable: boolean;
  tag: number | undefined;
  def: unknown;
  spec: FieldSpec;
}

export interface CompiledStruct {
  steps: Step[];
  tagged: Step[];
  flexible: boolean;
}

const PRIMS = new Set([
  'int8',
  'int16',
  'uint16',
  'int32',
  'int64',
  'float64',
  'bool',
  'string',
  'bytes',
  'records',
  'uuid',
]);

function typeDefault(spec: FieldSpec, kind: Step['kind'], prim: PrimitiveType | undefined, nullable: boolean): unknown {
  if (spec.default !== undefined) return spec.default;
  if (kind === 'array') return nullable ? null : [];
  if (kind === 'struct') return undefined; // filled from the struct's own defaults
  switch (prim) {
    case 'bool':
      return false;
    case 'string':
      return nullable ? null : '';
    case 'bytes':
      return nullable ? null : Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function compileStruct(fields: FieldSpec[], version: number, flexible: boolean): CompiledStruct {
  const steps: Step[] = [];
  const tagged: Step[] = [];
  for (const spec of fields) {
    let kind: Step['kind'];
    let prim: PrimitiveType | undefined;
    let elem: PrimitiveType | undefined;
    if (spec.type === '[]') kind = 'array';
    else if (spec.type === '{}') kind = 'struct';
    else if (spec.type.startsWith('[]')) {
      kind = 'array';
      const e = spec.type.slice(2);
      if (!PRIMS.has(e)) throw new Error(`field ${spec.name}: unknown element type ${e}`);
      elem = e as PrimitiveType;
    } else {
      if (!PRIMS.has(spec.type)) throw new Error(`field ${spec.name}: unknown type ${spec.type}`);
      kind = 'prim';
      prim = spec.type as PrimitiveType;
    }
    const present = inRange(parseVersions(spec.versions), version);
    const nullable = inRange(parseVersions(spec.nullableVersions), version);
    const isTagged =
      flexible && spec.tag !== undefined && inRange(parseVersions(spec.taggedVersions ?? spec.versions), version);
    const sub =
      spec.fields && (kind === 'struct' || (kind === 'array' && !elem))
        ? compileStruct(spec.fields, version, flexible)
        : undefined;
    const step: Step = {
      name: spec.name,
      kind,
      prim,
      elem,
      sub,
      present,
      nullable,
      tag: isTagged ? spec.tag : undefined,
      def: undefined,
      spec,
    };
    step.def = typeDefault(spec, kind, prim, nullable);
    if (isTagged) tagged.push(step);
    else steps.push(step);
  }
  tagged.sort((a, b) => a.tag! - b.tag!);
  return { steps, tagged, flexible };
}

// ---------------------------------------------------------------------------------------------
// Encoding

function writeString(w: Writer, s: string | null | undefined, nullable: boolean, compact: boolean, name: string): void {
  if (s === null || s === undefined) {
    if (nullable) {
      if (compact) w.uvarint(0);
      else w.int16(-1);
      return;
    }
    if (s === null) throw new TypeError(`field ${name} is not nullable`);
    s = '';
  }
  const len = Buffer.byteLength(s, 'utf8');
  if (compact) w.uvarint(len + 1);
  else {
    if (len > 32767) throw new RangeError(`field ${name}: string longer than 32767 bytes`);
    w.int16(len);
  }
  w.utf8(s, len);
}

function writeBytes(
  w: Writer,
  b: Uint8Array | null | undefined,
  nullable: boolean,
  compact: boolean,
  name: string,
): void {
  if (b === null || b === undefined) {
    if (nullable) {
      if (compact) w.uvarint(0);
      else w.int32(-1);
      return;
    }
    if (b === null) throw new TypeError(`field ${name} is not nullable`);
    b = Buffer.alloc(0);
  }
  if (compact) w.uvarint(b.length + 1);
  else w.int32(b.length);
  w.raw(b);
}

function writeUuid(w: Writer, v: string): void {
  const b = Buffer.from(v, 'base64url');
  if (b.length !== 16) throw new TypeError(`invalid uuid ${v}`);
  w.raw(b);
}

function writePrim(
  w: Writer,
  prim: PrimitiveType,
  v: unknown,
  nullable: boolean,
  compact: boolean,
  name: string,
): void {
  switch (prim) {
    case 'int8':
      return w.int8(Number(v ?? 0));
    case 'int16':
      return w.int16(Number(v ?? 0));
    case 'uint16':
      return w.uint16(Number(v ?? 0));
    case 'int32':
      return w.int32(Number(v ?? 0));
    case 'int64':
      return w.int64(Number(v ?? 0));
    case 'float64':
      return w.float64(Number(v ?? 0));
    case 'bool':
      return w.bool(Boolean(v));
    case 'string':
      return writeString(w, v as string | null | undefined, nullable, compact, name);
    case 'bytes':
    case 'records':
      return writeBytes(
        w,
        typeof v === 'string' ? Buffer.from(v) : (v as Uint8Array | null | undefined),
        nullable || prim === 'records',
        compact,
        name,
      );
    case 'uuid':
      return writeUuid(w, (v as string | undefined) ?? ZERO_UUID);
  }
}

function writeArrayLength(w: Writer, n: number | null, compact: boolean): void {
  if (n === null) {
    if (compact) w.uvarint(0);
    else w.int32(-1);
  } else if (compact) w.uvarint(n + 1);
  else w.int32(n);
}

function writeValue(w: Writer, step: Step, v: unknown, compact: boolean): void {
  if (step.kind === 'prim')
    return writePrim(w, step.prim!, v === undefined ? step.def : v, step.nullable, compact, step.name);
  if (step.kind === 'struct') {
    if (v === null && step.nullable) {
      w.int8(-1);
      return;
    }
    if (step.nullable) w.int8(1);
    return encodeStruct(w, step.sub!, (v ?? {}) as Record<string, unknown>);
  }
  // array
  let arr = v === undefined ? step.def : v;
  if (arr === null) {
    if (!step.nullable) arr = [];
    else return writeArrayLength(w, null, compact);
  }
  const items = arr as unknown[];
  if (!Array.isArray(items)) throw new TypeError(`field ${step.name} must be an array`);
  writeArrayLength(w, items.length, compact);
  if (step.elem) for (const item of items) writePrim(w, step.elem, item, false, compact, step.name);
  else for (const item of items) encodeStruct(w, step.sub!, (item ?? {}) as Record<string, unknown>);
}

function isDefault(step: Step, v: unknown): boolean {
  if (v === undefined) return true;
  if (step.kind === 'array') return Array.isArray(v) ? v.length === 0 && step.def !== null : v === step.def;
  if (step.kind === 'struct') return v === null || v === undefined;
  return v === step.def;
}

export function encodeStruct(w: Writer, s: CompiledStruct, obj: Record<string, unknown>): void {
  for (const step of s.steps) {
    if (!step.present) continue;
    writeValue(w, step, obj[step.name], s.flexible);
  }
  if (!s.flexible) return;
  const present = s.tagged.filter((t) => t.present && !isDefault(t, obj[t.name]));
  w.uvarint(present.length);
  for (const t of present) {
    const tw = new Writer(64);
    writeValue(tw, t, obj[t.name], true);
    const bytes = tw.finish();
    w.uvarint(t.tag!);
    w.uvarint(bytes.length);
    w.raw(bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

function readString(r: Reader, nullable: boolean, compact: boolean, name: string): string | null {
  const len = compact ? r.uvarint() - 1 : r.int16();
  if (len < 0) {
    if (!nullable) throw new RangeError(`null in non-nullable field ${name}`);
    return null;
  }
  return r.utf8(len);
}

function readBytes(r: Reader, nullable: boolean, compact: boolean, name: string): Buffer | null {
  const len = compact ? r.uvarint() - 1 : r.int32();
  if (len < 0) {
    if (!nullable) throw new RangeError(`null in non-nullable field ${name}`);
    return null;
  }
  return r.bytes(len);
}

function readPrim(r: Reader, prim: PrimitiveType, nullable: boolean, compact: boolean, name: string): unknown {
  switch (prim) {
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'uint16':
      return r.uint16();
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'float64':
      return r.float64();
    case 'bool':
      return r.bool();
    case 'string':
      return readString(r, nullable, compact, name);
    case 'bytes':
      return readBytes(r, nullable, compact, name);
    case 'records':
      return readBytes(r, true, compact, name);
    case 'uuid':
      return r.bytes(16).toString('base64url');
  }
}

function readValue(r: Reader, step: Step, compact: boolean): unknown {
  if (step.kind === 'prim') return readPrim(r, step.prim!, step.nullable, compact, step.name);
  if (step.kind === 'struct') {
    if (step.nullable && r.int8() < 0) return null;
    return decodeStruct(r, step.sub!);
  }
  const n = compact ? r.uvarint() - 1 : r.int32();
  if (n < 0) {
    if (!step.nullable) throw new RangeError(`null array in non-nullable field ${step.name}`);
    return null;
  }
  if (n > r.remaining()) throw new RangeError(`array ${step.name} of ${n} elements exceeds the message`);
  const out = new Array(n);
  if (step.elem) for (let i = 0; i < n; i++) out[i] = readPrim(r, step.elem, false, compact, step.name);
  else for (let i = 0; i < n; i++) out[i] = decodeStruct(r, step.sub!);
  return out;
}

function defaultOf(step: Step): unknown {
  if (step.kind === 'struct') return step.nullable && step.spec.default === null ? null : defaults(step.sub!);
  if (Array.isArray(step.def)) return [];
  if (Buffer.isBuffer(step.def)) return Buffer.alloc(0);
  return step.def;
}

function defaults(s: CompiledStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const step of s.steps) out[step.name] = defaultOf(step);
  for (const step of s.tagged) out[step.name] = defaultOf(step);
  return out;
}

export function decodeStruct(r: Reader, s: CompiledStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const step of s.steps) out[step.name] = step.present ? readValue(r, step, s.flexible) : defaultOf(step);
  if (!s.flexible) return out;
  for (const t of s.tagged) out[t.name] = defaultOf(t);
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    const end = r.pos + size;
    const t = s.tagged.find((x) => x.tag === tag);
    if (t) {
      const sub = new Reader(r.buf, r.pos, end);
      out[t.name] = readValue(sub, t, true);
    }
    r.bytes(size); // unknown tags are skipped
    r.pos = end;
  }
  return out;
}
