/**
 * What the dashboard tests share: headless Chromium (Debian's, never a downloaded one), a page
 * that records console errors, checks that a chart drew something, and a short simulation.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { planRun } from '../../bin/commands/simulate.js';
import { TrafficRun } from '../../bin/commands/simulate-run.js';
import { Stats } from '../../bin/commands/simulate-summary.js';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { packModel } from '../../sagemaker/index.js';
import { call } from '../support/e2e-server.js';

/** `.ci/run` installs Debian's chromium there; ADCLICK_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.ADCLICK_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs the tests as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, in order. */
  readonly errors: string[];
}

export async function openPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return { page, errors };
}

/** Resolves once every view has answered (the status line says when it was updated). */
export async function waitForViews(page: Page): Promise<void> {
  await page.locator('#status', { hasText: /Updated|Not signed in/ }).waitFor();
  await page.waitForFunction('document.querySelectorAll("[aria-busy]").length === 0');
}

/** Pixels a chart's canvas has painted (not transparent), and the series and points it plots. */
export async function chartInk(
  page: Page,
  name: string,
): Promise<{ painted: number; series: number; points: number }[]> {
  return page.evaluate(`[...document.querySelectorAll('[data-chart="${name}"]')].map((holder) => {
    const canvas = holder.querySelector('canvas');
    let painted = 0;
    if (canvas) {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
    }
    return { painted, series: Number(holder.dataset.series ?? 0), points: Number(holder.dataset.points ?? 0) };
  })`);
}

/** What has keyboard focus: its id, label or text. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const a = document.activeElement;
    if (!a || a === document.body) return '';
    return (a.id || a.getAttribute('aria-label') || a.textContent || '').trim();
  })()`);
}

/** The champion's folder uploaded again under another version: a second servable model. */
export async function uploadCopyOfChampion(server: LocalRuntime, version: string): Promise<{ model_id: string }> {
  const token = server.adminToken;
  const champion = (await call(server.url, 'GET', '/model/active', { token })).json;
  const artifact = await packModel(join(server.dataDir, 'models', champion.model_id, 'model'));
  const started = await call(server.url, 'POST', '/model/upload', { token, body: { version, metadata: {} } });
  await call(started.json.upload_url, 'PUT', '', {
    token,
    body: new Uint8Array(artifact),
    contentType: 'application/gzip',
  });
  return (await call(server.url, 'POST', `/model/upload/${started.json.model_id}/complete`, { token })).json;
}

/**
 * `adclick simulate`'s own traffic driver, in process: `requests` pages over [startMs, endMs),
 * sent as fast as the server answers, 5 % of it fraudulent. Returns the impressions accepted.
 */
export async function simulate(
  server: LocalRuntime,
  options: { requests: number; startMs: number; endMs: number; seed: number; register: boolean },
): Promise<number> {
  const plan = planRun(
    {
      server: server.url,
      token: server.adminToken,
      dataDir: server.dataDir,
      requests: options.requests,
      span: options.endMs - options.startMs,
      start: options.startMs,
      speed: null,
      concurrency: 8,
      seed: options.seed,
      worldSeed: 1,
      users: 20_000,
      ads: 300,
      sites: 60,
      candidates: 4,
      fraud: 0.05,
      runId: `dash${options.seed}`,
      register: options.register,
      json: true,
      progress: false,
    },
    Date.now(),
  );
  const stats = new Stats();
  const run = new TrafficRun(plan, stats, { token: server.adminToken });
  if (plan.register) await run.registerAds();
  await run.run();
  return stats.impressions.accepted;
}
