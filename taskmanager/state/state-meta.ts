// Checks shared by both keyed backends when an operator (or a restore) asks for a table by name.
import type { StateMeta } from './types.js';

/** A copy holding only the StateMeta fields, with ttl normalized to a boolean. */
export function copyMeta(meta: StateMeta): StateMeta {
  if (typeof meta.name !== 'string' || meta.name.length === 0)
    throw new TypeError('a keyed state needs a non-empty name');
  return meta.ttl ? { name: meta.name, kind: meta.kind, ttl: true } : { name: meta.name, kind: meta.kind };
}

/** Throws when `requested` does not describe the same table as `existing`. */
export function checkSameTable(existing: StateMeta, requested: StateMeta): void {
  if (existing.kind !== requested.kind) {
    throw new Error(
      `keyed state '${requested.name}' exists as ${existing.kind} state and cannot be used as ${requested.kind} state`,
    );
  }
  if (!!existing.ttl !== !!requested.ttl) {
    const was = existing.ttl ? 'with' : 'without';
    const now = requested.ttl ? 'with' : 'without';
    throw new Error(
      `keyed state '${requested.name}' exists ${was} time-to-live and cannot be used ${now} it (as in Flink, enabling or disabling TTL on existing state is incompatible)`,
    );
  }
}
