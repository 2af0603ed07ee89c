// sum/min/max/minBy/maxBy on a KeyedStream as reduce functions, with Flink's semantics:
// sum, min and max keep the other fields of the key's first record and only update the field;
// minBy and maxBy keep the whole record holding the extreme value, the earlier one on ties.

export type AggregationKind = 'sum' | 'min' | 'max' | 'minBy' | 'maxBy';

/** A property name or an array index; 0 on a stream of plain numbers means the number itself. */
export type FieldExpression = string | number;

export function checkField(field: unknown, api: string): FieldExpression {
  if (typeof field === 'string' && field.length > 0) return field;
  if (typeof field === 'number' && Number.isInteger(field) && field >= 0) return field;
  throw new TypeError(`${api}() needs a property name or a non-negative array index, got ${String(field)}`);
}

function isScalar(v: unknown): boolean {
  return v === null || (typeof v !== 'object' && typeof v !== 'function');
}

function getField(record: unknown, field: FieldExpression, api: string): unknown {
  if (isScalar(record)) {
    if (field === 0) return record;
    throw new TypeError(`${api}(${JSON.stringify(field)}): record ${String(record)} has no fields`);
  }
  const v = (record as Record<string | number, unknown>)[field];
  if (v === undefined)
    throw new TypeError(`${api}(${JSON.stringify(field)}): record has no field ${JSON.stringify(field)}`);
  return v;
}

/** A copy with one field replaced; the input is never mutated, since the runtime may keep it as state. */
function withField<T>(record: T, field: FieldExpression, value: unknown): T {
  if (isScalar(record)) return value as T;
  if (Array.isArray(record)) {
    const copy = record.slice();
    copy[field as number] = value;
    return copy as T;
  }
  const copy = Object.assign(Object.create(Object.getPrototypeOf(record) as object | null) as object, record) as Record<
    string | number,
    unknown
  >;
  copy[field] = value;
  return copy as T;
}

function add(a: unknown, b: unknown, api: string): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a + b;
  throw new TypeError(`${api}(): cannot add ${typeof a} and ${typeof b}`);
}

/** Negative, zero or positive like a comparator; numbers, bigints and strings, not mixed. */
function compare(a: unknown, b: unknown, api: string): number {
  const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'bigint';
  if (!((numeric(a) && numeric(b)) || (typeof a === 'string' && typeof b === 'string'))) {
    throw new TypeError(`${api}(): cannot compare ${typeof a} and ${typeof b}`);
  }
  const x = a as number | bigint | string;
  const y = b as number | bigint | string;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function aggregationReduce<T>(kind: AggregationKind, field: FieldExpression): (a: T, b: T) => T {
  switch (kind) {
    case 'sum':
      return (a, b) => withField(a, field, add(getField(a, field, kind), getField(b, field, kind), kind));
    case 'min':
    case 'max': {
      const sign = kind === 'min' ? 1 : -1;
      return (a, b) => {
        const x = getField(a, field, kind);
        const y = getField(b, field, kind);
        return sign * compare(x, y, kind) <= 0 ? a : withField(a, field, y);
      };
    }
    case 'minBy':
    case 'maxBy': {
      const sign = kind === 'minBy' ? 1 : -1;
      return (a, b) => (sign * compare(getField(a, field, kind), getField(b, field, kind), kind) <= 0 ? a : b);
    }
  }
}
