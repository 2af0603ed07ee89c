// Bucket assigners of the FileSink, as Flink's: each record goes to a bucket, a sub-directory of
// the sink's directory named by the bucket id, with its own in-progress part file.
// DateTimeBucketAssigner names buckets by the processing time of the write ('yyyy-MM-dd--HH' by
// default, in the TaskManager's time zone unless one is given); BasePathBucketAssigner writes
// into the sink's directory itself; any object with getBucketId(element, context) is an assigner.

/** What an assigner knows besides the record (Flink's BucketAssigner.Context). */
export interface BucketAssignerContext {
  /** Processing time of the write, epoch milliseconds. */
  currentProcessingTime(): number;
  /** The sink's current event-time watermark. */
  currentWatermark(): number;
  /** The record's event timestamp, null when it has none. */
  timestamp(): number | null;
}

/**
 * Flink's BucketAssigner. The bucket id (its String() for other types) is a relative path under the
 * sink's directory: '' for the directory itself, '/' separates nested directories, and '.' or '..'
 * segments are refused.
 */
export interface BucketAssigner<IN = unknown, BucketID = string> {
  getBucketId(element: IN, context: BucketAssignerContext): BucketID;
}

/** Every record into the sink's directory itself: no sub-directory (Flink's BasePathBucketAssigner). */
export class BasePathBucketAssigner<IN = unknown> implements BucketAssigner<IN, string> {
  getBucketId(_element: IN, _context: BucketAssignerContext): string {
    return '';
  }

  toString(): string {
    return 'BasePathBucketAssigner';
  }
}

export const DEFAULT_BUCKET_FORMAT = 'yyyy-MM-dd--HH';

/** Calendar fields of an instant in some time zone. */
interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
}

type FieldsOf = (epochMs: number) => Fields;

/** Fixed offsets ('UTC', 'Z', '+02:00', 'UTC-5', 'GMT+05:30') as Flink's ZoneId.of accepts them; minutes east of UTC. */
function fixedOffsetMinutes(zone: string): number | undefined {
  if (/^(?:UTC|GMT|UT|Z)$/i.test(zone)) return 0;
  const m = /^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(zone);
  if (!m) return undefined;
  const h = Number(m[2]);
  const min = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 18 || min > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + min);
}

function zoneFields(zoneId: string | undefined): FieldsOf {
  const fixed = zoneId === undefined ? undefined : fixedOffsetMinutes(zoneId);
  if (fixed !== undefined) {
    return (ms) => {
      const d = new Date(ms + fixed * 60_000);
      return {
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
        hour: d.getUTCHours(),
        minute: d.getUTCMinutes(),
        second: d.getUTCSeconds(),
        millis: d.getUTCMilliseconds(),
      };
    };
  }
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zoneId,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new RangeError(
      `DateTimeBucketAssigner: unknown time zone '${zoneId}' (use an IANA name such as 'Europe/Berlin', 'UTC' or an offset such as '+02:00')`,
    );
  }
  return (ms) => {
    const f: Fields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millis: ((ms % 1000) + 1000) % 1000 };
    for (const p of fmt.formatToParts(ms)) {
      if (p.type === 'year') f.year = Number(p.value);
      else if (p.type === 'month') f.month = Number(p.value);
      else if (p.type === 'day') f.day = Number(p.value);
      else if (p.type === 'hour') f.hour = Number(p.value);
      else if (p.type === 'minute') f.minute = Number(p.value);
      else if (p.type === 'second') f.second = Number(p.value);
    }
    return f;
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

type Piece = string | ((f: Fields) => string);

/**
 * Compiles the subset of Java's DateTimeFormatter patterns that names buckets: y/u (year), M
 * (month number), d, H, m, s, S (fraction of a second), 'quoted text', and any other non-letter
 * as it is. Other letters are refused rather than misread.
 */
function compileDateTimePattern(pattern: string): { format: (f: Fields) => string; usesMillis: boolean } {
  const pieces: Piece[] = [];
  let usesMillis = false;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        pieces.push("'");
        i += 2;
        continue;
      }
      // Quoted text up to the closing quote; '' inside it is a quote.
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new RangeError(`DateTimeBucketAssigner: unclosed quote in pattern '${pattern}'`);
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j];
        j++;
      }
      pieces.push(text);
      i = j + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      pieces.push(c);
      i++;
      continue;
    }
    let n = 1;
    while (pattern[i + n] === c) n++;
    i += n;
    switch (c) {
      case 'y':
      case 'u':
        pieces.push(n === 2 ? (f) => pad(((f.year % 100) + 100) % 100, 2) : (f) => pad(f.year, n));
        break;
      case 'M':
        if (n > 2)
          throw new RangeError(
            `DateTimeBucketAssigner: month names ('${'M'.repeat(n)}') are not supported in '${pattern}'; use 'MM'`,
          );
        pieces.push((f) => pad(f.month, n));
        break;
      case 'd':
        pieces.push((f) => pad(f.day, n));
        break;
      case 'H':
        pieces.push((f) => pad(f.hour, n));
        break;
      case 'm':
        pieces.push((f) => pad(f.minute, n));
        break;
      case 's':
        pieces.push((f) => pad(f.second, n));
        break;
      case 'S':
        usesMillis = true;
        pieces.push((f) => pad(f.millis, 3).slice(0, n).padEnd(n, '0'));
        break;
      default:
        throw new RangeError(
          `DateTimeBucketAssigner: pattern letter '${c}' in '${pattern}' is not supported (supported: y, M, d, H, m, s, S and 'quoted text')`,
        );
    }
  }
  return {
    format: (f) => {
      let s = '';
      for (const p of pieces) s += typeof p === 'string' ? p : p(f);
      return s;
    },
    usesMillis,
  };
}

/**
 * Buckets by the processing time of the write, formatted with `formatString` (Flink's default
 * 'yyyy-MM-dd--HH': one directory per hour) in `zoneId` (an IANA zone or an offset; the TaskManager's
 * zone when absent), as Flink's DateTimeBucketAssigner.
 */
export class DateTimeBucketAssigner<IN = unknown> implements BucketAssigner<IN, string> {
  readonly formatString: string;
  readonly zoneId: string | undefined;
  private readonly fields: FieldsOf;
  private readonly format: (f: Fields) => string;
  /** The id is the same for every write within one second (or millisecond when the pattern shows fractions). */
  private readonly granularity: number;
  private cachedSlot = Number.NaN;
  private cachedId = '';

  constructor(formatString: string = DEFAULT_BUCKET_FORMAT, zoneId?: string) {
    if (typeof formatString !== 'string' || formatString.length === 0)
      throw new TypeError('DateTimeBucketAssigner: the format must be a non-empty pattern such as yyyy-MM-dd--HH');
    if (zoneId !== undefined && (typeof zoneId !== 'string' || zoneId.length === 0))
      throw new TypeError('DateTimeBucketAssigner: the time zone must be a zone id such as Europe/Berlin or UTC');
    this.formatString = formatString;
    this.zoneId = zoneId;
    const compiled = compileDateTimePattern(formatString);
    this.format = compiled.format;
    this.granularity = compiled.usesMillis ? 1 : 1000;
    this.fields = zoneFields(zoneId);
  }

  getBucketId(_element: IN, context: BucketAssignerContext): string {
    return this.bucketIdAt(context.currentProcessingTime());
  }

  /** The bucket id of a write at processing time `epochMs`. */
  bucketIdAt(epochMs: number): string {
    const slot = Math.floor(epochMs / this.granularity);
    if (slot !== this.cachedSlot) {
      this.cachedId = this.format(this.fields(epochMs));
      this.cachedSlot = slot;
    }
    return this.cachedId;
  }

  toString(): string {
    return `DateTimeBucketAssigner{formatString='${this.formatString}', zoneId=${this.zoneId ?? 'system default'}}`;
  }
}

export function isBucketAssigner(a: unknown): a is BucketAssigner {
  return typeof a === 'object' && a !== null && typeof (a as Partial<BucketAssigner>).getBucketId === 'function';
}
