// Statement builders: the PreparedStatement-like setters (1-based), or an array of parameters.
import { describe, expect, it } from 'vitest';
import type { JdbcPreparedStatement } from '../../api/jdbc-sink.js';
import { ParameterCollector, StatementParameters } from '../../taskmanager/connectors/jdbc-statement.js';

type R = { id: number; name: string | null; at: number; big: bigint; ok: boolean };
const rec: R = { id: 7, name: 'x', at: 86_400_000, big: 2n ** 62n, ok: true };

describe('statement builders', () => {
  it('collect what the setters set, in placeholder order', () => {
    const p = new StatementParameters<R>((ps, r) => {
      ps.setLong(5, r.big);
      ps.setInt(1, r.id);
      ps.setString(2, r.name);
      ps.setTimestamp(3, r.at);
      ps.setBoolean(4, r.ok);
    }, 5);
    expect(p.of(rec)).toEqual([7, 'x', new Date(86_400_000), true, 2n ** 62n]);
    // The collector starts empty for every record.
    expect(p.of({ ...rec, id: 8, name: null })).toEqual([8, null, new Date(86_400_000), true, 2n ** 62n]);
  });

  it('accept an array of parameters instead, or an object with accept()', () => {
    const arr = new StatementParameters<R>((_ps, r) => [r.id, r.name, undefined, { a: 1 }], 4);
    expect(arr.of(rec)).toEqual([7, 'x', null, '{"a":1}']);
    const obj = new StatementParameters<R>(
      { accept: (ps: JdbcPreparedStatement, r: R) => ps.setDouble(1, r.id / 2) },
      1,
    );
    expect(obj.of(rec)).toEqual([3.5]);
  });

  it('name what is wrong', () => {
    expect(() => new StatementParameters<R>((ps, r) => ps.setInt(1, r.id), 2).of(rec)).toThrow(
      'no value specified for parameter 2 (the statement has 2)',
    );
    expect(() => new StatementParameters<R>((ps, r) => ps.setInt(3, r.id), 2).of(rec)).toThrow(
      /setInt\(3, \.\.\.\): parameter index out of range, the statement has 2 parameters/,
    );
    expect(() => new StatementParameters<R>((ps) => ps.setInt(0, 1), 1).of(rec)).toThrow(/indices start at 1/);
    expect(() => new StatementParameters<R>(() => [1, 2, 3], 2).of(rec)).toThrow(
      'the statement builder returned 3 parameters, the statement has 2 placeholders',
    );
    expect(() => new StatementParameters<R>((() => 'x') as never, 1).of(rec)).toThrow(/setters or return an array/);
    expect(() => new StatementParameters<R>(42 as never, 1)).toThrow(/statement builder/);
    // A failed record leaves nothing behind for the next.
    let n = 0;
    const p = new StatementParameters<R>((ps) => {
      ps.setInt(1, 1);
      if (n++ === 0) throw new Error('boom');
      ps.setInt(2, 2);
    }, 2);
    expect(() => p.of(rec)).toThrow('boom');
    expect(p.of(rec)).toEqual([1, 2]);
  });
});

describe('setters', () => {
  const c = () => new ParameterCollector(1);
  it('check their values', () => {
    expect(() => c().setInt(1, 2 ** 31)).toThrow(/not an integer in/);
    expect(() => c().setInt(1, 1.5)).toThrow(/not an integer/);
    expect(() => c().setShort(1, 40000)).toThrow(/not an integer/);
    expect(() => c().setLong(1, 2n ** 63n)).toThrow(/64-bit/);
    expect(() => c().setDouble(1, Infinity)).toThrow(/finite/);
    expect(() => c().setTimestamp(1, new Date(NaN))).toThrow(/Date/);
    expect(() => c().setDate(1, '2024-1-1')).toThrow(/YYYY-MM-DD/);
    expect(() => c().setBigDecimal(1, '1e')).toThrow(/not a decimal/);
    expect(() => c().setString(1, 5 as never)).toThrow(/expected a string/);
    expect(() => c().setObject(1, Symbol('s'))).toThrow(/symbol/);
  });

  it('store what they are given', () => {
    const take = (f: (p: ParameterCollector) => void) => {
      const p = c();
      f(p);
      return p.take()[0];
    };
    expect(take((p) => p.setNull(1, 12))).toBeNull();
    expect(take((p) => p.setBigDecimal(1, ' 12.50 '))).toBe('12.50');
    expect(take((p) => p.setFloat(1, 0.1))).toBe(Math.fround(0.1));
    expect(take((p) => p.setDate(1, '2024-06-11'))).toBe('2024-06-11');
    expect(take((p) => p.setBytes(1, Buffer.from('ab')))).toEqual(Buffer.from('ab'));
    expect(take((p) => p.setObject(1, [1, 2]))).toBe('[1,2]');
    expect(take((p) => p.setLong(1, Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });
});
