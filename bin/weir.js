#!/usr/bin/env node
// The weir command: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('error: weir is not built yet; run `npm run build` in the weir package first\n');
  process.exit(1);
}
const { runCli } = await import(main.href);
const code = await runCli(process.argv);
// Server commands keep running until a signal stops them; everything else exits now.
if (code !== 'running') process.exit(code);
