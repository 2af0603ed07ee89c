// Checks user functions where they are passed in, so a mistake points at the job's own line
// rather than surfacing later inside a TaskManager.

function isClass(fn: object): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** Accepts a plain function or an object with `method`; throws a TypeError naming `api` otherwise. */
export function checkUserFunction(fn: unknown, method: string, api: string): void {
  if (typeof fn === 'function') {
    if (isClass(fn))
      throw new TypeError(
        `${api}() was given the class ${fn.name || '(anonymous)'}; pass an instance: new ${fn.name || 'X'}()`,
      );
    return;
  }
  if (fn !== null && typeof fn === 'object' && typeof (fn as Record<string, unknown>)[method] === 'function') return;
  throw new TypeError(`${api}() expects a function or an object with a ${method}() method`);
}

/**
 * Objects (rich functions) can reach managed keyed state through their runtime context; plain
 * functions cannot, so only objects count as possibly stateful.
 */
export function isFunctionObject(fn: unknown): boolean {
  return fn !== null && typeof fn === 'object';
}

/** A key selector as a plain function, whichever form the user gave. */
export function toKeySelectorFunction<T, K>(selector: unknown): (value: T) => K {
  checkUserFunction(selector, 'getKey', 'keyBy');
  if (typeof selector === 'function') return selector as (value: T) => K;
  const obj = selector as { getKey(value: T): K };
  return (value: T) => obj.getKey(value);
}

/** Positive integer check shared by the parallelism setters. */
export function checkPositiveInteger(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
    throw new RangeError(`${what} must be a positive integer, got ${String(n)}`);
  return n;
}

/** Flink's upper bound for maxParallelism (key groups are addressed with 15 bits). */
export const UPPER_BOUND_MAX_PARALLELISM = 32768;

export function checkMaxParallelism(n: unknown, what: string): number {
  checkPositiveInteger(n, what);
  if ((n as number) > UPPER_BOUND_MAX_PARALLELISM)
    throw new RangeError(`${what} must be at most ${UPPER_BOUND_MAX_PARALLELISM}, got ${String(n)}`);
  return n as number;
}

/**
 * Accepts only an object with all of `methods` (Flink's two-input functions have no lambda form);
 * throws a TypeError naming `api` and the first missing method otherwise.
 */
export function checkFunctionObject(fn: unknown, methods: readonly string[], api: string): void {
  if (typeof fn === 'function' && isClass(fn))
    throw new TypeError(
      `${api}() was given the class ${fn.name || '(anonymous)'}; pass an instance: new ${fn.name || 'X'}()`,
    );
  const missing = methods.find(
    (m) => fn === null || typeof fn !== 'object' || typeof (fn as Record<string, unknown>)[m] !== 'function',
  );
  if (missing !== undefined)
    throw new TypeError(
      `${api}() expects an object with ${methods.map((m) => `${m}()`).join(' and ')}; ${missing}() is missing`,
    );
}
