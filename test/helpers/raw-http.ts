// One HTTP/1.1 request written byte for byte on a fresh TCP connection, so that nothing (URL
// normalization, header validation) stands between a hostile request and the server. Resolves to
// the final status code, or to what went wrong: a timeout, or a connection closed without an answer.
import { connect } from 'node:net';

export type RawAnswer = { status: number } | { failure: string };

/** The first final (non-1xx) status line in `data`, once its headers are complete. */
function finalStatus(data: Buffer): number | undefined {
  const text = data.toString('latin1');
  let at = 0;
  for (;;) {
    const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/.exec(text.slice(at));
    if (!m) return undefined;
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return undefined;
    const status = Number(m[1]);
    if (status >= 200) return status;
    at = end + 4;
  }
}

export function rawRequest(port: number, request: Buffer, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let settled = false;
    const settle = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => settle({ failure: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const status = finalStatus(data);
      if (status !== undefined) settle({ status });
    });
    // A server that answers early (401, 413) may close before the whole body is written: what it
    // sent before counts.
    const closed = (why: string) => {
      const status = finalStatus(data);
      settle(
        status !== undefined ? { status } : { failure: `${why} without an answer (${data.length} bytes received)` },
      );
    };
    socket.on('error', (e: NodeJS.ErrnoException) => closed(`connection error ${e.code ?? e.message}`));
    socket.on('close', () => closed('connection closed'));
    socket.write(request);
  });
}
