// fetch() for a JobManager whose certificate only a given CA vouches for (--ca / WEIR_CA_FILE).
// Node's built-in fetch takes no CA without the separate `undici` package (not a dependency), and
// NODE_EXTRA_CA_CERTS is read only when the process starts; so these requests go through
// node:https, which takes `ca` per request. The body is encoded by a standard Request first, so a
// FormData upload gets the same multipart encoding as with fetch.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

export async function fetchWithCa(ca: Buffer, url: string, init: RequestInit): Promise<Response> {
  const prepared = new Request(url, init);
  const body = prepared.body ? Buffer.from(await prepared.arrayBuffer()) : undefined;
  const headers: Record<string, string> = Object.fromEntries(prepared.headers);
  if (body) headers['content-length'] = String(body.length);
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const req = send(
      target,
      { method: prepared.method, headers, ca, ...(init.signal ? { signal: init.signal } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          resolve(
            new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: toHeaders(res.headers),
            }),
          );
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
