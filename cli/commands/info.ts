// weir info <bundle>: plans the bundle locally (main() runs in a time-limited child process,
// exactly as on the JobManager) and shows the job graph, like Flink's `flink info`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { extractBundle, readBundleFile } from '../../common/bundle.js';
import type { JobGraph } from '../../common/jobgraph.js';
import { planJob } from '../../jobmanager/planner.js';
import { CliError } from '../errors.js';
import { formatTable } from '../format.js';
import { positiveInt } from '../options.js';

export function describeJobGraph(graph: JobGraph): string {
  const names = new Map(graph.vertices.map((v) => [v.id, v.name]));
  const out: string[] = [`Job: ${graph.name}`, '', 'Vertices:'];
  const vrows = graph.vertices.map((v) => [v.id, v.name, String(v.parallelism), String(v.maxParallelism)]);
  out.push(indent(formatTable(['ID', 'NAME', 'PARALLELISM', 'MAX PARALLELISM'], vrows)));
  if (graph.edges.length) {
    out.push('', 'Edges:');
    const erows = graph.edges.map((e) => [
      names.get(e.source) ?? e.source,
      names.get(e.target) ?? e.target,
      e.partitioner.toUpperCase(),
    ]);
    out.push(indent(formatTable(['FROM', 'TO', 'PARTITIONER'], erows)));
  }
  if (graph.warnings.length) out.push('', 'Warnings:', ...graph.warnings.map((w) => `  ${w}`));
  return out.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export function infoCommand(): Command {
  return new Command('info')
    .description("show a bundle's manifest and the job graph its main() builds")
    .argument('<bundle>', 'the .weir bundle')
    .argument('[args...]', 'program arguments passed to main(env, args); put them after --')
    .option('-p, --parallelism <n>', 'default parallelism to plan with', positiveInt('--parallelism'), 1)
    .option('--json', 'print manifest and job graph as JSON')
    .option('--timeout <seconds>', 'time limit for main()', positiveInt('--timeout'), 30)
    .action(async (bundle: string, args: string[], opts: { parallelism: number; json?: boolean; timeout: number }) => {
      let info;
      try {
        info = await readBundleFile(bundle);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const dir = await mkdtemp(join(tmpdir(), 'weir-info-'));
      let graph: JobGraph;
      try {
        const { entryPath } = await extractBundle(bundle, dir);
        graph = await planJob(entryPath, {
          programArgs: args,
          defaultParallelism: opts.parallelism,
          timeoutMs: opts.timeout * 1000,
          fallbackName: info.manifest.name,
        });
      } catch (e) {
        throw new CliError((e as Error).message);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify({ id: info.id, manifest: info.manifest, jobGraph: graph }, null, 2) + '\n');
        return;
      }
      const m = info.manifest;
      process.stdout.write(
        `Bundle: ${m.name} ${m.version} (built for Weir ${m.engineVersion})\nId: ${info.id}\n${describeJobGraph(graph)}\n`,
      );
    });
}
