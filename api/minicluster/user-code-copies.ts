// Every subtask of an in-process job gets its own copies of the job's function objects, as a
// Flink task deserializes its own copy of each function: a RichFunction that keeps its state handle
// in a field (set in open()) must not share that field with the other subtasks, and a restarted
// attempt must not see what the failed one left behind. Closures cannot be copied: a plain
// function, and whatever it captures, is shared by every subtask (as module-level data is).

/** Constructors whose instances cannot be copied field by field (built-ins, #private members). */
const uncopyable = new WeakMap<object, boolean>();

function isUncopyableClass(ctor: unknown): boolean {
  if (typeof ctor !== 'function') return false;
  let known = uncopyable.get(ctor);
  if (known === undefined) {
    const source = Function.prototype.toString.call(ctor);
    // Native constructors keep internal slots; #private fields live outside the object's properties.
    known =
      source.includes('[native code]') ||
      /(^|[\s;{}])(static\s+)?(get\s+|set\s+|async\s+)?#[A-Za-z_$][\w$]*/.test(source);
    uncopyable.set(ctor, known);
  }
  return known;
}

/** Whether an object with this prototype chain can be copied by copying its own properties. */
function copyableChain(proto: object | null): boolean {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (p === Array.prototype || p === Map.prototype || p === Set.prototype) continue;
    if (isUncopyableClass(Object.getOwnPropertyDescriptor(p, 'constructor')?.value)) return false;
  }
  return true;
}

/**
 * A deep copy that keeps prototypes (class instances stay instances of their class), property
 * attributes and cycles. Functions, frozen objects and objects it cannot copy faithfully (built-ins
 * such as Promise or Buffer, classes with #private members) are shared.
 */
export function copyUserObject<T>(value: T, seen = new Map<object, unknown>()): T {
  if (value === null || typeof value !== 'object') return value;
  const obj = value as object;
  const done = seen.get(obj);
  if (done !== undefined) return done as T;
  if (Object.isFrozen(obj)) return value;
  if (obj instanceof Date) return new Date(obj.getTime()) as T;
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (!copyableChain(proto)) return value;
  let copy: object;
  if (Array.isArray(obj)) {
    const a: unknown[] = [];
    seen.set(obj, a);
    for (const v of obj) a.push(copyUserObject(v, seen));
    Object.setPrototypeOf(a, proto);
    return a as T;
  } else if (obj instanceof Map) {
    const m = new Map();
    seen.set(obj, m);
    for (const [k, v] of obj) m.set(copyUserObject(k, seen), copyUserObject(v, seen));
    copy = m;
  } else if (obj instanceof Set) {
    const s = new Set();
    seen.set(obj, s);
    for (const v of obj) s.add(copyUserObject(v, seen));
    copy = s;
  } else {
    copy = Object.create(proto) as object;
    seen.set(obj, copy);
  }
  if (proto !== Object.getPrototypeOf(copy)) Object.setPrototypeOf(copy, proto);
  for (const key of Reflect.ownKeys(obj)) {
    const d = Object.getOwnPropertyDescriptor(obj, key)!;
    if ('value' in d) d.value = copyUserObject(d.value, seen);
    Object.defineProperty(copy, key, d);
  }
  return copy as T;
}

/**
 * A task's view of the job's user code: each entry is copied the first time the task asks for it,
 * so a task copies only what its own operators use.
 */
export class TaskUserCode extends Map<string, unknown> {
  constructor(private readonly originals: ReadonlyMap<string, unknown>) {
    super();
  }

  override get(key: string): unknown {
    if (!super.has(key)) {
      if (!this.originals.has(key)) return undefined;
      super.set(key, copyUserObject(this.originals.get(key)));
    }
    return super.get(key);
  }

  override has(key: string): boolean {
    return this.originals.has(key);
  }
}
