// The directories a REST request may name: savepoint targets, restore paths (savepointPath) and
// savepoints to dispose must lie under state.savepoints.dir, state.checkpoints.dir (or its default
// under the JobManager's working directory) or a directory of security.rest.allowed-dirs. Paths are
// compared after `..` and symbolic links are resolved, so neither leads out of those directories.
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Configuration } from '../../common/config.js';
import { RequestError } from '../dispatcher.js';

const MAX_PATH_LENGTH = 4096;

/** The roots the configuration names, in the order the error message lists them. */
export function stateRoots(conf: Configuration, workingDir: string): string[] {
  const roots: string[] = [];
  const savepoints = conf.getOptionalString('state.savepoints.dir');
  if (savepoints) roots.push(resolve(savepoints));
  roots.push(resolve(conf.getOptionalString('state.checkpoints.dir') ?? join(workingDir, 'checkpoints')));
  for (const d of (conf.getOptionalString('security.rest.allowed-dirs') ?? '').split(';')) {
    const dir = d.trim();
    if (!dir) continue;
    if (!isAbsolute(dir)) throw new Error(`security.rest.allowed-dirs must list absolute directories, got '${dir}'`);
    roots.push(resolve(dir));
  }
  return [...new Set(roots)];
}

/** The real path of `path`: symbolic links of its existing part resolved, the missing rest appended. */
async function realPathOf(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...missing.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = dirname(current);
      if (parent === current) return path;
      missing.push(basename(current));
      current = parent;
    }
  }
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith('../'));
}

export class StatePaths {
  constructor(readonly roots: string[]) {}

  static of(conf: Configuration, workingDir: string): StatePaths {
    return new StatePaths(stateRoots(conf, workingDir));
  }

  /**
   * `path` as given when it lies under one of the roots; a RequestError otherwise (400 for a
   * malformed path, 403 for one outside). `what` names the field in messages.
   */
  async check(path: unknown, what: string): Promise<string> {
    if (typeof path !== 'string' || path === '') throw new RequestError(`${what} must be a non-empty string`);
    if (path.length > MAX_PATH_LENGTH) throw new RequestError(`${what} is longer than ${MAX_PATH_LENGTH} characters`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(path)) throw new RequestError(`${what} contains control characters`);
    if (!isAbsolute(path)) throw new RequestError(`${what} '${path}' must be absolute`);
    let real: string;
    try {
      real = await realPathOf(resolve(path));
    } catch (e) {
      throw new RequestError(
        `${what} '${path}' cannot be resolved: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const roots = await Promise.all(this.roots.map((r) => realPathOf(r).catch(() => r)));
    if (roots.some((r) => within(r, real))) return path;
    throw new RequestError(
      `${what} '${path}' lies outside the directories REST requests may use (${this.roots.join(', ')}); ` +
        'use state.savepoints.dir, or add the directory to security.rest.allowed-dirs',
      403,
    );
  }
}
