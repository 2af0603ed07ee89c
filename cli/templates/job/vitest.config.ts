import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// A weir linked by path (file:) lies outside node_modules, where vitest would transform the
// engine's compiled files itself; loading them as Node does makes the first test seconds faster.
const weir = realpathSync(fileURLToPath(new URL('./node_modules/weir', import.meta.url)));

export default defineConfig({
  test: {
    server: { deps: { external: [new RegExp(`^${weir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`)] } },
  },
});
