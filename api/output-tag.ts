// Flink's OutputTag: names a side output of an operator. Tags are compared by id only, so two
// tags created with the same id address the same output.

export class OutputTag<T> {
  /** The side output's element type; compile-time only. */
  declare private readonly __type?: T;

  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('OutputTag needs a non-empty id');
  }

  toString(): string {
    return `OutputTag(${this.id})`;
  }
}

/** The id of an OutputTag, or of anything shaped like one; throws a TypeError naming `api`. */
export function outputTagId(tag: unknown, api: string): string {
  const id = tag !== null && typeof tag === 'object' ? (tag as { id?: unknown }).id : undefined;
  if (typeof id !== 'string' || id.length === 0)
    throw new TypeError(`${api}() needs an OutputTag, e.g. new OutputTag<T>('late')`);
  return id;
}
