// The JDBC sink's SQL handling: placeholders outside quotes and comments, which statements become
// multi-row statements for a batch, and how values become literals.
import { describe, expect, it } from 'vitest';
import { multiRowStatements, parseSql, sqlLiteral } from '../../taskmanager/connectors/jdbc-sql.js';

/** A stand-in for the client's escaping: single quotes, doubled. */
const esc = (v: unknown) =>
  v instanceof Date
    ? `'${v.toISOString()}'`
    : Buffer.isBuffer(v)
      ? `X'${v.toString('hex')}'`
      : `'${String(v).replace(/'/g, "''")}'`;

describe('parseSql', () => {
  it('counts placeholders, skipping strings, quoted identifiers and comments', () => {
    expect(parseSql('INSERT INTO t (a, b) VALUES (?, ?)').parameterCount).toBe(2);
    expect(
      parseSql("UPDATE t SET a = ?, b = 'why?' WHERE `c?` = ? -- really?\n AND d = ? /* ? */ # ?").parameterCount,
    ).toBe(3);
    expect(parseSql("INSERT INTO t VALUES ('it''s ?', \"\\\"?\", ?)").parameterCount).toBe(1);
    expect(() => parseSql("INSERT INTO t VALUES ('open")).toThrow(/unterminated string/);
    expect(() => parseSql('INSERT INTO t VALUES (?')).toThrow(/unbalanced/);
  });

  it('rewrites a single-tuple INSERT or REPLACE, keeping ON DUPLICATE KEY UPDATE', () => {
    const p = parseSql('INSERT INTO counts (k, n) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = VALUES(n)');
    expect(p.multiRow).toEqual({
      prefix: 'INSERT INTO counts (k, n) VALUES ',
      tupleParts: ['(', ', ', ')'],
      suffix: ' ON DUPLICATE KEY UPDATE n = VALUES(n)',
    });
    expect(
      multiRowStatements(
        p.multiRow!,
        [
          ['a', 1],
          ["b'", 2n],
        ],
        esc,
      ),
    ).toEqual(["INSERT INTO counts (k, n) VALUES ('a', 1), ('b''', 2) ON DUPLICATE KEY UPDATE n = VALUES(n)"]);
    expect(parseSql('replace into t(a) value (?)').multiRow?.prefix).toBe('replace into t(a) value ');
    expect(parseSql('INSERT INTO t (a, b) VALUES (?, NOW())').multiRow?.tupleParts).toEqual(['(', ', NOW())']);
    expect(parseSql('INSERT INTO t (`values`) VALUES (?)').multiRow?.prefix).toBe('INSERT INTO t (`values`) VALUES ');
  });

  it('leaves statements it cannot rewrite alone', () => {
    // A placeholder after the tuple, two tuples, no VALUES, not an INSERT.
    expect(parseSql('INSERT INTO t (k, n) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = n + ?').multiRow).toBeUndefined();
    expect(parseSql('INSERT INTO t (a) VALUES (?), (?)').multiRow).toBeUndefined();
    expect(parseSql('INSERT INTO t SET a = ?').multiRow).toBeUndefined();
    expect(parseSql('INSERT INTO t (a) SELECT ? FROM dual').multiRow).toBeUndefined();
    expect(parseSql('UPDATE t SET a = ? WHERE id = ?').multiRow).toBeUndefined();
    expect(parseSql('DELETE FROM t WHERE id = ?').multiRow).toBeUndefined();
    expect(parseSql('INSERT INTO t (a) VALUES (1)').multiRow).toBeUndefined();
  });

  it('splits big batches into statements of at most maxRows rows', () => {
    const t = parseSql('INSERT INTO t (a) VALUES (?)').multiRow!;
    const rows = Array.from({ length: 5 }, (_, i) => [i]);
    expect(multiRowStatements(t, rows, esc, 2)).toEqual([
      'INSERT INTO t (a) VALUES (0), (1)',
      'INSERT INTO t (a) VALUES (2), (3)',
      'INSERT INTO t (a) VALUES (4)',
    ]);
    expect(multiRowStatements(t, rows, esc, 1000, 4)).toHaveLength(5);
    expect(multiRowStatements(t, rows, esc, 1000, 10)).toHaveLength(3);
  });
});

describe('sqlLiteral', () => {
  it('writes numbers, bigints, booleans and NULL itself and escapes the rest through the client', () => {
    expect(sqlLiteral(null, esc)).toBe('NULL');
    expect(sqlLiteral(undefined, esc)).toBe('NULL');
    expect(sqlLiteral(-1.5, esc)).toBe('-1.5');
    expect(sqlLiteral(12345678901234567890n, esc)).toBe('12345678901234567890');
    expect(sqlLiteral(true, esc)).toBe('TRUE');
    expect(sqlLiteral("o'k", esc)).toBe("'o''k'");
    expect(sqlLiteral(new Date(0), esc)).toBe("'1970-01-01T00:00:00.000Z'");
    expect(sqlLiteral(new Uint8Array([1, 255]), esc)).toBe("X'01ff'");
    expect(() => sqlLiteral(NaN, esc)).toThrow(/finite/);
    expect(() => sqlLiteral(new Date(NaN), esc)).toThrow(/invalid Date/);
    expect(() => sqlLiteral({}, esc)).toThrow(/Object/);
  });
});
