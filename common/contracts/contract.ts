// What the JSON payloads inside protobuf envelopes (deployment descriptors, checkpoint acks) are
// checked with: one ajv instance, each schema compiled once, on its first check, and one message per
// refusal that names the field path (ajv's instancePath) and the problem, so a version skew between
// the JobManager and a TaskManager, or a bug on either side, fails where it crosses the wire.
// Compiling on first use spares every process the schemas it never checks (a TaskManager checks
// descriptors, not acknowledgements): compiling them all took 80-160 ms of each start.
import { Ajv, type ErrorObject, type JSONSchemaType, type SchemaObject } from 'ajv';
import { lazyValidator, type Validator } from './lazy-validator.js';

// discriminator: operator descriptors and their configs are tagged unions; with it ajv checks only
// the branch the tag names, so errors come from that branch instead of from every branch of a oneOf.
// allErrors off: the first problem is enough and the check stops early.
let contractAjv: Ajv | undefined;
/** Schemas registered but not yet added: they are added when the first contract compiles. */
const pendingSchemas: [id: string, schema: SchemaObject][] = [];

function ajv(): Ajv {
  if (contractAjv === undefined) {
    contractAjv = new Ajv({ discriminator: true, strict: true, allowUnionTypes: true });
    for (const [id, schema] of pendingSchemas) contractAjv.addSchema(nullOnlyWhereTyped(schema), id);
    pendingSchemas.length = 0;
  }
  return contractAjv;
}

/** A schema of one member of a union, checked by JSONSchemaType against that member. */
export type UnionBranchSchema<U> = U extends unknown ? JSONSchemaType<U> : never;

/**
 * A union of objects tagged by `tag` (ajv's discriminator). JSONSchemaType cannot check a oneOf of
 * object types itself, so each branch is checked against its member of the union instead; places
 * that hold such a union refer to it by `$ref` (see `registerContractSchema`).
 */
export function taggedUnionSchema<U>(tag: keyof U & string, branches: readonly UnionBranchSchema<U>[]): SchemaObject {
  return { type: 'object', discriminator: { propertyName: tag }, oneOf: branches };
}

/** Adds a schema other schemas refer to as { $ref: id }. */
export function registerContractSchema(id: string, schema: SchemaObject): { $ref: string } {
  if (contractAjv === undefined) pendingSchemas.push([id, schema]);
  else contractAjv.addSchema(nullOnlyWhereTyped(schema), id);
  return { $ref: id };
}

/** A top-level contract schema's check, compiled on its first call. */
export function compileContract<T>(schema: JSONSchemaType<T>): Validator<T> {
  return lazyValidator(() => ajv().compile<T>(nullOnlyWhereTyped(schema)));
}

/**
 * JSONSchemaType wants `nullable: true` on optional properties (JSON has no undefined), which would
 * let null through where the TypeScript type has none. JSON.stringify drops undefined, so an
 * optional field is either absent or set: this takes that `nullable` off again before compiling.
 * Nulls the types allow (`X | null`) are spelled as anyOf with { type: 'null' } and stay.
 */
function nullOnlyWhereTyped(schema: SchemaObject): SchemaObject {
  const walk = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(walk);
    if (s === null || typeof s !== 'object') return s;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) out[k] = k === 'enum' || k === 'const' ? v : walk(v);
    const props = out['properties'] as Record<string, Record<string, unknown>> | undefined;
    if (props && typeof props === 'object') {
      const required = new Set(Array.isArray(out['required']) ? (out['required'] as string[]) : []);
      for (const [name, p] of Object.entries(props)) {
        if (required.has(name) || p['nullable'] !== true) continue;
        const { nullable: _, ...rest } = p;
        props[name] = rest;
      }
    }
    return out;
  };
  return walk(schema) as SchemaObject;
}

/** A payload that does not match its contract; the message names the first problem's path. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
}

/** "/inputGates/0/channels: must be array" (the root is "/"). */
export function describeContractError(e: ErrorObject): string {
  const path = e.instancePath || '/';
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required') return `${e.instancePath}/${String(p['missingProperty'])}: is required`;
  if (e.keyword === 'discriminator') {
    const tagPath = `${e.instancePath}/${String(p['tag'])}`;
    return p['error'] === 'mapping'
      ? `${tagPath}: unknown value ${JSON.stringify(p['tagValue'])}`
      : `${tagPath}: must be a string`;
  }
  if (e.keyword === 'enum')
    return `${path}: must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'const') return `${path}: must be ${JSON.stringify(p['allowedValue'])}`;
  return `${path}: ${e.message ?? e.keyword}`;
}

/** Parses `json` and checks it against `validate`; throws ContractError "<what>: <path>: <problem>". */
export function parseContract<T>(json: string, validate: Validator<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new ContractError(`${what}: not JSON (${(e as Error).message})`);
  }
  return checkContract(value, validate, what);
}

/** Checks an already parsed value (see parseContract). */
export function checkContract<T>(value: unknown, validate: Validator<T>, what: string): T {
  if (validate(value)) return value;
  const first = validate.errors?.[0];
  throw new ContractError(`${what}: ${first ? describeContractError(first) : 'does not match its schema'}`);
}
