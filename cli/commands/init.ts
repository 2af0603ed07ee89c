// weir init <directory>: a new job project from cli/templates/job: package.json (weir as a
// dependency, by path to this engine unless told otherwise), tsconfig, a job, a harness test and
// an in-process job test (vitest), a WeirJob deployment and a README.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../../common/package-root.js';
import { CliError } from '../errors.js';

interface InitFlags {
  name?: string;
  weir?: string;
}

/** Files whose names npm or git would treat specially inside the package are stored under another name. */
const RENAMED: Record<string, string> = { gitignore: '.gitignore' };

/** A deployment name and npm package name: an RFC 1123 label, as WeirJob's metadata.name requires. */
export function projectName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return name || 'weir-job';
}

/**
 * The test and build tools: with weir linked from this engine, linked from the engine's own
 * node_modules too (the versions its tests use; `npm install` then needs no registry); otherwise
 * the engine's version ranges, from the registry.
 */
function devDependencies(linked: boolean): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const dev = pkg.devDependencies ?? {};
  const spec = (name: string, fallback: string) => {
    const local = join(packageRoot(), 'node_modules', name);
    return linked && existsSync(join(local, 'package.json')) ? `file:${local}` : (dev[name] ?? fallback);
  };
  return {
    typesNodeVersion: spec('@types/node', '^20.19.0'),
    typescriptVersion: spec('typescript', '^5.9.0'),
    vitestVersion: spec('vitest', '^4.1.0'),
  };
}

async function templateFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await templateFiles(path)));
    else out.push(path);
  }
  return out;
}

export async function initProject(directory: string, flags: InitFlags = {}): Promise<{ dir: string; files: string[] }> {
  const dir = resolve(directory);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0))
    throw new CliError(`${directory} exists and is not an empty directory`);
  const name = flags.name ?? projectName(dir);
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name))
    throw new CliError(
      `invalid project name '${name}': lower case letters, digits and '-' (it names the deployment too)`,
    );
  const values: Record<string, string> = {
    name,
    weirDependency: flags.weir ?? `file:${packageRoot()}`,
    ...devDependencies(flags.weir === undefined),
  };
  const templates = join(packageRoot(), 'cli', 'templates', 'job');
  const written: string[] = [];
  for (const file of await templateFiles(templates)) {
    const rel = relative(templates, file);
    const target = join(dir, ...rel.split('/').map((p) => RENAMED[p] ?? p));
    const text = (await readFile(file, 'utf8')).replace(/\{\{(\w+)\}\}/g, (m, key: string) => values[key] ?? m);
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, text);
    written.push(relative(dir, target));
  }
  return { dir, files: written.sort() };
}

export function initCommand(): Command {
  return new Command('init')
    .description(
      'create a job project: a job, a harness test and an in-process job test (vitest), a deployment file and a README',
    )
    .argument('<directory>', 'the new project directory (created; must be empty if it exists)')
    .option('--name <name>', 'project and deployment name (default: the directory name)')
    .option('--weir <spec>', 'the weir dependency in package.json, e.g. a version (default: file: this engine)')
    .action(async (directory: string, flags: InitFlags) => {
      const { dir, files } = await initProject(directory, flags);
      process.stdout.write(
        `Created ${dir}:\n${files.map((f) => `  ${f}\n`).join('')}\nNext:\n  cd ${relative(process.cwd(), dir) || '.'}\n  npm install\n  npm test\n`,
      );
    });
}
