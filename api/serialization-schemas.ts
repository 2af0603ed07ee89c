// Turning records into bytes and back (Flink's SerializationSchema / DeserializationSchema), for
// connectors that move bytes: Kafka. Plain objects with a method, so a bundle's own schemas work.

export interface DeserializationSchema<T> {
  deserialize(message: Uint8Array): T;
}

export interface SerializationSchema<T> {
  serialize(element: T): Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 strings, as Flink's SimpleStringSchema. */
export class SimpleStringSchema implements DeserializationSchema<string>, SerializationSchema<string> {
  deserialize(message: Uint8Array): string {
    return decoder.decode(message);
  }

  serialize(element: string): Uint8Array {
    if (typeof element !== 'string')
      throw new TypeError(`SimpleStringSchema serializes strings, got ${typeof element}`);
    return encoder.encode(element);
  }
}

/** JSON documents in UTF-8, as Flink's JsonDeserializationSchema. */
export class JsonDeserializationSchema<T = unknown> implements DeserializationSchema<T> {
  deserialize(message: Uint8Array): T {
    return JSON.parse(decoder.decode(message)) as T;
  }
}

/** JSON documents in UTF-8, as Flink's JsonSerializationSchema. */
export class JsonSerializationSchema<T = unknown> implements SerializationSchema<T> {
  serialize(element: T): Uint8Array {
    const text = JSON.stringify(element);
    if (text === undefined) throw new TypeError(`JsonSerializationSchema cannot serialize ${typeof element}`);
    return encoder.encode(text);
  }
}

export function isDeserializationSchema(v: unknown): v is DeserializationSchema<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as DeserializationSchema<unknown>).deserialize === 'function';
}

export function isSerializationSchema(v: unknown): v is SerializationSchema<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as SerializationSchema<unknown>).serialize === 'function';
}
