// The lint reads only the project's own code: what git ignores (npm start's .weir/ working
// directory with its job bundles, build output) is neither linted nor format-checked.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const generated = ['.weir/taskmanager-1/bundles/0a1b/job.mjs', 'dist/api/index.js', 'web-ui/dist/assets/index.js'];

describe('lint scope', () => {
  it('ESLint skips what git ignores and reads the sources', async () => {
    const eslint = new ESLint({ cwd: root });
    for (const f of generated) expect(await eslint.isPathIgnored(f), f).toBe(true);
    expect(await eslint.isPathIgnored('api/index.ts')).toBe(false);
    expect(await eslint.isPathIgnored('bin/weir.js')).toBe(false);
  });

  it("Prettier's check skips them too (its default ignore files: .gitignore and .prettierignore)", async () => {
    const ignorePath = ['.gitignore', '.prettierignore'].map((f) => root + f);
    for (const f of generated) expect((await prettier.getFileInfo(root + f, { ignorePath })).ignored, f).toBe(true);
    expect((await prettier.getFileInfo(root + 'api/index.ts', { ignorePath })).ignored).toBe(false);
  });
});
