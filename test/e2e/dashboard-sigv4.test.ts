import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { call, pollUntil, startInProcess, type TempDir, tempDir } from '../support/e2e-server.js';
import { chartInk, HAS_CHROMIUM, launchChromium, openPage, simulate, waitForViews } from './dashboard-support.js';
import { forwardAsAdmin, type Gateway, signingGateway, startDashboardCommand } from './sigv4-gateway.js';

const HOUR = 3_600_000;

/**
 * The dashboard against a deployed API (`adclick dashboard --api URL`), end to end in Chromium:
 * the page served by the command on loopback, its calls signed with SigV4 by the command, checked
 * by a stand-in for API Gateway's IAM authorisation, and answered by a real local server.
 */
describe.skipIf(!HAS_CHROMIUM)('the dashboard through adclick dashboard --api, in headless Chromium', () => {
  let dir: TempDir;
  let server: LocalRuntime;
  let gateway: Gateway;
  let proxy: ChildProcess;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = await tempDir('dashboard-sigv4');
    server = await startInProcess(dir.path);
    const now = Date.now();
    const impressions = await simulate(server, {
      requests: 300,
      startMs: now - 4 * HOUR,
      endMs: now - 5 * 60_000,
      seed: 3,
      register: true,
    });
    const range = new URLSearchParams({
      from: new Date(now - 5 * HOUR).toISOString(),
      to: new Date(now + HOUR).toISOString(),
    });
    await pollUntil(
      () => call(server.url, 'GET', `/analytics/ad-performance?${range}&limit=10000`, { token: server.adminToken }),
      (res) =>
        res.json?.rows?.reduce((a: number, r: { impressions: number }) => a + r.impressions, 0) >= impressions * 0.9,
      'the simulated impressions in the lake',
    );
    gateway = await signingGateway(forwardAsAdmin(server.url, 'prod', server.adminToken));
    ({ proc: proxy, base } = await startDashboardCommand(`${gateway.base}/prod/`));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    proxy?.kill('SIGTERM');
    await gateway?.close();
    await server?.close();
    await dir?.cleanup();
  });

  it('draws the views with the API’s data, every call signed, with no sign-in and no console error', async () => {
    // Prepare
    const { page, errors } = await openPage(browser);

    // Act
    await page.goto(`${base}/`);
    await waitForViews(page);

    // Assess: data drawn, no token asked for, every call through the gateway validly signed
    for (const name of ['volume', 'ctr', 'segments']) {
      const [chart] = await chartInk(page, name);
      expect(chart?.painted, name).toBeGreaterThan(0);
      expect(chart?.points, name).toBeGreaterThan(0);
    }
    await expect(page.getByLabel('Admin token').isVisible()).resolves.toBe(false);
    expect(await page.locator('[data-view="registry"] tr[data-status="champion"]').count()).toBe(1);
    expect(gateway.received.length).toBeGreaterThanOrEqual(5);
    expect(gateway.received.filter((r) => !r.signatureValid)).toEqual([]);
    expect(gateway.received.every((r) => r.url.startsWith('/prod/'))).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
