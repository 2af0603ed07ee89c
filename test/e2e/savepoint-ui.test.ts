// Savepoints from the web UI, in a real browser against a real cluster: a stateful keyed job run
// from the submit page at parallelism 1 takes a savepoint ("Trigger savepoint"), is restarted at
// parallelism 2 in one action ("Restart": stop with savepoint, run from it), and its running
// counts go on where they stopped; the stopped job offers "Run again" from that savepoint.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/cluster.js';
import { finalCounts, readCommittedLines } from '../helpers/output.js';
import { browserAvailable, launchBrowser } from '../helpers/browser.js';

const hasChromium = browserAvailable('savepoint UI browser test');

/** Running counts per key in keyed ValueState, through the exactly-once FileSink. */
const JOB = 'test/jobs/cp-count.ts';
const KEYS = 20;
const RATE = 300;
/** Screenshots for a look by eye: WEIR_UI_SCREENSHOTS=/tmp/dir. */
const SHOTS = process.env.WEIR_UI_SCREENSHOTS;

type Cluster = Awaited<ReturnType<typeof startCluster>>;

const work = mkdtempSync(join(tmpdir(), 'weir-savepoint-ui-'));
let cluster: Cluster | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The newest progress panel of one kind of action, once it has settled; fails with its error. */
async function settled(page: Page, kind: string, timeout: number): Promise<Locator> {
  const op = page.locator(`[data-testid=operation][data-op=${kind}]`).first();
  await expect.poll(() => op.getAttribute('data-status'), { timeout }).not.toBe('running');
  if ((await op.getAttribute('data-status')) !== 'succeeded') {
    throw new Error(`${kind} failed in the UI: ${await op.textContent()}`);
  }
  return op;
}

describe('savepoints in the web UI', () => {
  it.skipIf(!hasChromium)(
    'triggers a savepoint, restarts a keyed job at a new parallelism from a savepoint, and offers to run the stopped job again',
    async () => {
      const savepointsDir = join(work, 'savepoints');
      const out = join(work, 'out');
      cluster = await startCluster({
        taskManagers: 2,
        slots: 2,
        config: { 'state.savepoints.dir': savepointsDir, 'state.checkpoints.dir': join(work, 'checkpoints') },
      });
      browser = await launchBrowser();
      const base = cluster.restUrl.replace(/\/+$/, '');
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      const jarId = await cluster.upload(await cluster.bundle(JOB));

      // Run it from the submit page at parallelism 1 (args: out, count, keys, rate, failAt, checkpoint interval).
      await page.goto(`${base}/#/submit`);
      const row = page.locator(`[data-testid=jars] tr[data-jar-id="${jarId}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.locator('input[aria-label=Parallelism]').fill('1');
      await row.locator('input[aria-label="Program arguments"]').fill(`${out} 1000000000 ${KEYS} ${RATE} -1 500`);
      await row.locator('[data-action=run]').click();
      await page.waitForURL(/#\/jobs\/[0-9a-f]{32}$/, { timeout: 20_000 });
      const oldJob = /#\/jobs\/([0-9a-f]{32})$/.exec(page.url())![1]!;
      await cluster.waitForJob(oldJob, ['RUNNING']);
      await expect.poll(() => page.locator('.job-title-row .badge').textContent(), { timeout: 20_000 }).toBe('RUNNING');
      await cluster.waitFor('the first committed counts', async () => readCommittedLines(out).length >= 200, 30_000);

      // Trigger savepoint: a dialog (the default directory is configured), then the path, with a copy button.
      await page.locator('.job-actions [data-action=trigger-savepoint]').click();
      const triggerDialog = page.locator('dialog[open][data-dialog=trigger-savepoint]');
      await triggerDialog.waitFor();
      expect(await triggerDialog.textContent()).toContain(savepointsDir);
      await shot(page, '1-trigger-dialog');
      await triggerDialog.locator('[data-action=confirm]').click();
      const triggered = await settled(page, 'trigger-savepoint', 60_000);
      const triggeredPath = (await triggered.locator('[data-testid=savepoint-path]').textContent())!;
      expect(triggeredPath.startsWith(savepointsDir)).toBe(true);
      expect(existsSync(triggeredPath)).toBe(true);
      expect(await triggered.locator('[data-action=copy]').count()).toBe(1);
      await shot(page, '2-triggered');

      // Restart at parallelism 2: the dialog starts from the job's parallelism.
      await page.locator('.job-actions [data-action=restart-job]').click();
      const restartDialog = page.locator('dialog[open][data-dialog=restart-job]');
      await restartDialog.waitFor();
      const parallelism = restartDialog.locator('input[name=parallelism]');
      expect(await parallelism.inputValue()).toBe('1');
      await parallelism.fill('2');
      await shot(page, '3-restart-dialog');
      await restartDialog.locator('[data-action=confirm]').click();
      const restart = await settled(page, 'restart', 120_000);
      await shot(page, '4-restarted');
      const restartPath = (await restart.locator('[data-testid=savepoint-path]').textContent())!;
      expect(restartPath.startsWith(savepointsDir)).toBe(true);
      expect(restartPath).not.toBe(triggeredPath);
      const newJob = (await restart.locator('a[data-testid=new-job]').textContent())!;
      expect(newJob).toMatch(/^[0-9a-f]{32}$/);
      expect(newJob).not.toBe(oldJob);

      // The old job ended FINISHED (stopped with a savepoint) and now offers "Run again".
      expect((await cluster.job(oldJob)).state).toBe('FINISHED');
      await expect
        .poll(() => page.locator('.job-title-row .badge').textContent(), { timeout: 10_000 })
        .toBe('FINISHED');
      await page.locator('.job-actions [data-action=run-again]').waitFor({ timeout: 10_000 });
      expect(await page.locator('.job-actions [data-action=stop-job]').count()).toBe(0);
      const linesAtStop = readCommittedLines(out).length;

      // The link opens the new job: RUNNING at parallelism 2, restored from the old job's savepoint.
      await restart.locator('a[data-testid=new-job]').click();
      await page.waitForURL(`**/#/jobs/${newJob}`);
      await expect.poll(() => page.locator('.job-title-row .badge').textContent(), { timeout: 30_000 }).toBe('RUNNING');
      const details = await cluster.job(newJob);
      expect(details.state).toBe('RUNNING');
      expect(details.parallelism).toBe(2);
      expect(details.vertices.find((v: { name: string }) => v.name.includes('Counter')).parallelism).toBe(2);
      expect(details['restored-from']).toMatchObject({ path: restartPath, 'job-id': oldJob, 'is-savepoint': true });
      await expect
        .poll(() => page.locator('[data-testid=job-parallelism]').textContent(), { timeout: 10_000 })
        .toBe('2');
      const restoredFrom = page.locator('[data-testid=restored-from]');
      expect(await restoredFrom.textContent()).toContain('Savepoint');
      expect(await restoredFrom.textContent()).toContain(restartPath);
      expect(await restoredFrom.locator('a[data-testid=restored-from-job]').getAttribute('href')).toBe(
        `#/jobs/${oldJob}`,
      );
      await shot(page, '5-new-job');

      // State went on: every key's updates over both jobs are exactly 1..N (a reset state would
      // write a second "key,1"; a lost savepoint a gap), and the new job has added to them.
      await cluster
        .waitFor(
          'the new job to commit counts',
          async () => readCommittedLines(out).length >= linesAtStop + 300,
          60_000,
        )
        .catch(async (e: Error) => {
          const c = (await cluster!.rest(`/jobs/${newJob}/checkpoints`)).body;
          throw new Error(
            `${e.message}; ${readCommittedLines(out).length - linesAtStop} new lines; the new job's checkpoint counts: ${JSON.stringify(c?.counts)}`,
          );
        });
      const counts = finalCounts(readCommittedLines(out));
      expect(counts.size).toBe(KEYS);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(linesAtStop + 300);

      // The checkpoints tab shows the restore and, for the old job, both savepoints.
      await page.locator('nav.tabs a', { hasText: 'Checkpoints' }).click();
      await page.locator('[data-testid=restored]').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-testid=restored]').textContent()).toContain(restartPath);
      await page.goto(`${base}/#/jobs/${oldJob}/checkpoints`);
      await expect
        .poll(() => page.locator('[data-testid=savepoints] tr[data-checkpoint-id]').count(), { timeout: 10_000 })
        .toBe(2);
      expect(await page.locator('[data-testid=latest-savepoint]').textContent()).toContain(restartPath);
      await shot(page, '6-old-job-checkpoints');

      // Run again, from the ended job's last savepoint: the dialog names it.
      await page.locator('.job-actions [data-action=run-again]').click();
      const again = page.locator('dialog[open][data-dialog=run-again]');
      await again.waitFor();
      await expect
        .poll(() => again.locator('[data-testid=restore-path]').first().textContent(), { timeout: 10_000 })
        .toBe(restartPath);
      await expect.poll(() => again.locator('select[name=jar]').inputValue(), { timeout: 10_000 }).toBe(jarId);
      await shot(page, '7-run-again-dialog');
      await again.locator('[data-action=dismiss]').click();
      await again.waitFor({ state: 'detached' });

      expect(await page.locator('.banner').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.close();
    },
    300_000,
  );
});
