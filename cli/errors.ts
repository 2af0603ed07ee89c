// Expected failures: the CLI prints their message as one line and exits non-zero, no stack.

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** One line for stderr: expected errors as they are, others with their message (stack only with WEIR_DEBUG). */
export function describeError(err: unknown): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof Error) return process.env.WEIR_DEBUG ? (err.stack ?? err.message) : firstLine(err.message);
  return String(err);
}

export function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim().length > 0);
  return (line ?? text).trim();
}
