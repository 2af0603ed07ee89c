// The Deployments page in a real browser against a real cluster: a deployment created with
// `weir apply`, upgraded to parallelism 2, then given a bundle whose main() throws (rolled back).
// The list shows it ROLLED_BACK with its job; the detail page shows the cause, desired against
// running, every version with its diff against the one before, the rollback, and links to the jobs.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { packageRoot } from '../../common/package-root.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';

const hasChromium = browserAvailable('deployments UI browser test');

const ROOT = packageRoot();
const WEIR = join(ROOT, 'bin', 'weir.js');
/** Screenshots for a look by eye: WEIR_UI_SCREENSHOTS=/tmp/dir. */
const SHOTS = process.env.WEIR_UI_SCREENSHOTS;
const run = promisify(execFile);

let cluster: TestCluster | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `deployments-${name}.png`), fullPage: true });
}

async function apply(spec: Record<string, unknown>): Promise<string> {
  const file = join(cluster!.dir, 'web.yaml');
  writeFileSync(file, stringify({ apiVersion: 'weir/v1', kind: 'WeirJob', metadata: { name: 'web-counts' }, spec }));
  const r = await run(process.execPath, [WEIR, 'apply', '-f', file, '--jobmanager', cluster!.restUrl], {
    timeout: 120_000,
  }).catch((e: { stdout: string }) => e);
  return r.stdout;
}

describe('deployments in the web UI', () => {
  it.skipIf(!hasChromium)(
    'lists a rolled-back deployment and shows its versions, diffs, rollback and jobs',
    async () => {
      cluster = await startCluster({ taskManagers: 1, slots: 3 });
      const out = join(cluster.dir, 'out');
      const spec = {
        bundle: join(ROOT, 'test/jobs/sp-count.ts'),
        args: [out, '1000000000', '10', '100', '300'],
        parallelism: 1,
        upgradeMode: 'savepoint',
      };
      expect(await apply(spec)).toMatch(/created: job [0-9a-f]{32}/);
      await cluster.waitFor(
        'the first job',
        async () => (await cluster!.rest('/deployments/web-counts')).body.jobState === 'RUNNING',
      );
      expect(await apply({ ...spec, parallelism: 2 })).toMatch(/upgraded: job/);
      expect(await apply({ ...spec, parallelism: 2, bundle: join(ROOT, 'test/jobs/main-throws.ts') })).toMatch(
        /rolled back: version 3 failed/,
      );
      const d = (await cluster.rest('/deployments/web-counts')).body;
      expect(d.status).toBe('ROLLED_BACK');

      browser = await launchBrowser();
      const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const base = cluster.restUrl.replace(/\/+$/, '');

      // The list: reached from the sidebar, one row with its status, desired state and job.
      await page.goto(`${base}/#/overview`);
      await page.locator('a.nav-link[data-nav=deployments]').click();
      const row = page.locator('[data-testid=deployments] tr[data-name=web-counts]');
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('[data-status]').getAttribute('data-status')).toBe('ROLLED_BACK');
      expect(await row.locator('td').nth(2).textContent()).toBe('running');
      expect(await row.locator('a[data-testid=job-link]').getAttribute('href')).toBe(`#/jobs/${d.jobId}`);
      expect(await row.textContent()).toContain('v3');
      expect(await row.textContent()).toContain('v2 runs');
      await shot(page, '1-list');

      // The detail: cause, desired (v3, the bundle that failed) against running (v2), and the versions.
      await row.locator('a.job-link').click();
      await page.waitForURL('**/#/deployments/web-counts');
      const versions = page.locator('[data-testid=versions] tr[data-version]');
      await expect.poll(() => versions.count(), { timeout: 10_000 }).toBe(4);
      expect(await page.locator('.job-title-row [data-status]').getAttribute('data-status')).toBe('ROLLED_BACK');
      expect(await page.locator('[data-testid=deployment-cause]').textContent()).toContain(
        'boom while building the pipeline',
      );
      const bundleRow = page.locator('[data-testid=desired-vs-running] tr[data-field=bundle]');
      expect(await bundleRow.getAttribute('class')).toBe('differs');
      expect(
        await page.locator('[data-testid=desired-vs-running] tr[data-field=parallelism]').getAttribute('class'),
      ).toBeNull();
      expect(
        await versions.evaluateAll((rows) =>
          rows.map((r) => [r.getAttribute('data-version'), r.getAttribute('data-action')]),
        ),
      ).toEqual([
        ['4', 'rolled-back'],
        ['3', 'upgraded'],
        ['2', 'upgraded'],
        ['1', 'created'],
      ]);
      const v2 = page.locator('[data-testid=versions] tr[data-version="2"]');
      expect(await v2.locator('[data-testid=version-changes]').textContent()).toBe('parallelism: 1 → 2');
      expect(await v2.textContent()).toContain('from savepoint');
      const v3 = page.locator('[data-testid=versions] tr[data-version="3"]');
      expect(await v3.getAttribute('class')).toBe('rolled-back');
      expect(await v3.locator('[data-status]').getAttribute('data-status')).toBe('ROLLED_BACK');
      expect(await v3.locator('[data-testid=version-changes]').textContent()).toMatch(
        /^bundle: [0-9a-f]{12} → [0-9a-f]{12}$/,
      );
      const v4 = page.locator('[data-testid=versions] tr[data-version="4"]');
      expect(await v4.getAttribute('class')).toBe('rollback');
      expect(await v4.textContent()).toContain('to the spec of v2');
      await shot(page, '2-detail');

      // Each version links its job: the rollback's job is the one running now, restored from the same savepoint.
      await v4.locator('a[data-testid=job-link]').click();
      await page.waitForURL(`**/#/jobs/${d.jobId}`);
      await expect.poll(() => page.locator('[data-testid=job-id]').textContent(), { timeout: 10_000 }).toBe(d.jobId);
      expect(await page.locator('[data-testid=restored-from]').textContent()).toContain(d.history[3].restoredFrom);
      await shot(page, '3-job');

      expect(await page.locator('.banner').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.close();
    },
    180_000,
  );
});
