// What every user-facing keyed state object shares: a table of the backend, the namespace it
// addresses (VOID_NAMESPACE for RuntimeContext state; a window for the window operator's
// per-window state), and TTL wrapping of whole values. Every mutation is put() back, which the
// level backend needs (it keeps values decoded in a write-back cache).
import type { State } from '../../api/state.js';
import type { TtlPolicy, TtlValue } from './ttl.js';
import { VOID_NAMESPACE, type Namespace, type StateTable } from './types.js';

/** A keyed state object whose namespace can be changed (Flink's InternalKvState). */
export interface InternalKeyedState extends State {
  setCurrentNamespace(namespace: Namespace): void;
  getCurrentNamespace(): Namespace;
}

export abstract class AbstractKeyedState<V> implements InternalKeyedState {
  protected namespace: Namespace = VOID_NAMESPACE;

  constructor(
    protected readonly table: StateTable,
    protected readonly ttl: TtlPolicy | undefined,
  ) {}

  setCurrentNamespace(namespace: Namespace): void {
    this.namespace = namespace;
  }

  getCurrentNamespace(): Namespace {
    return this.namespace;
  }

  clear(): void {
    this.table.remove(this.namespace);
  }

  /**
   * The stored value, or undefined. With TTL an expired value is removed. A user read (value(),
   * get()) still sees it when the visibility allows, and refreshes the time with OnReadAndWrite;
   * an append reads only to merge, and never merges into an expired value.
   */
  protected read(userRead: boolean): V | undefined {
    const raw = this.table.get(this.namespace);
    const ttl = this.ttl;
    if (ttl === undefined || raw === undefined) return raw as V | undefined;
    const wrapped = raw as TtlValue<V>;
    const now = ttl.now();
    if (ttl.isExpired(wrapped, now)) {
      this.table.remove(this.namespace);
      return userRead && ttl.returnExpired ? wrapped.v : undefined;
    }
    if (userRead && ttl.updateOnRead) {
      wrapped.t = now;
      this.table.put(this.namespace, wrapped);
    }
    return wrapped.v;
  }

  protected write(value: V): void {
    this.table.put(this.namespace, this.ttl === undefined ? value : this.ttl.wrap(value));
  }
}
