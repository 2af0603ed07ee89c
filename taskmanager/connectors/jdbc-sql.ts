// The JDBC sink's SQL: where the `?` placeholders are (outside quotes and comments), and whether
// an INSERT/REPLACE ... VALUES (...) statement can be rewritten into one multi-row statement for a
// batch (as Connector/J's rewriteBatchedStatements). A multi-row statement is an order of magnitude
// faster than a transaction of single-row executes (see the measurement in the JDBC sink notes).

export interface ParsedSql {
  readonly sql: string;
  /** Number of `?` placeholders. */
  readonly parameterCount: number;
  /** Set when a batch can be one statement: `prefix (row), (row), ... suffix`. */
  readonly multiRow: MultiRowTemplate | undefined;
}

export interface MultiRowTemplate {
  /** The statement up to the VALUES tuple (including `VALUES `). */
  readonly prefix: string;
  /** The tuple's text around its placeholders: parts.length === parameterCount + 1. */
  readonly tupleParts: readonly string[];
  /** Everything after the tuple (ON DUPLICATE KEY UPDATE ...); has no placeholders. */
  readonly suffix: string;
}

/** Positions of the `?` placeholders, and of `(`/`)` and words at the top level, skipping quotes and comments. */
interface Scan {
  placeholders: number[];
  /** Start offsets of words (identifiers, keywords) outside quotes and comments. */
  words: { start: number; end: number; depth: number }[];
  /** For each `(` outside quotes: its offset, the matching `)` offset, and its depth. */
  parens: { open: number; close: number; depth: number }[];
}

function scan(sql: string): Scan {
  const placeholders: number[] = [];
  const words: Scan['words'] = [];
  const parens: Scan['parens'] = [];
  const stack: number[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      // Quoted string or identifier: a doubled quote or (not in identifiers) a backslash escapes.
      i++;
      while (i < n) {
        const d = sql[i]!;
        if (d === '\\' && c !== '`') {
          i += 2;
          continue;
        }
        if (d === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      if (i >= n) throw new SyntaxError(`unterminated ${c === '`' ? 'quoted identifier' : 'string'} in SQL: ${sql}`);
      i++;
      continue;
    }
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]!)))) {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new SyntaxError(`unterminated comment in SQL: ${sql}`);
      i = end + 2;
      continue;
    }
    if (c === '?') {
      placeholders.push(i);
      i++;
      continue;
    }
    if (c === '(') {
      stack.push(parens.length);
      parens.push({ open: i, close: -1, depth: stack.length - 1 });
      i++;
      continue;
    }
    if (c === ')') {
      const top = stack.pop();
      if (top === undefined) throw new SyntaxError(`unbalanced ')' in SQL: ${sql}`);
      parens[top]!.close = i;
      i++;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      words.push({ start, end: i, depth: stack.length });
      continue;
    }
    i++;
  }
  if (stack.length > 0) throw new SyntaxError(`unbalanced '(' in SQL: ${sql}`);
  return { placeholders, words, parens };
}

/**
 * Parses `sql`. Throws a SyntaxError for unterminated quotes or comments and unbalanced
 * parentheses; everything else is the database's to judge.
 */
export function parseSql(sql: string): ParsedSql {
  const s = scan(sql);
  return { sql, parameterCount: s.placeholders.length, multiRow: multiRowTemplate(sql, s) };
}

function multiRowTemplate(sql: string, s: Scan): MultiRowTemplate | undefined {
  if (s.placeholders.length === 0) return undefined;
  const first = s.words[0];
  if (!first) return undefined;
  const verb = sql.slice(first.start, first.end).toUpperCase();
  if (verb !== 'INSERT' && verb !== 'REPLACE') return undefined;
  // The first top-level VALUES/VALUE keyword; VALUES(col) inside ON DUPLICATE KEY UPDATE comes later.
  const kw = s.words.find((w) => w.depth === 0 && /^VALUES?$/i.test(sql.slice(w.start, w.end)));
  if (!kw) return undefined;
  const tuple = s.parens.find((p) => p.depth === 0 && p.open >= kw.end);
  if (!tuple || sql.slice(kw.end, tuple.open).trim() !== '') return undefined;
  // All placeholders inside the one tuple; a second tuple (`VALUES (?), (?)`) or a `?` after it is not rewritten.
  if (s.placeholders.some((p) => p < tuple.open || p > tuple.close)) return undefined;
  const rest = sql.slice(tuple.close + 1);
  if (/^\s*,/.test(rest)) return undefined;
  const tupleParts: string[] = [];
  let from = tuple.open;
  for (const p of s.placeholders) {
    tupleParts.push(sql.slice(from, p));
    from = p + 1;
  }
  tupleParts.push(sql.slice(from, tuple.close + 1));
  return { prefix: sql.slice(0, tuple.open), tupleParts, suffix: rest };
}

/** Turns one value into a SQL literal; strings, dates and bytes go through the client's escaping. */
export function sqlLiteral(v: unknown, escape: (v: unknown) => string): string {
  if (v === null || v === undefined) return 'NULL';
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} to SQL (only finite numbers)`);
      return String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'TRUE' : 'FALSE';
    case 'string':
      return escape(v);
    default:
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) throw new RangeError('cannot write an invalid Date to SQL');
        return escape(v);
      }
      if (v instanceof Uint8Array) return escape(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      throw new TypeError(`cannot write a ${Object.prototype.toString.call(v).slice(8, -1)} to SQL`);
  }
}

/**
 * Multi-row statements of a batch, each at most `maxRows` rows and (roughly) `maxChars` long, so
 * no statement exceeds the server's max_allowed_packet.
 */
export function multiRowStatements(
  t: MultiRowTemplate,
  rows: readonly (readonly unknown[])[],
  escape: (v: unknown) => string,
  maxRows = 1000,
  maxChars = 4 << 20,
): string[] {
  const out: string[] = [];
  let tuples: string[] = [];
  let chars = 0;
  const parts = t.tupleParts;
  for (const row of rows) {
    let tuple = parts[0]!;
    for (let i = 1; i < parts.length; i++) tuple += sqlLiteral(row[i - 1], escape) + parts[i];
    if (tuples.length > 0 && (tuples.length >= maxRows || chars + tuple.length > maxChars)) {
      out.push(t.prefix + tuples.join(', ') + t.suffix);
      tuples = [];
      chars = 0;
    }
    tuples.push(tuple);
    chars += tuple.length + 2;
  }
  if (tuples.length > 0) out.push(t.prefix + tuples.join(', ') + t.suffix);
  return out;
}
