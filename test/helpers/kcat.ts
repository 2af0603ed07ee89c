// kcat (librdkafka) as the independent Kafka client of the connector tests: it produces the input
// and reads the output, so what Weir writes is checked by a client Weir does not share code with.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const KCAT = '/usr/bin/kcat';
export const hasKcat = existsSync(KCAT);

/** Produces `key:value` lines (keyed records) into `topic`, optionally into one partition. */
export function kcatProduce(
  bootstrap: string,
  topic: string,
  records: readonly { key: string; value: string }[],
  partition?: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [
      '-b',
      bootstrap,
      '-P',
      '-t',
      topic,
      '-K',
      '\t',
      '-X',
      'linger.ms=5',
      ...(partition !== undefined ? ['-p', String(partition)] : []),
    ];
    const p = spawn(KCAT, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += String(d)));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat -P exited with ${code}: ${err}`))));
    p.stdin.end(records.map((r) => `${r.key}\t${r.value}\n`).join(''));
  });
}

/** Every record value of `topic` up to its end (for read_committed: up to the last stable offset). */
export function kcatConsume(
  bootstrap: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      KCAT,
      ['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%s\\n', '-X', `isolation.level=${isolation}`],
      { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (e, stdout, stderr) =>
        e
          ? reject(new Error(`kcat -C failed: ${e.message} ${stderr}`))
          : resolve(stdout.split('\n').filter((l) => l.length > 0)),
    );
  });
}
