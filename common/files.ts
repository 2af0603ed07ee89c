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
