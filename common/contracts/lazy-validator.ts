// An ajv check compiled on its first call rather than when its module loads.
import type { ErrorObject, ValidateFunction } from 'ajv';

/** What callers use of ajv's ValidateFunction: the call, then `errors` when it returned false. */
export interface Validator<T> {
  (value: unknown): value is T;
  readonly errors?: ErrorObject[] | null;
}

export function lazyValidator<T>(compile: () => ValidateFunction<T>): Validator<T> {
  let compiled: ValidateFunction<T> | undefined;
  const validate = (value: unknown): value is T => (compiled ??= compile())(value);
  Object.defineProperty(validate, 'errors', { get: () => compiled?.errors });
  return validate as Validator<T>;
}
