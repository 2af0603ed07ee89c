// Form fields the savepoint dialogs share: where to write the savepoint, parallelism, program
// arguments, and whether state may be left behind on restore.

import { h } from '../dom.js';
import { joinArgs, splitArgs } from '../format.js';
import { checkField, field } from './form-dialog.js';

export interface Field<T> {
  el: HTMLElement;
  value(): T;
  /** A message when the value is not acceptable. */
  problem?(): string | null;
}

/** The savepoint directory: required when the cluster has no default (state.savepoints.dir). */
export function targetDirField(defaultDir: string | null): Field<string | undefined> {
  const input = h('input', {
    type: 'text',
    class: 'input input-wide',
    name: 'target-directory',
    required: defaultDir === null,
    placeholder: defaultDir ?? '/path/to/savepoints',
    spellcheck: 'false',
  });
  const hint =
    defaultDir === null
      ? 'No default savepoint directory is configured (state.savepoints.dir): say where to write it.'
      : h('span', null, 'Leave empty for the default, ', h('span', { class: 'mono' }, defaultDir), '.');
  return {
    el: field('Savepoint directory', input, hint),
    value: () => input.value.trim() || undefined,
    problem: () => (defaultDir === null && !input.value.trim() ? 'Say where to write the savepoint.' : null),
  };
}

export function parallelismField(initial: number | undefined, hint?: string): Field<number | undefined> {
  const input = h('input', {
    type: 'number',
    min: 1,
    step: 1,
    class: 'input input-narrow',
    name: 'parallelism',
    placeholder: 'default',
  });
  if (initial !== undefined) input.value = String(initial);
  const value = (): number | undefined => (input.value.trim() ? Number(input.value) : undefined);
  return {
    el: field('Parallelism', input, hint),
    value,
    problem: () => {
      const p = value();
      return p === undefined || (Number.isInteger(p) && p > 0)
        ? null
        : 'The parallelism must be a positive whole number.';
    },
  };
}

export function argsField(initial: readonly string[]): Field<string[]> {
  const input = h('input', {
    type: 'text',
    class: 'input input-wide',
    name: 'program-args',
    placeholder: '--key value',
    spellcheck: 'false',
  });
  input.value = joinArgs(initial);
  return { el: field('Program arguments', input), value: () => splitArgs(input.value) };
}

export function allowNonRestoredField(): Field<boolean> {
  const box = h('input', { type: 'checkbox', name: 'allow-non-restored-state' });
  return {
    el: checkField(
      box,
      'Allow non-restored state',
      'Start even if some of the saved state belongs to no operator of the new job; that state is dropped.',
    ),
    value: () => box.checked,
  };
}

/** The first problem among the fields, or null. */
export function problemOf(fields: Field<unknown>[]): string | null {
  for (const f of fields) {
    const p = f.problem?.();
    if (p) return p;
  }
  return null;
}
