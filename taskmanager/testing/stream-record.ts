// Flink's StreamRecord: a record a harness saw emitted, with its timestamp (undefined: none).

export class StreamRecord<T> {
  constructor(
    readonly value: T,
    readonly timestamp?: number,
  ) {}

  getValue(): T {
    return this.value;
  }

  hasTimestamp(): boolean {
    return this.timestamp !== undefined;
  }

  getTimestamp(): number | undefined {
    return this.timestamp;
  }

  toString(): string {
    return `Record @ ${this.timestamp === undefined ? '(undef)' : this.timestamp} : ${JSON.stringify(this.value)}`;
  }
}
