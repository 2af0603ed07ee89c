import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** The last `maxBytes` of a file as text ('' when it does not exist). */
export async function readTail(path: string, maxBytes: number): Promise<string> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * The last `maxBytes` of a rolled log: a file that has just rolled is empty or short, so the
 * rest comes from the end of `<path>.1`, starting at a line boundary.
 */
export async function readLogTail(path: string, maxBytes: number): Promise<string> {
  const active = await readTail(path, maxBytes);
  if (active.length >= maxBytes) return active;
  const previous = await readTail(`${path}.1`, maxBytes - active.length);
  const firstLine = previous.indexOf('\n');
  return (firstLine >= 0 ? previous.slice(firstLine + 1) : '') + active;
}

/** Makes renames in `dir` durable. Some platforms cannot fsync a directory; there it is skipped. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
