// Flink's asynchronous REST operations from the client side: POST answers with a request id, then
// GET .../:triggerid says IN_PROGRESS until COMPLETED with a result or a `failure-cause`.
import { CliError, firstLine } from './errors.js';
import { RestError, type RestClient } from './rest-client.js';

export interface AsyncOperationStatus {
  status?: { id?: string };
  operation?: { location?: string; 'failure-cause'?: { 'stack-trace'?: string; class?: string } } & Record<
    string,
    unknown
  >;
}

/** A JobManager without the route: fastify's "Route ... not found", Weir's "Not found: POST /...", or a 501. */
export function notAvailable(e: unknown): boolean {
  if (!(e instanceof RestError) || (e.status !== 404 && e.status !== 501)) return false;
  return /route|^not found: [A-Z]+ \/|not (implemented|supported|available)/i.test(e.message);
}

/** POSTs the trigger and returns the request id; `onMissing` names what a 404 means (an unknown job). */
export async function trigger(
  client: RestClient,
  path: string,
  body: Record<string, unknown>,
  what: string,
  onMissing?: string,
): Promise<string> {
  let res: { 'request-id'?: string };
  try {
    res = await client.post(path, body);
  } catch (e) {
    if (notAvailable(e)) throw new CliError(`${what} is not available on this JobManager yet`);
    if (onMissing && e instanceof RestError && e.status === 404) throw new CliError(onMissing);
    throw e;
  }
  const requestId = res['request-id'];
  if (!requestId) throw new CliError(`the JobManager returned no request id for the ${what}`);
  return requestId;
}

/** Polls `statusPath` until COMPLETED; returns the operation, or throws its failure cause as one line. */
export async function awaitCompletion(
  client: RestClient,
  statusPath: string,
  what: string,
  pollMs = 500,
): Promise<NonNullable<AsyncOperationStatus['operation']>> {
  for (;;) {
    const res = await client.get<AsyncOperationStatus>(statusPath);
    if (res.status?.id === 'COMPLETED') {
      const failure = res.operation?.['failure-cause'];
      if (failure)
        throw new CliError(`${what} failed: ${firstLine(failure['stack-trace'] ?? failure.class ?? 'unknown cause')}`);
      return res.operation ?? {};
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
