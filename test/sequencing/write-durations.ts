// Writes test/sequencing/durations.json from the JSON report of a full run (CI=1 npm test writes
// test-results.json): each test file's wall time in seconds, which the sequencer orders by.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

interface Report {
  testResults: { name: string; startTime: number; endTime: number }[];
}

const root = process.cwd();
const report = JSON.parse(readFileSync(process.argv[2] ?? 'test-results.json', 'utf8')) as Report;
const entries = report.testResults
  .map((t) => [relative(root, t.name).split('\\').join('/'), Math.round((t.endTime - t.startTime) / 100) / 10] as const)
  .sort((a, b) => b[1] - a[1]);
writeFileSync('test/sequencing/durations.json', JSON.stringify(Object.fromEntries(entries), null, 2) + '\n');
process.stdout.write(`test/sequencing/durations.json: ${entries.length} files\n`);
