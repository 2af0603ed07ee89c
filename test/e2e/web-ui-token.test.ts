// The web UI of a JobManager with security.rest.token, in a real browser: the page loads without
// the token, asks for it once, says so when it is refused, shows the overview with the right one,
// and keeps it for the browser session only.
import { type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';

const hasChromium = browserAvailable('web-ui browser tests');

const TOKEN = 'ui-token-8f41a2c07d';

let cluster: TestCluster | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('web UI with a REST token', () => {
  it.skipIf(!hasChromium)(
    'asks for the token, asks again when it is refused, then shows the overview and keeps the token for the session',
    async () => {
      cluster = await startCluster({ taskManagers: 1, slots: 1, token: TOKEN });
      browser = await launchBrowser();
      const base = cluster.restUrl.replace(/\/+$/, '');
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const unauthorized: string[] = [];
      page.on('response', (r) => {
        if (r.status() === 401) unauthorized.push(r.url());
      });

      await page.goto(`${base}/`);
      // One dialog, however many requests the page made at once.
      const dialog = page.locator('dialog[open][data-dialog=token]');
      await dialog.waitFor({ timeout: 15_000 });
      expect(await page.locator('dialog[data-dialog=token]').count()).toBe(1);
      expect(await dialog.locator('[data-testid=token-refused]').count()).toBe(0);

      // A wrong token: asked again, with the refusal said.
      await dialog.locator('[data-testid=token-input]').fill('not-the-token');
      await dialog.locator('[data-action=confirm]').click();
      await dialog.locator('[data-testid=token-refused]').waitFor({ timeout: 10_000 });
      expect(await page.locator('dialog[data-dialog=token]').count()).toBe(1);

      // The right one: the overview shows the TaskManager, without error banners.
      await dialog.locator('[data-testid=token-input]').fill(TOKEN);
      await dialog.locator('[data-action=confirm]').click();
      await expect
        .poll(() => page.locator('[data-testid=stat-taskmanagers] .stat-value').textContent(), { timeout: 20_000 })
        .toBe('1');
      expect(await page.locator('dialog[open]').count()).toBe(0);
      expect(await page.evaluate("sessionStorage.getItem('weir.rest-token')")).toBe(TOKEN);

      // Other pages and a reload use the kept token: no more refusals, no dialog.
      const refusedBefore = unauthorized.length;
      await page.goto(`${base}/#/taskmanagers`);
      await page.locator('[data-testid=taskmanagers] tr[data-tm-id]').first().waitFor({ timeout: 15_000 });
      await page.reload();
      await expect
        .poll(
          () =>
            page
              .locator('[data-testid=stat-taskmanagers] .stat-value, [data-testid=taskmanagers] tr[data-tm-id]')
              .count(),
          { timeout: 15_000 },
        )
        .toBeGreaterThan(0);
      await page.goto(`${base}/#/logs`);
      await expect.poll(() => page.locator('main').textContent(), { timeout: 15_000 }).toMatch(/JobManager started/);
      expect(unauthorized.slice(refusedBefore)).toEqual([]);
      expect(await page.locator('dialog[open]').count()).toBe(0);
      expect(await page.locator('.banner').count()).toBe(0);

      // A new browser session asks again.
      const other = await browser.newContext();
      const fresh = await other.newPage();
      await fresh.goto(`${base}/`);
      await fresh.locator('dialog[open][data-dialog=token]').waitFor({ timeout: 15_000 });
      await other.close();

      expect(pageErrors).toEqual([]);
      await context.close();
    },
    90_000,
  );
});
