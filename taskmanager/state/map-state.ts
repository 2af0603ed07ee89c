// MapState over a 'map' table: the live value of a (key, namespace) is a Map keyed by
// normalizeKey(userKey), so structured user keys compare by value as in Flink. With TTL each map
// entry is wrapped ({ v, t }) and expires on its own, as in Flink's TtlMapState. An empty map is
// removed from the table, so it does not count as an entry.
import type { MapState } from '../../api/state.js';
import { AbstractKeyedState } from './keyed-state-base.js';
import { denormalizeKey, normalizeKey } from './key-normalizer.js';
import type { TtlValue } from './ttl.js';

type LiveMap = Map<unknown, unknown>;

export class KeyedMapState<UK, UV> extends AbstractKeyedState<LiveMap> implements MapState<UK, UV> {
  private map(): LiveMap | undefined {
    return this.table.get(this.namespace) as LiveMap | undefined;
  }

  private store(map: LiveMap): void {
    if (map.size === 0) this.table.remove(this.namespace);
    else this.table.put(this.namespace, map);
  }

  /** Wraps/unwraps one user value; expiry of entries is handled by the readers below. */
  private wrap(value: UV, now: number): unknown {
    return this.ttl === undefined ? value : { v: value, t: now };
  }

  get(key: UK): UV | null {
    const map = this.map();
    if (map === undefined) return null;
    const norm = normalizeKey(key);
    if (!map.has(norm)) return null;
    const raw = map.get(norm);
    const ttl = this.ttl;
    if (ttl === undefined) return (raw as UV) ?? null;
    const wrapped = raw as TtlValue<UV>;
    const now = ttl.now();
    if (ttl.isExpired(wrapped, now)) {
      map.delete(norm);
      this.store(map);
      return ttl.returnExpired ? (wrapped.v ?? null) : null;
    }
    if (ttl.updateOnRead) {
      wrapped.t = now;
      this.table.put(this.namespace, map);
    }
    return wrapped.v ?? null;
  }

  put(key: UK, value: UV): void {
    const map = this.map() ?? new Map();
    map.set(normalizeKey(key), this.wrap(value, this.ttl === undefined ? 0 : this.ttl.now()));
    this.table.put(this.namespace, map);
  }

  putAll(entries: Map<UK, UV> | Iterable<[UK, UV]>): void {
    const map = this.map() ?? new Map();
    const now = this.ttl === undefined ? 0 : this.ttl.now();
    for (const [k, v] of entries) map.set(normalizeKey(k), this.wrap(v, now));
    this.store(map);
  }

  remove(key: UK): void {
    const map = this.map();
    if (map !== undefined && map.delete(normalizeKey(key))) this.store(map);
  }

  contains(key: UK): boolean {
    const map = this.map();
    if (map === undefined) return false;
    const norm = normalizeKey(key);
    if (!map.has(norm)) return false;
    if (this.ttl === undefined) return true;
    const wrapped = map.get(norm) as TtlValue<UV>;
    const now = this.ttl.now();
    if (this.ttl.isExpired(wrapped, now)) {
      map.delete(norm);
      this.store(map);
      return this.ttl.returnExpired;
    }
    if (this.ttl.updateOnRead) {
      wrapped.t = now;
      this.table.put(this.namespace, map);
    }
    return true;
  }

  /** The visible entries as an array (expired ones removed first, with TTL). */
  private visible(): Array<[UK, UV]> {
    const map = this.map();
    if (map === undefined) return [];
    const out: Array<[UK, UV]> = [];
    const ttl = this.ttl;
    if (ttl === undefined) {
      for (const [k, v] of map) out.push([denormalizeKey(k) as UK, v as UV]);
      return out;
    }
    const now = ttl.now();
    let changed = false;
    for (const [k, raw] of map) {
      const wrapped = raw as TtlValue<UV>;
      if (ttl.isExpired(wrapped, now)) {
        map.delete(k);
        changed = true;
        if (!ttl.returnExpired) continue;
      } else if (ttl.updateOnRead) {
        wrapped.t = now;
        changed = true;
      }
      out.push([denormalizeKey(k) as UK, wrapped.v]);
    }
    if (changed) this.store(map);
    return out;
  }

  entries(): IterableIterator<[UK, UV]> {
    return this.visible()[Symbol.iterator]();
  }

  keys(): IterableIterator<UK> {
    return this.visible()
      .map(([k]) => k)
      .values();
  }

  values(): IterableIterator<UV> {
    return this.visible()
      .map(([, v]) => v)
      .values();
  }

  isEmpty(): boolean {
    if (this.ttl === undefined) return this.map() === undefined;
    return this.visible().length === 0;
  }
}
