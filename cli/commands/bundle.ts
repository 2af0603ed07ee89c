// weir bundle <entry.ts> -o <out.weir>: bundles a job module into a .weir file.
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { createBundle } from '../../common/bundle.js';
import { CliError } from '../errors.js';

export function bundleCommand(): Command {
  return new Command('bundle')
    .description('bundle a job module (TypeScript or JavaScript) into a .weir file')
    .argument('<entry>', 'the job module, whose default export is main(env, args)')
    .requiredOption('-o, --output <file>', 'the bundle file to write')
    .option('--name <name>', 'job bundle name (default: the entry file name)')
    .option('--version <version>', 'job bundle version', '0.0.0')
    .action(async (entry: string, opts: { output: string; name?: string; version: string }) => {
      if (!existsSync(entry)) throw new CliError(`no such file: ${entry}`);
      let result;
      try {
        result = await createBundle(entry, opts.output, { name: opts.name, version: opts.version });
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const { id, manifest } = result;
      process.stdout.write(`Wrote ${opts.output} (${manifest.name} ${manifest.version}, id ${id})\n`);
    });
}
