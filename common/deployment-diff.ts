// Field-by-field differences between two deployment specs: what `weir diff` prints, what each
// version in a deployment's history records, and how the reconciler tells a job change (bundle,
// args, parallelism, config: the job must be replaced) from a change of settings only.
import type { DeploymentSpec } from './deployment-spec.js';
import { formatPath } from './deployment-spec.js';

export interface FieldChange {
  /** e.g. parallelism, bundle, config["execution.checkpointing.interval"] */
  field: string;
  /** Absent: the field was not set before (added). */
  from?: unknown;
  /** Absent: the field is no longer set (removed). */
  to?: unknown;
  /** One line for people: `parallelism: 2 → 4`. */
  text: string;
}

/** Fields whose change means a new job (the Flink operator's "upgrade"). */
export function isJobChange(c: FieldChange): boolean {
  return (
    c.field === 'bundle' ||
    c.field === 'args' ||
    c.field === 'parallelism' ||
    c.field.startsWith('config[') ||
    c.field.startsWith('config.')
  );
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function show(field: string, v: unknown): string {
  if (v === undefined) return field === 'parallelism' ? '(job default)' : '(unset)';
  if (field === 'bundle' && typeof v === 'string') return v.slice(0, 12);
  return JSON.stringify(v);
}

function change(field: string, from: unknown, to: unknown): FieldChange {
  let text: string;
  if (field.startsWith('config') && from === undefined) text = `${field}: added ${show(field, to)}`;
  else if (field.startsWith('config') && to === undefined) text = `${field}: removed (was ${show(field, from)})`;
  else text = `${field}: ${show(field, from)} → ${show(field, to)}`;
  return { field, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), text };
}

/** The changes from `a` to `b`; everything `b` sets counts as added when there is no `a`. */
export function diffSpecs(a: DeploymentSpec | undefined, b: DeploymentSpec): FieldChange[] {
  const out: FieldChange[] = [];
  const field = (name: string, x: unknown, y: unknown) => {
    if (!same(x, y)) out.push(change(name, x, y));
  };
  field('bundle', a?.bundleHash, b.bundleHash);
  field('args', a?.args, b.args);
  field('parallelism', a?.parallelism, b.parallelism);
  const keys = [...new Set([...Object.keys(a?.config ?? {}), ...Object.keys(b.config)])].sort();
  for (const k of keys) field(formatPath(['config', k]), a?.config[k], b.config[k]);
  field('upgradeMode', a?.upgradeMode, b.upgradeMode);
  field('state', a?.state, b.state);
  field('allowNonRestoredState', a?.allowNonRestoredState, b.allowNonRestoredState);
  field('savepointNonce', a?.savepointNonce, b.savepointNonce);
  field('restartNonce', a?.restartNonce, b.restartNonce);
  return out;
}
