// A CommonJS package loaded on first use, not with the module that names it: a process or slot
// thread that never needs it (a YAML file, protobuf's .proto loader, a native compressor, LevelDB)
// does not pay for loading it. require() keeps the call that needs it synchronous.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A function that loads package `id` the first time it is called and returns it every time. */
export function lazyRequire<T>(id: string): () => T {
  let module: T | undefined;
  return () => (module ??= load(id) as T);
}
