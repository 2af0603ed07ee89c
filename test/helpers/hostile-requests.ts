// Generated hostile HTTP requests for the REST fuzz test: the JobManager's own route templates
// with traversal, encoded, over-long, unicode and NUL parameters; random methods and query
// strings; JSON of wrong types, deep nesting, huge sizes and prototype keys; broken multipart;
// wrong content types and framing. Every choice comes from one seeded PRNG, so a run repeats.
import { fillRoute, UNKNOWN_IDS, type RouteTemplate } from './rest-routes.js';

export interface HostileRequest {
  /** One line for a failure report. */
  summary: string;
  bytes: Buffer;
}

type Rng = () => number;

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'get',
  'G(T',
];

/** Parameter values, sent as they are (some are not valid in a URL on purpose). */
function hostileParam(rng: Rng, dir: string): string {
  return pick(rng, [
    () => '..',
    () => '../../../../etc/passwd',
    () => '..%2F..%2F..%2Fetc%2Fpasswd',
    () => '%2e%2e',
    () => '%2E%2E%2F%2E%2E%2Fpackage.json',
    () => '..%5c..%5cwindows',
    () => '%00',
    () => 'a%00b',
    () => 'a\u0000b',
    () => '%zz',
    () => '%',
    () => '%E2%98%83',
    () => 'é☃🙂',
    () => 'x'.repeat(Math.floor(rng() * 400)),
    () => 'y'.repeat(20_000),
    () => '0'.repeat(32),
    () => 'f'.repeat(31) + 'g',
    () => '-1',
    () => '1e309',
    () => '99999999999999999999999999',
    () => '%7B%22a%22%3A1%7D',
    () => encodeURIComponent(dir),
    () => '~root',
    () => 'CON',
    () => '.%2e',
    () => ' ',
    () => '%20',
    () => '\\..\\..',
    () => '//etc',
    () => UNKNOWN_IDS.jarid!,
  ])();
}

const QUERIES = [
  '',
  '',
  '?mode=cancel',
  '?mode=stop',
  '?mode=',
  '?mode[]=cancel',
  '?mode=cancel&mode=stop',
  '?mode=%',
  '?__proto__[x]=1',
  '?constructor[prototype][polluted]=1',
  '?parallelism=-1&programArgs=%00',
  '?savepointPath=../../etc&allowNonRestoredState=maybe',
  '?allowNonRestoredState=true&savepointPath=%2Fetc',
  '?&&&==&=',
  '?' + 'q='.repeat(3000),
  '?file=../../../../etc/passwd',
  '?programArgs=%E0%A4%A',
];

/** Values for JSON fields, of the right and of every wrong type. */
function hostileValue(rng: Rng, dir: string, depth = 0): unknown {
  return pick(rng, [
    () => null,
    () => true,
    () => 'true',
    () => 0,
    () => -1,
    () => 1.5,
    () => 2 ** 53 + 1,
    () => '',
    () => '/etc',
    () => '/',
    () => '../../../etc',
    () => `${dir}/../..`,
    () => `${dir}/sp`,
    () => dir,
    () => `${dir}/a\u0000b`,
    () => 'relative/dir',
    () => 'x'.repeat(5000),
    () => '☃'.repeat(100),
    () => [],
    () => ['a', 1, null],
    () => (depth < 3 ? { path: hostileValue(rng, dir, depth + 1) } : {}),
    () => (depth < 3 ? [hostileValue(rng, dir, depth + 1)] : []),
  ])();
}

const FIELDS = [
  'target-directory',
  'targetDirectory',
  'cancel-job',
  'drain',
  'savepoint-path',
  'parallelism',
  'programArgs',
  'programArgsList',
  'savepointPath',
  'allowNonRestoredState',
  'jobId',
  'flinkConfiguration',
  'checkpointType',
  'entryClass',
  'formatType',
  '__proto__',
  'constructor',
];

function jsonBody(rng: Rng, dir: string): string {
  return pick(rng, [
    () => '{}',
    () => {
      const o: Record<string, unknown> = {};
      const n = 1 + Math.floor(rng() * 4);
      for (let i = 0; i < n; i++) o[pick(rng, FIELDS)] = hostileValue(rng, dir);
      return JSON.stringify(o);
    },
    () => JSON.stringify(hostileValue(rng, dir)),
    () => '{"__proto__": {"polluted": true}}',
    () => '{"constructor": {"prototype": {"polluted": true}}}',
    () => '{not json',
    () => '{"a": 1,}',
    () => '\u0000\u0001',
    () => '['.repeat(20_000) + ']'.repeat(20_000),
    () => '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
    () => JSON.stringify({ programArgs: 'x'.repeat(300 * 1024) }),
    () => '1e309',
    () => '"' + '\\u0000'.repeat(1000) + '"',
  ])();
}

function multipart(rng: Rng): { type: string; body: Buffer } {
  const boundary = `----fuzz${Math.floor(rng() * 1e9)}`;
  const part = (name: string, filename: string | undefined, content: Buffer) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      content,
      Buffer.from('\r\n'),
    ]);
  const end = Buffer.from(`--${boundary}--\r\n`);
  const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rng() * 256)));
  const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]);
  return pick(rng, [
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('jarfile', 'job.weir', random(200)), end]),
    }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('jarfile', 'job.weir', Buffer.concat([gzipHeader, random(500)])), end]),
    }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('jarfile', '../../../etc/cron.d/x', random(50)), end]),
    }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('a', 'a.weir', random(10)), part('b', 'b.weir', random(10)), end]),
    }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('request', undefined, Buffer.from('{}')), end]),
    }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('jarfile', 'big.weir', random(300 * 1024)), end]),
    }),
    () => ({ type: `multipart/form-data; boundary=${boundary}`, body: part('jarfile', 'cut.weir', random(100)) }),
    () => ({ type: `multipart/form-data; boundary=${boundary}`, body: Buffer.from('garbage without any boundary') }),
    () => ({ type: 'multipart/form-data', body: Buffer.concat([part('jarfile', 'x', random(10)), end]) }),
    () => ({ type: `multipart/form-data; boundary=${'b'.repeat(200)}`, body: random(100) }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat(Array.from({ length: 60 }, (_, i) => part(`f${i}`, undefined, Buffer.from('x'))).concat(end)),
    }),
    () => ({
      type: `multipart/form-data; boundary=${boundary}`,
      body: Buffer.concat([part('__proto__', 'x.weir', random(10)), end]),
    }),
  ])();
}

function body(rng: Rng, dir: string): { type?: string; body: Buffer } {
  return pick(rng, [
    () => ({ body: Buffer.alloc(0) }),
    () => ({ type: 'application/json', body: Buffer.from(jsonBody(rng, dir)) }),
    () => ({ type: 'application/json', body: Buffer.from(jsonBody(rng, dir)) }),
    () => ({ type: 'application/json; charset=utf-99', body: Buffer.from('{}') }),
    () => ({ type: 'application/json', body: Buffer.alloc(0) }),
    () => multipart(rng),
    () => multipart(rng),
    () => ({ type: 'application/x-www-form-urlencoded', body: Buffer.from('savepointPath=%2Fetc&parallelism=2') }),
    () => ({ type: 'text/plain', body: Buffer.from('hello') }),
    () => ({
      type: pick(rng, ['application/x-foo', '*/*', '', ';;;', 'application/json\u0000', 'multipart/mixed; boundary=x']),
      body: Buffer.from(jsonBody(rng, dir)),
    }),
    () => ({
      type: 'application/octet-stream',
      body: Buffer.from(Array.from({ length: 300 }, () => Math.floor(rng() * 256))),
    }),
  ])();
}

function authorization(rng: Rng, token: string): string | undefined {
  if (chance(rng, 0.85)) return `Bearer ${token}`;
  return pick(rng, [
    undefined,
    'Bearer',
    'Bearer ',
    `Bearer ${token}x`,
    `bearer ${token}`,
    `Basic ${Buffer.from(`a:${token}`).toString('base64')}`,
    `Bearer ${'t'.repeat(10_000)}`,
    `Bearer ${token} extra`,
    'Bearer \u00e9',
  ]);
}

/** Framing variants: most requests are well framed; some are broken in ways a parser must refuse. */
function frame(rng: Rng, head: string, content: Buffer): Buffer {
  const variant = rng();
  if (variant < 0.9)
    return Buffer.concat([Buffer.from(`${head}Content-Length: ${content.length}\r\n\r\n`, 'utf8'), content]);
  if (variant < 0.95) {
    const chunked = content.length
      ? Buffer.concat([Buffer.from(`${content.length.toString(16)}\r\n`), content, Buffer.from('\r\n0\r\n\r\n')])
      : Buffer.from('0\r\n\r\n');
    return Buffer.concat([Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`, 'utf8'), chunked]);
  }
  return pick(rng, [
    () => Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n`, 'utf8'),
    () =>
      Buffer.concat([
        Buffer.from(
          `${head}Content-Length: ${content.length}\r\nContent-Length: ${content.length + 1}\r\n\r\n`,
          'utf8',
        ),
        content,
      ]),
    () =>
      Buffer.concat([
        Buffer.from(`${head}Content-Length: ${content.length}\r\nTransfer-Encoding: chunked\r\n\r\n`, 'utf8'),
        content,
      ]),
    () => Buffer.from(`${head}Content-Length: -5\r\n\r\n`, 'utf8'),
    () => Buffer.from(`${head}X-Bad Header: x\r\nContent-Length: 0\r\n\r\n`, 'utf8'),
    () =>
      Buffer.concat([
        Buffer.from(`${head}Expect: 100-continue\r\nContent-Length: ${content.length}\r\n\r\n`, 'utf8'),
        content,
      ]),
  ])();
}

export function hostileRequest(
  rng: Rng,
  routes: RouteTemplate[],
  opts: { port: number; token: string; dir: string },
): HostileRequest {
  const route = pick(rng, routes);
  const method = chance(rng, 0.6) ? route.method : pick(rng, METHODS);
  let path = chance(rng, 0.9)
    ? fillRoute(route, (p) =>
        chance(rng, 0.3) ? encodeURIComponent(UNKNOWN_IDS[p] ?? 'x') : hostileParam(rng, opts.dir),
      )
    : pick(rng, [
        '/',
        '/index.html',
        '/assets/../../package.json',
        '/assets/%2e%2e/%2e%2e/package.json',
        '//jobs',
        '/jobs/',
        '/JOBS/OVERVIEW',
        '*',
        'jobs',
        '/.env',
        '/web-ui/../../etc/passwd',
      ]);
  if (chance(rng, 0.1)) path = `/v1${path}`;
  const target = path + pick(rng, QUERIES);
  const { type, body: content } = body(rng, opts.dir);
  const auth = authorization(rng, opts.token);
  let head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${opts.port}\r\nConnection: close\r\n`;
  if (auth !== undefined) head += `Authorization: ${auth}\r\n`;
  if (type !== undefined) head += `Content-Type: ${type}\r\n`;
  const bytes = frame(rng, head, content);
  const shown = target.length > 120 ? `${target.slice(0, 120)}… (${target.length} chars)` : target;
  return { summary: `${method} ${JSON.stringify(shown)} ${type ?? '-'} ${content.length} bytes`, bytes };
}
