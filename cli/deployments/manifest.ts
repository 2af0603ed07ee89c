// Reading deployment files for `weir apply` and `weir diff`: every YAML document of every file (a
// directory: its *.yaml and *.yml files, sorted), each checked strictly before anything is sent, with
// refusals naming the file, the document, the path and the reason, as kubectl does.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describeProblem, validateDocument, type WeirJobDocument } from '../../common/deployment-spec.js';
import { CliError } from '../errors.js';

export interface LoadedDocument {
  /** The file as given (or found in the directory given). */
  file: string;
  /** 1-based position among the file's documents, empty ones included. */
  index: number;
  document: WeirJobDocument;
}

/** Every problem as one line each: `error: deploy.yaml: document 2: spec.parallelism: must be an integer`. */
export class ManifestError extends CliError {
  constructor(readonly problems: string[]) {
    super(problems.join('\nerror: '));
  }
}

export function where(d: { file: string; index: number }): string {
  return `${d.file}: document ${d.index}`;
}

/** The files `-f` names: a file as it is, a directory's *.yaml / *.yml (not recursive), sorted. */
export function manifestFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      throw new CliError(
        `cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
      );
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const found = readdirSync(p)
      .filter((f) => /\.ya?ml$/i.test(f))
      .sort()
      .map((f) => join(p, f));
    if (found.length === 0) throw new CliError(`${p} holds no *.yaml or *.yml files`);
    files.push(...found);
  }
  return files;
}

/** Parses and checks every document; throws a ManifestError listing every problem found. */
export function loadManifests(paths: string[]): LoadedDocument[] {
  const problems: string[] = [];
  const loaded: LoadedDocument[] = [];
  for (const file of manifestFiles(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      problems.push(`${file}: cannot be read: ${(e as Error).message}`);
      continue;
    }
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) continue; // an empty stream
    docs.forEach((doc, i) => {
      const at = { file, index: i + 1 };
      if (doc.errors.length) {
        // The parser's first line says what and where ("... at line 4, column 1:"); lines are counted in the file.
        for (const e of doc.errors)
          problems.push(`${where(at)}: invalid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`);
        return;
      }
      const value: unknown = doc.toJS();
      // An empty document (a trailing `---`, a file of comments) is skipped, as kubectl does.
      if (value === null || value === undefined) return;
      const { document, problems: found } = validateDocument(value);
      if (!document) {
        for (const p of found) problems.push(`${where(at)}${nameOf(value)}: ${describeProblem(p)}`);
        return;
      }
      loaded.push({ ...at, document });
    });
  }
  const seen = new Map<string, LoadedDocument>();
  for (const d of loaded) {
    const first = seen.get(d.document.metadata.name);
    if (first)
      problems.push(`${where(d)}: metadata.name: ${d.document.metadata.name} is already defined by ${where(first)}`);
    else seen.set(d.document.metadata.name, d);
  }
  if (problems.length) throw new ManifestError(problems);
  if (loaded.length === 0) throw new CliError(`no WeirJob documents in ${paths.join(', ')}`);
  return loaded;
}

/** ` (orders)` when the document names itself, for messages about it. */
function nameOf(value: unknown): string {
  const name = (value as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === 'string' && name.length <= 80 ? ` (${name})` : '';
}

/** A bundle path in a document is relative to the document's file. */
export function bundlePathOf(d: LoadedDocument): string {
  return resolve(join(d.file, '..'), d.document.spec.bundle);
}
