import { describe, expect, it } from 'vitest';
import type { ModelRecord } from '../../../lambdas/core/schemas/models.js';
import { driftEvents, fraudByRule, fraudTotals, performanceByPeriod, rollbackTarget } from '../../../web/aggregate.js';
import { timeRange } from '../../../web/time-range.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 4, 8);
const iso = (ms: number) => new Date(ms).toISOString();

const adRow = (ad: string, period: number, i: number, c: number, pi: number, pc: number, mean: number | null) => ({
  ad_id: ad,
  period_start: iso(period),
  impressions: i,
  clicks: c,
  ctr: i > 0 ? c / i : null,
  predicted_impressions: pi,
  predicted_clicks: pc,
  mean_predicted_ctr: mean,
  calibration: null,
});

const fraudRow = (period: number, rule: string, site: string | null, events: number, max = 0.9) => ({
  period_start: iso(period),
  rule,
  site_id: site,
  flagged_events: events,
  flagged_impressions: events,
  flagged_clicks: 0,
  mean_score: 0.5,
  max_score: max,
});

function model(id: string, status: ModelRecord['status'], extra: Partial<ModelRecord> = {}): ModelRecord {
  return {
    model_id: id,
    version: `v-${id}`,
    status,
    alias: null,
    algorithm: null,
    artifact_uri: '',
    artifact_bytes: null,
    metadata: {},
    training_window: null,
    holdout_metrics: null,
    negative_sampling_rate: null,
    gate: null,
    previous_champion_id: null,
    created_at: iso(T0),
    activated_at: null,
    ...extra,
  };
}

describe('the dashboard aggregates', () => {
  it('sums ads per period, weighting the mean prediction by predicted impressions, and zero-fills empty periods', () => {
    // Prepare
    const rows = [
      adRow('a', T0, 100, 4, 80, 2, 0.05),
      adRow('b', T0, 100, 6, 20, 2, 0.1),
      adRow('a', T0 + 2 * H, 10, 1, 0, 0, null),
    ];

    // Act
    const points = performanceByPeriod(rows, [T0, T0 + H, T0 + 2 * H]);

    // Assess
    expect(points[0]).toEqual({
      period: T0,
      impressions: 200,
      clicks: 10,
      ctr: 0.05,
      predictedCtr: 0.06,
      observedCtr: 0.04,
    });
    expect(points[1]).toEqual({
      period: T0 + H,
      impressions: 0,
      clicks: 0,
      ctr: null,
      predictedCtr: null,
      observedCtr: null,
    });
    expect(points[2]).toMatchObject({ impressions: 10, clicks: 1, predictedCtr: null });
  });

  it('counts flagged events per rule and period over sites, and totals per rule and site, most flagged first', () => {
    // Prepare
    const rows = [
      fraudRow(T0, 'too_fast', 's1', 3),
      fraudRow(T0, 'too_fast', 's2', 2),
      fraudRow(T0 + H, 'bot', null, 7, 0.99),
    ];

    // Act
    const series = fraudByRule(rows, [T0, T0 + H]);
    const totals = fraudTotals(rows);

    // Assess
    expect(series).toEqual({
      rules: ['bot', 'too_fast'],
      counts: [
        [0, 7],
        [5, 0],
      ],
    });
    expect(totals.map((t) => [t.rule, t.site, t.flaggedEvents, t.maxScore])).toEqual([
      ['bot', null, 7, 0.99],
      ['too_fast', 's1', 3, 0.9],
      ['too_fast', 's2', 2, 0.9],
    ]);
  });

  it('lists each drift event once although both models keep it, newest first, and rolls back to the previous champion', () => {
    // Prepare
    const event = {
      at: iso(T0 + H),
      kind: 'rolled_back' as const,
      model_id: 'm2',
      rolled_back_to: 'm1',
      experiment_ids: [],
      reasons: ['calibration 1.4'],
      impressions: 10_000,
      clicks: 500,
      calibration: 1.4,
      logloss: 0.1,
      baseline_logloss: 0.09,
      window: { from: iso(T0), to: iso(T0 + H) },
      detail: '',
    };
    const older = { ...event, at: iso(T0), kind: 'flagged' as const, rolled_back_to: null };
    const models = [
      model('m2', 'retired', { drift_events: [older, event] }),
      model('m1', 'champion', { drift_events: [event], previous_champion_id: 'm3' }),
      model('m3', 'retired'),
    ];

    // Act
    const events = driftEvents(models);

    // Assess
    expect(events.map((e) => e.kind)).toEqual(['rolled_back', 'flagged']);
    expect(rollbackTarget(models)?.model_id).toBe('m3');
    expect(rollbackTarget([model('m1', 'champion', { previous_champion_id: 'gone' })])).toBeNull();
  });

  it('ranges over whole UTC hours up to two days and whole days beyond, charting only the periods begun', () => {
    // Act
    const hours = timeRange('24h', T0 + 50 * 60_000);
    const days = timeRange('7d', T0);

    // Assess: 08:50 + 5 min is in the 08:00 hour, whose end closes the range
    expect(hours).toMatchObject({ granularity: 'hour', to: iso(T0 + H), from: iso(T0 - 23 * H) });
    expect(hours.periods).toHaveLength(24);
    expect(days).toMatchObject({
      granularity: 'day',
      to: iso(Date.UTC(2026, 11, 5)),
      from: iso(Date.UTC(2026, 10, 28)),
    });
    expect(days.periods).toHaveLength(7);
  });
});
