// The files a FileSource reads (Flink's NonSplittingRecursiveEnumerator with its DefaultFileFilter):
// each path given as a file is read as it is; a directory stands for every regular file below it,
// recursively, leaving out names that start with '.' or '_' (hidden files, and the in-progress
// parts a FileSink writes). The listing is sorted, so every lister sees the files in one order.
// One walk serves both the synchronous listing (a reader without an enumerator) and the
// asynchronous one (the JobManager's enumerator, which must not block its event loop).
import { readdirSync, statSync, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

type FsCall = { op: 'stat'; path: string } | { op: 'readdir'; path: string };
type FsAnswer = Stats | string[] | undefined;

const listed = (name: string) => !name.startsWith('.') && !name.startsWith('_');

/** The walk: yields what it needs from the file system (undefined: the entry vanished meanwhile). */
function* walk(paths: readonly string[]): Generator<FsCall, string[], FsAnswer> {
  const files: string[] = [];
  // Directories by device and inode: a symbolic link back up the tree is walked once, not forever.
  const visited = new Set<string>();
  for (const given of paths) {
    const path = resolve(given);
    const st = (yield { op: 'stat', path }) as Stats | undefined;
    if (st === undefined) throw new Error(`FileSource: path '${given}' does not exist (resolved to ${path})`);
    if (st.isFile()) files.push(path);
    else if (st.isDirectory()) yield* walkDirectory(path, st, files, visited);
    else throw new Error(`FileSource: '${given}' is neither a regular file nor a directory`);
  }
  // A file given twice, or below two of the paths, is read once.
  return [...new Set(files)];
}

function* walkDirectory(
  dir: string,
  st: Stats,
  files: string[],
  visited: Set<string>,
): Generator<FsCall, void, FsAnswer> {
  const id = `${st.dev}:${st.ino}`;
  if (visited.has(id)) return;
  visited.add(id);
  const names = (yield { op: 'readdir', path: dir }) as string[] | undefined;
  // A directory removed while it was listed holds nothing to read.
  if (names === undefined) return;
  for (const name of names.filter(listed).sort()) {
    const path = join(dir, name);
    const child = (yield { op: 'stat', path }) as Stats | undefined;
    if (child?.isFile()) files.push(path);
    else if (child?.isDirectory()) yield* walkDirectory(path, child, files, visited);
  }
}

/** ENOENT answers undefined (the entry vanished); anything else is an error with the path in it. */
function missingOr(e: unknown, path: string): undefined {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw new Error(`FileSource: cannot read '${path}': ${(e as Error).message}`, { cause: e });
}

function callSync(c: FsCall): FsAnswer {
  try {
    return c.op === 'stat' ? statSync(c.path) : readdirSync(c.path);
  } catch (e) {
    return missingOr(e, c.path);
  }
}

async function callAsync(c: FsCall): Promise<FsAnswer> {
  try {
    return c.op === 'stat' ? await stat(c.path) : await readdir(c.path);
  } catch (e) {
    return missingOr(e, c.path);
  }
}

/** Absolute paths of the files below `paths`, sorted within each directory; throws for a missing path. */
export function listFilesSync(paths: readonly string[]): string[] {
  const w = walk(paths);
  for (let r = w.next(); ;) {
    if (r.done) return r.value;
    r = w.next(callSync(r.value));
  }
}

/** listFilesSync without blocking the event loop. */
export async function listFiles(paths: readonly string[]): Promise<string[]> {
  const w = walk(paths);
  for (let r = w.next(); ;) {
    if (r.done) return r.value;
    r = w.next(await callAsync(r.value));
  }
}
