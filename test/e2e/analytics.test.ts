import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { call, type HttpResult, pollUntil, startInProcess, type TempDir, tempDir } from '../support/e2e-server.js';

const PROBLEM = 'application/problem+json';
const ROUTES = ['/analytics/ad-performance', '/analytics/user-segments', '/analytics/models', '/analytics/fraud'];
const MINUTE = 60_000;

const iso = (ms: number) => new Date(ms).toISOString();
const qs = (q: Record<string, string>) => `?${new URLSearchParams(q)}`;

function expectProblem(res: HttpResult, status: number, path?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain(PROBLEM);
  if (path !== undefined) expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(path);
}

describe('the analytics routes on the local server', () => {
  let dir: TempDir;
  let server: LocalRuntime;
  let base: string;
  let token: string;
  // Events happen from 20 minutes ago, within one UTC day (their rows are per day); the range
  // covers them with room on both sides.
  const twentyAgo = Date.now() - 20 * MINUTE;
  const start =
    iso(twentyAgo).slice(0, 10) === iso(twentyAgo + 3 * MINUTE).slice(0, 10) ? twentyAgo : twentyAgo - 5 * MINUTE;
  const range = { from: iso(start - 40 * MINUTE), to: iso(start + 30 * MINUTE) };

  beforeAll(async () => {
    dir = await tempDir('analytics');
    server = await startInProcess(dir.path);
    base = server.url;
    token = server.adminToken;
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  const get = (path: string, q: Record<string, string>, auth = token) =>
    call(base, 'GET', `${path}${qs(q)}`, { token: auth });

  it('refuses every analytics route without the admin token with a 401 problem', async () => {
    for (const path of ROUTES) {
      // Act
      const missing = await call(base, 'GET', `${path}${qs({ ...range, dimension: 'activity' })}`);
      const wrong = await get(path, { ...range, dimension: 'activity' }, 'not-the-admin-token-at-all');

      // Assess
      expectProblem(missing, 401);
      expect(missing.headers.get('www-authenticate')).toMatch(/Bearer/);
      expectProblem(wrong, 401);
    }
  });

  it('refuses a range over 92 days, a range that ends before it starts and an unknown granularity, naming the parameter', async () => {
    // Act
    const long = await get('/analytics/ad-performance', { from: '2026-01-01T00:00:00Z', to: '2026-04-03T00:00:01Z' });
    const backwards = await get('/analytics/models', { from: range.to, to: range.from });
    const granularity = await get('/analytics/fraud', { ...range, granularity: 'minute' });
    const dimension = await get('/analytics/user-segments', range);

    // Assess
    expectProblem(long, 400, 'to');
    expect(long.json.detail).toContain('92 days');
    expectProblem(backwards, 400, 'to');
    expectProblem(granularity, 400, 'granularity');
    expectProblem(dimension, 400, 'dimension');
  });

  it('answers 200 with no rows while the lake holds no events', async () => {
    // Act
    const answers = await Promise.all(
      ROUTES.map((path) => get(path, path.endsWith('segments') ? { ...range, dimension: 'device_type' } : range)),
    );

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const [performance, segments, models, fraud] = answers.map((a) => a.json);
    expect(performance).toMatchObject({ ...range, rows: [], truncated: false, attribution_window_seconds: 3600 });
    expect(segments).toMatchObject({ dimension: 'device_type', segments: [] });
    expect(models).toMatchObject({ models: [] });
    expect(fraud).toMatchObject({ rows: [] });
  });

  it('counts posted events once the lake has them: replays once, attributed clicks only, too-fast clicks flagged', async () => {
    // Prepare: three predictions, then their impressions (one replayed), one click 30 s after
    // its impression, one explicit non-click, and a click 200 ms after its impression.
    const predictions = [];
    for (const [user, device] of [
      ['e2e-u1', 'mobile'],
      ['e2e-u2', 'desktop'],
      ['e2e-u3', 'mobile'],
    ] as const) {
      const res = await call(base, 'POST', '/predict', {
        body: { user_id: user, ad_id: 'e2e-ad', features: { device_type: device } },
      });
      expect(res.status).toBe(200);
      predictions.push({ user, device, ...res.json });
    }
    const impressions = predictions.map((p, k) => ({
      type: 'impression',
      impression_id: `e2e-i${k}`,
      prediction_id: p.prediction_id,
      user_id: p.user,
      ad_id: 'e2e-ad',
      device_type: p.device,
      location: 'FR',
      features: { site_id: 'e2e-site' },
      timestamp: iso(start + k * MINUTE),
    }));
    const events = [
      ...impressions,
      impressions[0],
      { type: 'click', click_id: 'e2e-c0', impression_id: 'e2e-i0', clicked: true, timestamp: iso(start + 30_000) },
      {
        type: 'click',
        click_id: 'e2e-c1',
        impression_id: 'e2e-i1',
        clicked: false,
        timestamp: iso(start + MINUTE + 30_000),
      },
      {
        type: 'click',
        click_id: 'e2e-c2',
        impression_id: 'e2e-i2',
        clicked: true,
        timestamp: iso(start + 2 * MINUTE + 200),
      },
    ];
    const posted = await call(base, 'POST', '/event/batch', { body: { events } });
    expect(posted.status).toBe(200);
    expect(posted.json.results.map((r: { status: string }) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'duplicate',
      'accepted',
      'accepted',
      'accepted',
    ]);

    // Act: the flag first. It is appended after its click is durable, so it reaches the lake
    // with the click or after it; until then the lake counts the click like any other.
    const fraud = await pollUntil(
      () => get('/analytics/fraud', range),
      (res) => res.json?.rows?.length > 0,
      'the flagged click in the lake',
    );
    const performance = await pollUntil(
      () => get('/analytics/ad-performance', { ...range, ad_id: 'e2e-ad' }),
      (res) => res.json?.rows?.[0]?.predicted_impressions === 3,
      'the events and predictions in the lake',
    );
    const segments = await get('/analytics/user-segments', { ...range, dimension: 'device_type' });
    const models = await get('/analytics/models', range);

    // Assess
    const sum = predictions.reduce((s, p) => s + p.probability, 0);
    expect(performance.json.rows).toEqual([
      {
        ad_id: 'e2e-ad',
        period_start: `${iso(start).slice(0, 10)}T00:00:00.000Z`,
        impressions: 3,
        clicks: 1,
        ctr: 1 / 3,
        predicted_impressions: 3,
        predicted_clicks: 1,
        mean_predicted_ctr: expect.closeTo(sum / 3, 12),
        calibration: expect.closeTo(sum, 12),
      },
    ]);
    expect(fraud.json.rows).toEqual([
      expect.objectContaining({ rule: 'click_too_fast', site_id: 'e2e-site', flagged_events: 1, flagged_clicks: 1 }),
    ]);
    expect(segments.json.segments).toEqual([
      { segment: 'mobile', users: 2, impressions: 2, clicks: 1, ctr: 0.5 },
      { segment: 'desktop', users: 1, impressions: 1, clicks: 0, ctr: 0 },
    ]);
    expect(models.json.models).toEqual([
      expect.objectContaining({
        model_version: predictions[0].model_version,
        variant: 'champion',
        impressions: 3,
        clicks: 1,
      }),
    ]);
  });
});
