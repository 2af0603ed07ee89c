// The TaskManager's garbage collector settings reach the young-generation collections of its slot
// threads: with parallel scavenges off (the default) no helper thread takes part in one.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/package-root.js';

/** Milliseconds V8's helper threads spent in the scavenges of a worker that allocates, per V8's GC trace. */
async function helperScavengeMs(
  parallelScavenge: string | undefined,
): Promise<{ scavenges: number; helperMs: number }> {
  const dist = (f: string) => JSON.stringify(pathToFileURL(join(packageRoot(), 'dist', ...f.split('/'))).href);
  const entries = parallelScavenge === undefined ? {} : { 'taskmanager.gc.parallel-scavenge': parallelScavenge };
  const script = `
    const { Configuration } = await import(${dist('common/config.js')});
    const { applyGarbageCollectionSettings } = await import(${dist('taskmanager/gc-settings.js')});
    const { setFlagsFromString } = await import('node:v8');
    const { Worker } = await import('node:worker_threads');
    applyGarbageCollectionSettings(new Configuration(${JSON.stringify(entries)}));
    setFlagsFromString('--trace-gc-nvp');
    // Survivors make scavenges long enough to be split over helpers.
    new Worker('let kept = []; for (let i = 0; i < 4e6; i++) { kept.push({ i }); if (kept.length > 2e5) kept = []; }',
      { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 192 } });
  `;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 64 << 20 }, (err, out) =>
      err ? reject(err) : resolve(out),
    ),
  );
  const scavenges = stdout.split('\n').filter((l) => l.includes(' gc=s '));
  const helperMs = scavenges
    .map((l) => Number(/ background\.scavenge\.parallel=([\d.]+)/.exec(l)?.[1] ?? NaN))
    .reduce((a, b) => a + b, 0);
  return { scavenges: scavenges.length, helperMs };
}

describe('garbage collector settings', () => {
  it('by default, a slot thread scavenges its young generation without helper threads', async () => {
    const { scavenges, helperMs } = await helperScavengeMs(undefined);
    expect(scavenges).toBeGreaterThan(3);
    expect(helperMs).toBe(0);
  });

  it('with taskmanager.gc.parallel-scavenge, helper threads take part as in V8 by default', async () => {
    const { scavenges, helperMs } = await helperScavengeMs('true');
    expect(scavenges).toBeGreaterThan(3);
    expect(helperMs).toBeGreaterThan(0);
  });
});
