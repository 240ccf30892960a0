import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../../lambdas/server/dashboard-assets.js';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { call, pollUntil, startInProcess, type TempDir, tempDir } from '../support/e2e-server.js';
import {
  chartInk,
  focused,
  HAS_CHROMIUM,
  launchChromium,
  openPage,
  simulate,
  uploadCopyOfChampion,
  waitForViews,
} from './dashboard-support.js';

const HOUR = 3_600_000;
const ANALYTICS_VIEWS = ['performance', 'segments', 'models', 'fraud', 'experiments'];

if (!HAS_CHROMIUM) console.warn('chromium is not installed: the dashboard browser tests are skipped');

describe.skipIf(!HAS_CHROMIUM)('the dashboard in headless Chromium', () => {
  let dir: TempDir;
  let server: LocalRuntime;
  let browser: Browser;
  let signIn: string;

  beforeAll(async () => {
    dir = await tempDir('dashboard');
    server = await startInProcess(dir.path);
    browser = await launchChromium();
    signIn = `${server.url}/#token=${encodeURIComponent(server.adminToken)}`;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await dir?.cleanup();
  });

  it('serves the page and its bundle at / with a strict Content-Security-Policy and no token in them', async () => {
    // Act
    const page = await call(server.url, 'GET', '/');
    const script = await call(server.url, 'GET', '/assets/dashboard.js');
    const style = await call(server.url, 'GET', '/assets/dashboard.css');

    // Assess
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(page.text).toContain('<script type="module" src="/assets/dashboard.js">');
    expect(page.text).not.toMatch(/<script>|<style>| on[a-z]+=/);
    expect(page.text).toContain('href="/health"');
    expect(page.text).toContain('href="/openapi.json"');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(style.headers.get('content-type')).toContain('text/css');
    for (const res of [page, script, style]) expect(res.text).not.toContain(server.adminToken);
  });

  it('asks for the admin token, then shows each view empty on a database without traffic', async () => {
    // Prepare
    const { page, errors } = await openPage(browser);

    // Act: without a token
    await page.goto(`${server.url}/`);
    await waitForViews(page);

    // Assess
    await expect(page.getByLabel('Admin token').isVisible()).resolves.toBe(true);
    expect(await page.locator('.view-body .notice-info').count()).toBe(6);

    // Act: sign in with the keyboard
    await page.getByLabel('Admin token').fill(server.adminToken);
    await page.keyboard.press('Enter');
    await waitForViews(page);

    // Assess: a clear message in every analytics view, the bootstrap champion in the registry
    for (const view of ANALYTICS_VIEWS) {
      await expect(page.locator(`[data-view="${view}"] [data-state="empty"]`).count()).resolves.toBe(1);
    }
    expect(await page.locator('[data-view="performance"]').textContent()).toContain('npx adclick simulate');
    expect(await page.locator('[data-view="experiments"]').textContent()).toContain('No experiments yet');
    const registry = page.locator('[data-view="registry"]');
    expect(await registry.locator('tr[data-status="champion"]').count()).toBe(1);
    expect(await registry.textContent()).toContain('The drift monitor has not acted on any model');
    expect(await page.locator('canvas').count()).toBe(0);
    expect(errors).toEqual([]);
    mkdirSync(join(dir.path, 'screenshots'), { recursive: true });
    await page.screenshot({ path: join(dir.path, 'screenshots', 'dashboard-empty.png'), fullPage: true });
    await page.context().close();
  });

  it('takes the token from the sign-in link and removes it from the address bar', async () => {
    // Prepare
    const { page, errors } = await openPage(browser);

    // Act
    await page.goto(signIn);
    await waitForViews(page);

    // Assess
    expect(page.url()).toBe(`${server.url}/`);
    expect(await page.evaluate('sessionStorage.getItem("adclick.admin-token")')).toBe(server.adminToken);
    await expect(page.getByLabel('Admin token').isVisible()).resolves.toBe(false);
    expect(await page.locator('.notice-info').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  describe('after a short simulation', () => {
    let candidate: { model_id: string };
    let champion: { model_id: string; version: string };

    beforeAll(async () => {
      // Five hours of history, then an experiment champion vs a copy of it, then its traffic in
      // the next 20 seconds (an experiment counts from its creation on, until now).
      champion = (await call(server.url, 'GET', '/model/active', { token: server.adminToken })).json;
      candidate = await uploadCopyOfChampion(server, 'e2e-dashboard-candidate');
      const now = Date.now();
      const history = await simulate(server, {
        requests: 400,
        startMs: now - 5 * HOUR,
        endMs: now - 5 * 60_000,
        seed: 1,
        register: true,
      });
      const experiment = await call(server.url, 'POST', '/experiments', {
        token: server.adminToken,
        body: {
          name: 'champion vs copy',
          variants: [
            { model_id: champion.model_id, weight: 1 },
            { model_id: candidate.model_id, weight: 1 },
          ],
        },
      });
      expect(experiment.status).toBe(201);
      const liveStart = Date.parse(experiment.json.created_at) + 1_000;
      await simulate(server, {
        requests: 200,
        startMs: liveStart,
        endMs: liveStart + 20_000,
        seed: 2,
        register: false,
      });
      const token = server.adminToken;
      const range = { from: new Date(now - 6 * HOUR).toISOString(), to: new Date(now + HOUR).toISOString() };
      await pollUntil(
        () => call(server.url, 'GET', `/analytics/ad-performance?${new URLSearchParams(range)}&limit=10000`, { token }),
        (res) =>
          res.json?.rows?.reduce((a: number, r: { impressions: number }) => a + r.impressions, 0) >= history * 0.9,
        'the simulated impressions in the lake',
      );
      await pollUntil(
        () => call(server.url, 'GET', `/experiments/${experiment.json.experiment_id}`, { token }),
        (res) => res.json?.results?.variants?.every((v: { impressions: number }) => v.impressions > 0),
        "the experiment's impressions",
      );
    });

    it('draws every chart with data, fills the tables, and saves a screenshot', async () => {
      // Prepare
      const { page, errors } = await openPage(browser);

      // Act
      await page.goto(signIn);
      await waitForViews(page);

      // Assess: each chart painted its series
      for (const [name, series] of [
        ['volume', 2],
        ['ctr', 2],
        ['segments', 1],
        ['reliability', 2],
        ['lift', 1],
        ['fraud', 1],
      ] as const) {
        const charts = await chartInk(page, name);
        expect(charts.length, name).toBeGreaterThan(0);
        for (const chart of charts) {
          expect(chart.series, name).toBeGreaterThanOrEqual(series);
          expect(chart.points, name).toBeGreaterThan(0);
          expect(chart.painted, name).toBeGreaterThan(500);
        }
      }
      // ... and the numbers behind them
      for (const view of ['performance', 'segments', 'models', 'experiments', 'fraud']) {
        expect(await page.locator(`[data-view="${view}"] table.data-table tbody tr`).count(), view).toBeGreaterThan(0);
      }
      expect(await page.locator('[data-view="experiments"] [data-decision]').count()).toBe(1);
      expect(await page.locator('[data-view="experiments"] tbody tr').count()).toBe(2);
      expect(await page.locator('[data-view="registry"] tbody tr').count()).toBe(2);
      expect(await page.locator('[data-state="empty"]').count()).toBe(1); // the drift monitor's
      expect(errors).toEqual([]);

      // Act: the screenshot (the README's when asked for)
      await page.screenshot({ path: join(dir.path, 'screenshots', 'dashboard.png'), fullPage: true });
      if (process.env.ADCLICK_UPDATE_SCREENSHOT === '1') {
        await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
      }
      await page.context().close();
    });

    it('reaches every control with the keyboard alone and activates a model over the gate with it', async () => {
      // Prepare
      const { page, errors } = await openPage(browser);
      await page.goto(signIn);
      await waitForViews(page);

      // Act: Tab through the page
      const reached = new Set<string>();
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        reached.add(await focused(page));
      }

      // Assess
      for (const control of [
        'Skip to the dashboard',
        'range',
        'auto-refresh',
        'refresh',
        'ad-filter',
        'dimension',
        'experiment-choice',
        'Activate e2e-dashboard-candidate',
      ]) {
        expect(reached, control).toContain(control);
      }

      // Act: activate the candidate from the keyboard; a copy of the champion does not beat it
      // on the holdout, so the gate refuses and the page offers to force it
      const activate = page.getByRole('button', { name: 'Activate e2e-dashboard-candidate' });
      await activate.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();

      // Assess: the numbers are shown, focus is on Cancel
      const gate = await dialog.textContent();
      for (const figure of [
        'The gate refused e2e-dashboard-candidate',
        'Log loss',
        'Calibration',
        'Candidate',
        'Champion',
      ]) {
        expect(gate).toContain(figure);
      }
      expect(await focused(page)).toBe('Cancel');

      // Act: Tab to "Activate anyway", Enter
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Activate anyway');
      await page.keyboard.press('Enter');
      await page.locator('#status', { hasText: 'is now the champion' }).waitFor();

      // Assess: the registry has it, and so does the page
      const active = await call(server.url, 'GET', '/model/active', { token: server.adminToken });
      expect(active.json.model_id).toBe(candidate.model_id);
      await page.locator(`tr[data-model-id="${candidate.model_id}"][data-status="champion"]`).waitFor();

      // Act: roll back (the previous champion, through the gate again)
      await page.getByRole('button', { name: `Roll back to ${champion.version}` }).click();
      await page.getByRole('button', { name: 'Activate anyway' }).click();
      await page.locator(`tr[data-model-id="${champion.model_id}"][data-status="champion"]`).waitFor();

      // Assess
      const back = await call(server.url, 'GET', '/model/active', { token: server.adminToken });
      expect(back.json.model_id).toBe(champion.model_id);
      // Chromium logs every non-2xx answer; the two gate refusals are the only lines, and expected.
      expect(errors).toEqual(
        Array(2).fill('Failed to load resource: the server responded with a status of 409 (Conflict)'),
      );
      await page.context().close();
    });
  });
});
