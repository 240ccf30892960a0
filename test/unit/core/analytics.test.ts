import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invoke, Router } from '../../../lambdas/core/api/dispatch.js';
import { openApiDocument } from '../../../lambdas/core/api/openapi.js';
import { toProblem } from '../../../lambdas/core/api/problem.js';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import { DomainError, ValidationError } from '../../../lambdas/core/errors.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../../../lambdas/core/lake/attribution.js';
import type { ModelBinCounts } from '../../../lambdas/core/schemas/analytics.js';
import { makeApp } from '../../support/memory-ports.js';

const router = new Router(ROUTES);

function get(app: ReturnType<typeof makeApp>['app'], path: string, query: Record<string, string>) {
  return invoke(app, router.match('GET', path), { query, body: undefined });
}

/** The ValidationError a call rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  const err = await promise.then(
    () => expect.unreachable('it should have been refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  expect(toProblem(err).status).toBe(400);
  return err as ValidationError;
}

const RANGE = { from: '2026-11-02T10:00:00Z', to: '2026-11-03T10:00:00Z' };
const ROUTE_PATHS = ['/analytics/ad-performance', '/analytics/user-segments', '/analytics/models', '/analytics/fraud'];
const VALID: Record<string, Record<string, string>> = {
  '/analytics/ad-performance': RANGE,
  '/analytics/user-segments': { ...RANGE, dimension: 'device_type' },
  '/analytics/models': RANGE,
  '/analytics/fraud': RANGE,
};

describe('analytics query parameters', () => {
  it.each(ROUTE_PATHS)('%s refuses a range whose end is not after its start, naming to', async (path) => {
    // Prepare
    const { app } = makeApp();

    // Act
    const err = await rejection(get(app, path, { ...VALID[path], from: RANGE.to, to: RANGE.to }));

    // Assess
    expect(err.errors).toEqual([{ path: 'to', message: 'must be later than from' }]);
  });

  it.each(ROUTE_PATHS)('%s refuses a range longer than 92 days, naming to', async (path) => {
    // Prepare
    const { app } = makeApp();

    // Act
    const err = await rejection(get(app, path, { ...VALID[path], to: '2027-02-02T10:00:01Z' }));

    // Assess
    expect(err.errors).toEqual([{ path: 'to', message: 'must be at most 92 days after from' }]);
  });

  it('accepts a range of exactly 92 days, across a change of UTC offset in the input', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const res = await get(app, '/analytics/ad-performance', {
      from: '2026-11-02T10:00:00Z',
      to: '2027-02-02T12:00:00+02:00',
    });

    // Assess
    expect(res.status).toBe(200);
    expect(ports.analytics.queries[0]!.query).toMatchObject({ to: new Date('2027-02-02T10:00:00Z') });
  });

  it('refuses a missing from, a timestamp without a zone, an unknown granularity and a limit out of bounds, naming each', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const err = await rejection(
      get(app, '/analytics/ad-performance', { to: '2026-11-03T10:00:00', granularity: 'week', limit: '10001' }),
    );

    // Assess
    expect(err.errors.map((e) => e.path).sort()).toEqual(['from', 'granularity', 'limit', 'to']);
    expect(err.errors.find((e) => e.path === 'from')!.message).toBe('is required');
    expect(err.errors.find((e) => e.path === 'granularity')!.message).toBe('must be one of hour, day');
  });

  it.each([['0'], ['1.5'], ['ten'], ['']])('refuses limit=%j', async (limit) => {
    // Prepare
    const { app } = makeApp();

    // Act
    const err = await rejection(get(app, '/analytics/fraud', { ...RANGE, limit }));

    // Assess
    expect(err.errors.map((e) => e.path)).toEqual(['limit']);
  });

  it('refuses an unknown query parameter and an unknown dimension', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const unknown = await rejection(get(app, '/analytics/models', { ...RANGE, model: 'v1' }));
    const dimension = await rejection(get(app, '/analytics/user-segments', { ...RANGE, dimension: 'os' }));

    // Assess
    expect(unknown.errors).toEqual([{ path: 'model', message: 'is not a known field' }]);
    expect(dimension.errors).toEqual([
      { path: 'dimension', message: 'must be one of device_type, location, activity' },
    ]);
  });

  it('asks the port with dates, the defaults and the attribution window', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    await get(app, '/analytics/ad-performance', { from: '2026-11-02T12:00:00+02:00', to: RANGE.to });
    await get(app, '/analytics/user-segments', { ...RANGE, dimension: 'activity', limit: '7' });

    // Assess
    expect(ports.analytics.queries).toEqual([
      {
        kind: 'ad-performance',
        query: {
          from: new Date('2026-11-02T10:00:00Z'),
          to: new Date(RANGE.to),
          adId: null,
          granularity: 'day',
          limit: 1000,
          attributionWindowSeconds: DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
        },
      },
      {
        kind: 'user-segments',
        query: {
          from: new Date(RANGE.from),
          to: new Date(RANGE.to),
          dimension: 'activity',
          limit: 7,
          attributionWindowSeconds: DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
        },
      },
    ]);
  });
});

describe('analytics query parameters, whatever a client sends', () => {
  const timestampish = fc.oneof(
    fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.constantFrom('2026-02-30T00:00:00Z', '2026-11-02T10:00:00', '2026-11-02T10:00:00+25:00', ''),
    fc.string({ maxLength: 50 }),
  );
  const value = fc.oneof(
    timestampish,
    fc.constantFrom('hour', 'day', 'activity', '1', '10000', '-1', '1e3'),
    fc.string(),
  );
  const query = fc.dictionary(
    fc.constantFrom('from', 'to', 'ad_id', 'granularity', 'limit', 'dimension', 'x', '__proto__'),
    value,
  );

  it.each(ROUTE_PATHS)('%s answers 200 or a domain error, never anything else', async (path) => {
    // Prepare
    const { app } = makeApp();

    // Act + Assess
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const outcome = await get(app, path, q).then(
          (res) => res.status,
          (err: unknown) => err,
        );
        if (outcome !== 200) expect(outcome).toBeInstanceOf(DomainError);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the analytics use case', () => {
  it('derives CTR, mean predicted CTR and calibration from the counts, null where a ratio does not exist', async () => {
    // Prepare
    const { app, ports } = makeApp();
    ports.analytics.adPerformanceRows = {
      rows: [
        {
          ad_id: 'a',
          period_start: '2026-11-02T00:00:00.000Z',
          impressions: 200,
          clicks: 4,
          predicted_impressions: 100,
          predicted_clicks: 2,
          sum_probability: 3,
        },
        {
          ad_id: 'b',
          period_start: '2026-11-02T00:00:00.000Z',
          impressions: 10,
          clicks: 0,
          predicted_impressions: 0,
          predicted_clicks: 0,
          sum_probability: 0,
        },
      ],
      truncated: true,
    };

    // Act
    const res = await get(app, '/analytics/ad-performance', { ...RANGE, ad_id: 'a', granularity: 'hour' });

    // Assess
    expect(res.body).toEqual({
      from: '2026-11-02T10:00:00.000Z',
      to: '2026-11-03T10:00:00.000Z',
      granularity: 'hour',
      ad_id: 'a',
      attribution_window_seconds: DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
      rows: [
        {
          ad_id: 'a',
          period_start: '2026-11-02T00:00:00.000Z',
          impressions: 200,
          clicks: 4,
          ctr: 0.02,
          predicted_impressions: 100,
          predicted_clicks: 2,
          mean_predicted_ctr: 0.03,
          calibration: 1.5,
        },
        {
          ad_id: 'b',
          period_start: '2026-11-02T00:00:00.000Z',
          impressions: 10,
          clicks: 0,
          ctr: 0,
          predicted_impressions: 0,
          predicted_clicks: 0,
          mean_predicted_ctr: null,
          calibration: null,
        },
      ],
      truncated: true,
    });
  });

  it('gathers the per-bin rows of each model version and variant into one entry with its reliability diagram', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const pair = { model_version: 'v1', variant: 'champion', impressions: 30, clicks: 3, sum_probability: 2.4 };
    const bins: ModelBinCounts[] = [
      { ...pair, log_loss: 0.3, auc: 0.7, bin: 4, bin_impressions: 20, bin_clicks: 1, bin_sum_probability: 0.3 },
      { ...pair, log_loss: 0.3, auc: 0.7, bin: 9, bin_impressions: 10, bin_clicks: 2, bin_sum_probability: 2.1 },
    ];
    ports.analytics.modelRows = { rows: bins, truncated: false };

    // Act
    const res = await get(app, '/analytics/models', RANGE);

    // Assess
    expect(res.body).toMatchObject({
      models: [
        {
          model_version: 'v1',
          variant: 'champion',
          impressions: 30,
          clicks: 3,
          ctr: 0.1,
          mean_predicted_ctr: expect.closeTo(0.08, 12),
          log_loss: 0.3,
          auc: 0.7,
          calibration: expect.closeTo(0.8, 12),
          reliability: [
            { lower: 0.01, upper: 0.02, impressions: 20, clicks: 1, mean_prediction: 0.015, observed_rate: 0.05 },
            {
              lower: 0.5,
              upper: 1,
              impressions: 10,
              clicks: 2,
              mean_prediction: expect.closeTo(0.21, 12),
              observed_rate: 0.2,
            },
          ],
        },
      ],
      truncated: false,
    });
  });
});

describe('the analytics routes in the OpenAPI document', () => {
  it('documents the query parameters, which are required and which not', () => {
    // Act
    const doc = openApiDocument(ROUTES, '0') as {
      paths: Record<
        string,
        { get: { parameters: { name: string; in: string; required?: boolean }[]; security: unknown } }
      >;
    };

    // Assess
    const op = doc.paths['/analytics/ad-performance']!.get;
    expect(op.parameters.map((p) => [p.name, p.in, p.required === true]).sort()).toEqual([
      ['ad_id', 'query', false],
      ['from', 'query', true],
      ['granularity', 'query', false],
      ['limit', 'query', false],
      ['to', 'query', true],
    ]);
    expect(op.security).toEqual([{ adminToken: [] }]);
    expect(doc.paths['/analytics/user-segments']!.get.parameters.find((p) => p.name === 'dimension')).toMatchObject({
      required: true,
    });
  });
});
