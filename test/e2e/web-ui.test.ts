// The web UI in a real browser against a real cluster: the overview shows the task
// managers, a running job's page shows its graph with live record counts, and the job can
// be cancelled from the page.
import { type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/cluster.js';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';

const hasChromium = browserAvailable('web-ui browser tests');

/** An endless job, so it is still running when the test cancels it. */
const EXAMPLE = 'endless';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

let cluster: Cluster | undefined;
let browser: Browser | undefined;

async function setup(): Promise<{ cluster: Cluster; browser: Browser; base: string }> {
  cluster ??= await startCluster({ taskManagers: 2, slots: 2 });
  browser ??= await launchBrowser();
  return { cluster, browser, base: cluster.restUrl.replace(/\/+$/, '') };
}

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** Uncaught page errors would otherwise go unnoticed: the test fails on any. */
async function openPage(b: Browser): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await b.newPage({ viewport: { width: 1400, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return { page, pageErrors };
}

async function restJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.ok, `${url} answered ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

const toNumber = (text: string | null): number => Number((text ?? '').replace(/[^0-9]/g, '') || 0);

describe('web UI', () => {
  it.skipIf(!hasChromium)(
    'shows the task managers, a running job with its graph and record counts, and cancels it',
    async () => {
      const { cluster, browser, base } = await setup();
      const { page, pageErrors } = await openPage(browser);

      await page.goto(`${base}/`);
      // The overview: both task managers, as a number and as table rows.
      await expect
        .poll(() => page.locator('[data-testid=stat-taskmanagers] .stat-value').textContent(), { timeout: 20_000 })
        .toBe('2');
      await expect.poll(() => page.locator('[data-testid=taskmanagers] tr[data-tm-id]').count()).toBe(2);
      const tms = await restJson<{ taskmanagers: { id: string }[] }>(`${base}/taskmanagers`);
      for (const tm of tms.taskmanagers) {
        expect(await page.locator(`[data-testid=taskmanagers] tr[data-tm-id="${tm.id}"]`).count()).toBe(1);
      }

      const jid = await cluster.submitExample(EXAMPLE, [], 2);
      expect(jid).toMatch(/^[0-9a-f]{32}$/);

      // The running job shows up on the overview (polled), and its link opens the job page.
      const link = page.locator(`[data-testid=running-jobs] tr[data-jid="${jid}"] a.job-link`);
      await link.waitFor({ timeout: 20_000 });
      await link.click();
      await page.waitForURL(`**/#/jobs/${jid}`);

      // One box per vertex of the job, as the REST API reports them.
      const details = await restJson<{ name: string; vertices: { id: string }[] }>(`${base}/jobs/${jid}`);
      expect(details.vertices.length).toBeGreaterThan(1);
      const boxes = page.locator('[data-testid=job-graph] .vertex');
      await expect.poll(() => boxes.count(), { timeout: 10_000 }).toBe(details.vertices.length);
      for (const v of details.vertices) {
        expect(await page.locator(`[data-testid=job-graph] .vertex[data-vertex-id="${v.id}"]`).count()).toBe(1);
      }
      // Vertices are connected: dagre drew at least one edge between the boxes.
      expect(await page.locator('[data-testid=job-graph] path.graph-edge').count()).toBeGreaterThan(0);
      expect(await page.locator('.job-title').textContent()).toBe(details.name);

      // Records flow: the boxes' counters go above zero and keep growing with the polls.
      const recordsOut = async (): Promise<number> => {
        const texts = await page.locator('[data-testid=job-graph] [data-metric=write-records]').allTextContents();
        return texts.reduce((sum, t) => sum + toNumber(t), 0);
      };
      await expect.poll(recordsOut, { timeout: 30_000 }).toBeGreaterThan(0);
      const first = await recordsOut();
      await expect.poll(recordsOut, { timeout: 15_000 }).toBeGreaterThan(first);
      const recordsIn = await page.locator('[data-testid=job-graph] [data-metric=read-records]').allTextContents();
      expect(recordsIn.some((t) => toNumber(t) > 0)).toBe(true);
      // Each running box is coloured by its busy / backpressured / idle time, with a legend (as Flink's graph).
      await expect
        .poll(() => page.locator('[data-testid=job-graph] .vertex.vertex-loaded').count(), { timeout: 15_000 })
        .toBe(details.vertices.length);
      for (const box of await boxes.all()) {
        for (const a of ['data-busy', 'data-backpressured', 'data-idle'])
          expect(Number(await box.getAttribute(a))).toBeGreaterThanOrEqual(0);
      }
      expect(await page.locator('[data-testid=job-graph] .graph-legend .legend-swatch').count()).toBe(3);
      // The records/s chart has been drawn.
      expect(await page.locator('[data-testid=throughput-chart] canvas').count()).toBeGreaterThan(0);
      expect(await page.locator('.job-title-row .badge').textContent()).toBe('RUNNING');

      // Cancel from the page: a confirmation dialog first, then the job ends CANCELED.
      await page.locator('.job-actions [data-action=cancel-job]').click();
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain(jid);
      await dialog.locator('[data-action=confirm]').click();
      await expect
        .poll(() => page.locator('.job-title-row .badge').textContent(), { timeout: 30_000 })
        .toBe('CANCELED');
      expect((await restJson<{ state: string }>(`${base}/jobs/${jid}`)).state).toBe('CANCELED');
      // The cancel button goes away once the job is over.
      expect(await page.locator('.job-actions [data-action=cancel-job]').count()).toBe(0);

      // The jobs list now files it under completed, with a readable duration.
      await page.goto(`${base}/#/jobs`);
      const row = page.locator(`[data-testid=completed-jobs] tr[data-jid="${jid}"]`);
      await row.waitFor({ timeout: 10_000 });
      expect(await row.locator('.badge').textContent()).toBe('CANCELED');
      expect(await row.locator('td.duration').textContent()).toMatch(/^(\d+ms|\d+s|\d+m \d+s)$/);

      expect(await page.locator('.banner').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.close();
    },
    180_000,
  );

  it.skipIf(!hasChromium)(
    'shows a visible error banner when the REST API refuses a request',
    async () => {
      const { browser, base } = await setup();
      const { page, pageErrors } = await openPage(browser);
      const missing = '0'.repeat(32);
      await page.goto(`${base}/#/jobs/${missing}`);
      const banner = page.locator('.banner-error');
      await banner.first().waitFor({ timeout: 10_000 });
      expect(await banner.first().textContent()).toContain(`/jobs/${missing}`);
      expect(await banner.first().textContent()).toContain('404');

      // Navigating to a page whose requests succeed clears it.
      await page.goto(`${base}/#/overview`);
      await expect.poll(() => page.locator('[data-testid=stat-taskmanagers] .stat-value').textContent()).toBe('2');
      expect(await page.locator('.banner-error').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.close();
    },
    120_000,
  );
});
