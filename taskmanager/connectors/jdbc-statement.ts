// Runs a JdbcSink's statement builder on a record and returns the statement's parameters: the
// builder either calls the PreparedStatement-like setters (1-based indices) or returns an array.
import type { JdbcPreparedStatement, JdbcStatementBuilder } from '../../api/jdbc-sink.js';

const UNSET = Symbol('unset');

function toDate(v: Date | number, what: string): Date {
  const d = typeof v === 'number' ? new Date(v) : v;
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new TypeError(`${what}: expected a Date or epoch milliseconds, got ${String(v)}`);
  return d;
}

/** Collects the parameters one record sets (Flink's PreparedStatement, as far as a sink needs it). */
export class ParameterCollector implements JdbcPreparedStatement {
  private values: unknown[];

  constructor(readonly parameterCount: number) {
    this.values = new Array<unknown>(parameterCount).fill(UNSET);
  }

  private set(method: string, index: number, value: unknown): void {
    if (!Number.isInteger(index) || index < 1 || index > this.parameterCount) {
      throw new RangeError(
        `${method}(${String(index)}, ...): parameter index out of range, the statement has ${this.parameterCount} parameter${this.parameterCount === 1 ? '' : 's'} (indices start at 1)`,
      );
    }
    this.values[index - 1] = value;
  }

  private integer(method: string, index: number, x: number | null, min: number, max: number): void {
    if (x !== null && (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max))
      throw new TypeError(`${method}(${index}, ${String(x)}): not an integer in [${min}, ${max}]`);
    this.set(method, index, x);
  }

  setString(i: number, x: string | null): void {
    if (x !== null && typeof x !== 'string')
      throw new TypeError(`setString(${i}, ...): expected a string, got ${typeof x}`);
    this.set('setString', i, x);
  }

  setInt(i: number, x: number | null): void {
    this.integer('setInt', i, x, -2147483648, 2147483647);
  }

  setShort(i: number, x: number | null): void {
    this.integer('setShort', i, x, -32768, 32767);
  }

  setLong(i: number, x: number | bigint | null): void {
    if (typeof x === 'bigint') {
      if (x < -(1n << 63n) || x >= 1n << 63n) throw new RangeError(`setLong(${i}, ${x}): out of the 64-bit range`);
      this.set('setLong', i, x);
      return;
    }
    this.integer('setLong', i, x, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  setDouble(i: number, x: number | null): void {
    if (x !== null && (typeof x !== 'number' || !Number.isFinite(x)))
      throw new TypeError(`setDouble(${i}, ${String(x)}): expected a finite number`);
    this.set('setDouble', i, x);
  }

  setFloat(i: number, x: number | null): void {
    if (x !== null && (typeof x !== 'number' || !Number.isFinite(x)))
      throw new TypeError(`setFloat(${i}, ${String(x)}): expected a finite number`);
    this.set('setFloat', i, x === null ? null : Math.fround(x));
  }

  setBigDecimal(i: number, x: string | number | bigint | null): void {
    if (typeof x === 'string' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(x.trim()))
      throw new TypeError(`setBigDecimal(${i}, '${x}'): not a decimal number`);
    if (typeof x === 'number' && !Number.isFinite(x))
      throw new TypeError(`setBigDecimal(${i}, ${x}): expected a finite number`);
    // A decimal string goes as a string literal; the server converts it without losing digits.
    this.set('setBigDecimal', i, typeof x === 'string' ? x.trim() : x);
  }

  setBoolean(i: number, x: boolean | null): void {
    if (x !== null && typeof x !== 'boolean')
      throw new TypeError(`setBoolean(${i}, ...): expected a boolean, got ${typeof x}`);
    this.set('setBoolean', i, x);
  }

  setTimestamp(i: number, x: Date | number | null): void {
    this.set('setTimestamp', i, x === null ? null : toDate(x, `setTimestamp(${i}, ...)`));
  }

  setDate(i: number, x: Date | number | string | null): void {
    if (typeof x === 'string') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(x)) throw new TypeError(`setDate(${i}, '${x}'): expected 'YYYY-MM-DD'`);
      this.set('setDate', i, x);
      return;
    }
    this.set('setDate', i, x === null ? null : toDate(x, `setDate(${i}, ...)`));
  }

  setBytes(i: number, x: Uint8Array | null): void {
    if (x !== null && !(x instanceof Uint8Array))
      throw new TypeError(`setBytes(${i}, ...): expected a Uint8Array or Buffer`);
    this.set('setBytes', i, x);
  }

  setNull(i: number, _sqlType?: number): void {
    this.set('setNull', i, null);
  }

  setObject(i: number, x: unknown): void {
    this.set('setObject', i, normalizeValue(x, `setObject(${i}, ...)`));
  }

  clearParameters(): void {
    this.values = new Array<unknown>(this.parameterCount).fill(UNSET);
  }

  /** The parameters in placeholder order; throws naming the first one not set. */
  take(): unknown[] {
    const v = this.values;
    for (let i = 0; i < v.length; i++)
      if (v[i] === UNSET) throw new Error(`no value specified for parameter ${i + 1} (the statement has ${v.length})`);
    this.values = new Array<unknown>(this.parameterCount).fill(UNSET);
    return v;
  }
}

/** A value from an array-returning builder or setObject, as the batch executor writes it. */
export function normalizeValue(x: unknown, what: string): unknown {
  if (x === undefined || x === null) return null;
  switch (typeof x) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return x;
    case 'number':
      if (!Number.isFinite(x)) throw new TypeError(`${what}: ${x} cannot be written (only finite numbers)`);
      return x;
    case 'object':
      if (x instanceof Date) {
        if (Number.isNaN(x.getTime())) throw new TypeError(`${what}: an invalid Date cannot be written`);
        return x;
      }
      if (x instanceof Uint8Array) return x;
      // Plain objects and arrays go as JSON text (a JSON column).
      return JSON.stringify(x);
    default:
      throw new TypeError(`${what}: a ${typeof x} cannot be written`);
  }
}

/** Turns records into parameter rows with the sink's statement builder. */
export class StatementParameters<T> {
  private readonly collector: ParameterCollector;
  private readonly build: (statement: JdbcPreparedStatement, record: T) => unknown;

  constructor(
    builder: JdbcStatementBuilder<T>,
    readonly parameterCount: number,
  ) {
    this.collector = new ParameterCollector(parameterCount);
    if (typeof builder === 'function') this.build = builder;
    else if (builder && typeof builder.accept === 'function') this.build = (s, r) => builder.accept(s, r);
    else
      throw new TypeError(
        'the statement builder must be a function (statement, record) => void or an object with accept(statement, record)',
      );
  }

  /** The record's parameters in placeholder order. */
  of(record: T): unknown[] {
    const c = this.collector;
    let returned: unknown;
    try {
      returned = this.build(c, record);
    } catch (e) {
      c.clearParameters();
      throw e;
    }
    if (Array.isArray(returned)) {
      c.clearParameters();
      if (returned.length !== this.parameterCount) {
        throw new RangeError(
          `the statement builder returned ${returned.length} parameter${returned.length === 1 ? '' : 's'}, the statement has ${this.parameterCount} placeholder${this.parameterCount === 1 ? '' : 's'}`,
        );
      }
      return returned.map((v, i) => normalizeValue(v, `parameter ${i + 1}`));
    }
    if (returned !== undefined) {
      c.clearParameters();
      throw new TypeError(
        `the statement builder must call the statement's setters or return an array of parameters, not a ${typeof returned}`,
      );
    }
    return c.take();
  }
}
