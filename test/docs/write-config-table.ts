// Rewrites README.md's configuration table from common/config.ts (`npm run docs:config`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigurationTable } from '../../common/config-table.js';

const readme = readFileSync('README.md', 'utf8');
const next = withConfigurationTable(readme);
writeFileSync('README.md', next);
process.stdout.write(
  next === readme ? 'README.md: configuration table unchanged\n' : 'README.md: configuration table rewritten\n',
);
