import { describe, expect, it } from 'vitest';
import { ConflictError, DependencyUnavailableError } from '../../../lambdas/core/errors.js';
import type { FeatureMap } from '../../../lambdas/core/ports.js';
import {
  addCandidate,
  CHAMPION_ID,
  CHAMPION_VERSION,
  experiment,
  FakeModelEndpoint,
  hmacPseudonym,
  makeApp,
} from '../../support/memory-ports.js';

const USER = 'alice@example.com';
const T = '2026-12-04T09:59:00Z';

describe('predict', () => {
  it('returns the probability of the champion with a prediction id, its version and variant champion', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    const [row] = ports.model.scoredRows();
    expect(prediction).toEqual({
      prediction_id: expect.any(String),
      ad_id: 'ad-1',
      probability: FakeModelEndpoint.probabilityOf(CHAMPION_ID, row!.features),
      model_version: CHAMPION_VERSION,
      variant: 'champion',
    });
    expect(prediction.probability).toBeGreaterThan(0);
    expect(prediction.probability).toBeLessThan(1);
  });

  it('logs one record with the pseudonymised user id and never the raw id', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1', features: { device_type: 'mobile' } });

    // Assess
    const records = ports.predictions.all();
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      prediction_id: prediction.prediction_id,
      request_id: null,
      user_id: hmacPseudonym('user', USER),
      ad_id: 'ad-1',
      probability: prediction.probability,
      model_id: CHAMPION_ID,
      model_version: CHAMPION_VERSION,
      variant: 'champion',
      experiment_id: null,
      fallback: false,
      consent: true,
      explanation: null,
    });
    expect(JSON.stringify(records)).not.toContain(USER);
    expect(JSON.stringify(ports.model.calls)).not.toContain(USER);
  });

  it('logs and scores the feature snapshot: catalogue fields, counters and request features', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.ads.put('ad-1', {
      campaign_id: 'camp-1',
      advertiser_id: 'adv-1',
      category: 'shoes',
      attributes: { colour: 'red' },
    });
    await app.events.impression({ impression_id: 'i-1', user_id: USER, ad_id: 'ad-1', timestamp: T });
    await app.events.click({ click_id: 'c-1', impression_id: 'i-1', user_id: USER, clicked: true, timestamp: T });
    await app.events.impression({ impression_id: 'i-2', user_id: 'bob', ad_id: 'ad-1', timestamp: T });

    // Act
    await app.predict.predict({ user_id: USER, ad_id: 'ad-1', features: { device_type: 'mobile', position: 2 } });

    // Assess
    const expected: FeatureMap = {
      ad_id: 'ad-1',
      campaign_id: 'camp-1',
      advertiser_id: 'adv-1',
      category: 'shoes',
      ad_attr_colour: 'red',
      ad_impressions: 2,
      ad_clicks: 1,
      user_impressions: 1,
      user_clicks: 1,
      device_type: 'mobile',
      position: 2,
    };
    expect(ports.predictions.all()[0]!.features).toEqual(expected);
    expect(ports.model.scoredRows()[0]!.features).toEqual(expected);
  });

  it('keeps stored counters over request features and lets ad features override request ones', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    await app.predict.predictBatch({
      user_id: USER,
      features: { ad_clicks: 99, slot: 'top' },
      ads: [{ ad_id: 'ad-1', features: { slot: 'side' } }],
    });

    // Assess
    expect(ports.predictions.all()[0]!.features).toMatchObject({ ad_clicks: 0, slot: 'side' });
  });

  it('keeps the ad_id of each ad in the snapshot whatever the request features say', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    await app.predict.predictBatch({
      user_id: USER,
      features: { ad_id: 'x', slot: 'top' },
      ads: [{ ad_id: 'a' }, { ad_id: 'b' }],
    });

    // Assess
    expect(ports.predictions.all().map((r) => [r.ad_id, r.features.ad_id])).toEqual([
      ['a', 'a'],
      ['b', 'b'],
    ]);
  });

  it('returns the same prediction for the same request_id and logs and scores it once', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const body = { user_id: USER, ad_id: 'ad-1', request_id: 'req-1' };
    const first = await app.predict.predict(body);

    // Act
    const second = await app.predict.predict(body);

    // Assess
    expect(second).toEqual(first);
    expect(ports.predictions.all()).toHaveLength(1);
    expect(ports.predictions.offered).toHaveLength(1);
    expect(ports.model.calls).toHaveLength(1);
    expect(ports.predictions.all()[0]!.request_id).toBe('req-1');
  });

  it('returns one prediction to two concurrent calls with the same request_id and logs it once', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const body = { user_id: USER, ad_id: 'ad-1', request_id: 'req-1', features: { slot: 'top' } };

    // Act
    const [a, b] = await Promise.all([app.predict.predict(body), app.predict.predict(body)]);

    // Assess
    expect(a).toEqual(b);
    expect(ports.predictions.all()).toHaveLength(1);
    expect(ports.predictions.all()[0]!.prediction_id).toBe(a.prediction_id);
  });

  it('refuses a request_id reused for another ad with a ConflictError naming request_id', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.predict.predict({ user_id: USER, ad_id: 'ad-1', request_id: 'req-1' });

    // Act
    const act = app.predict.predict({ user_id: USER, ad_id: 'ad-2', request_id: 'req-1' });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
    await expect(act).rejects.toMatchObject({ errors: [{ path: 'request_id' }] });
    expect(ports.predictions.all()).toHaveLength(1);
  });

  it('refuses a request_id reused by another user with a ConflictError', async () => {
    // Prepare
    const { app } = makeApp();
    await app.predict.predict({ user_id: USER, ad_id: 'ad-1', request_id: 'req-1' });

    // Act
    const act = app.predict.predict({ user_id: 'bob', ad_id: 'ad-1', request_id: 'req-1' });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses the loser of two concurrent calls that share a request_id but not the ad', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const results = await Promise.allSettled([
      app.predict.predict({ user_id: USER, ad_id: 'ad-1', request_id: 'req-1' }),
      app.predict.predict({ user_id: USER, ad_id: 'ad-2', request_id: 'req-1' }),
    ]);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(ports.predictions.all().map((r) => r.ad_id)).toEqual(['ad-1']);
  });

  it('stores no user id and scores without user features when consent is false', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression({ impression_id: 'i-1', user_id: USER, ad_id: 'ad-1', timestamp: T });

    // Act
    await app.predict.predict({ user_id: USER, ad_id: 'ad-1', consent: false, features: { slot: 'top' } });

    // Assess
    const [record] = ports.predictions.all();
    expect(record!.user_id).toBeNull();
    expect(record!.consent).toBe(false);
    expect(ports.features.getCalls.at(-1)!.userKey).toBeNull();
    const scored = ports.model.scoredRows()[0]!.features;
    expect(Object.keys(scored).filter((k) => k.startsWith('user_'))).toEqual([]);
    expect(scored).toMatchObject({ ad_impressions: 1, slot: 'top' });
    expect(JSON.stringify(record)).not.toContain(hmacPseudonym('user', USER));
  });

  it('returns the explanation from the endpoint when explain is true, and logs it', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1', explain: true });

    // Assess
    const features = ports.model.scoredRows()[0]!.features;
    expect(ports.model.calls[0]!.explain).toBe(true);
    expect(prediction.explanation).toEqual(FakeModelEndpoint.explanationOf(CHAMPION_ID, features));
    expect(ports.predictions.all()[0]!.explanation).toEqual(prediction.explanation);
  });

  it('returns no explanation unless asked', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    expect(prediction).not.toHaveProperty('explanation');
    expect(ports.model.calls[0]!.explain).toBe(false);
  });

  it('flags a prediction served by the fallback', async () => {
    // Prepare
    const { app, ports } = makeApp();
    ports.model.fallback = true;

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    expect(prediction.fallback).toBe(true);
    expect(ports.predictions.all()[0]!.fallback).toBe(true);
  });

  it('keeps the order of a batch and gives each ad its own prediction id, in one scoring call', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const adIds = Array.from({ length: 25 }, (_, i) => `ad-${(i * 7) % 25}`);

    // Act
    const predictions = await app.predict.predictBatch({ user_id: USER, ads: adIds.map((ad_id) => ({ ad_id })) });

    // Assess
    expect(predictions.map((p) => p.ad_id)).toEqual(adIds);
    expect(new Set(predictions.map((p) => p.prediction_id)).size).toBe(adIds.length);
    expect(ports.model.calls).toHaveLength(1);
    const rows = ports.model.scoredRows();
    predictions.forEach((p, i) => {
      expect(rows[i]!.features.ad_id).toBe(p.ad_id);
      expect(p.probability).toBe(FakeModelEndpoint.probabilityOf(CHAMPION_ID, rows[i]!.features));
    });
    expect(ports.predictions.all()).toHaveLength(adIds.length);
  });

  it('replays a batch with a request_id in the same order with the same ids', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const body = { user_id: USER, request_id: 'req-b', ads: [{ ad_id: 'a' }, { ad_id: 'b' }, { ad_id: 'c' }] };
    const first = await app.predict.predictBatch(body);

    // Act
    const second = await app.predict.predictBatch(body);

    // Assess
    expect(second).toEqual(first);
    expect(new Set(first.map((p) => p.prediction_id)).size).toBe(3);
    expect(ports.predictions.all()).toHaveLength(3);
  });

  it('refuses with DependencyUnavailableError when no model is active', async () => {
    // Prepare
    const { app, ports } = makeApp({}, { champion: false });

    // Act
    const act = app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    await expect(act).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(ports.predictions.all()).toEqual([]);
  });
});

describe('predict with experiments', () => {
  function withExperiment(campaign_ids: string[] | null = null) {
    const made = makeApp();
    addCandidate(made.ports, 'm_a', 'A');
    addCandidate(made.ports, 'm_b', 'B');
    made.ports.experiments.set([
      experiment({
        experiment_id: 'exp-1',
        variants: [
          { model_id: 'm_a', weight: 50 },
          { model_id: 'm_b', weight: 50 },
        ],
        campaign_ids,
      }),
    ]);
    return made;
  }

  it('assigns the same user to the same variant on every request', async () => {
    // Prepare
    const { app } = withExperiment();

    // Act
    const predictions = [];
    for (let i = 0; i < 10; i++) predictions.push(await app.predict.predict({ user_id: USER, ad_id: `ad-${i}` }));

    // Assess
    expect(new Set(predictions.map((p) => p.variant)).size).toBe(1);
    expect(new Set(predictions.map((p) => p.model_version)).size).toBe(1);
    expect(predictions[0]!.variant).toMatch(/^exp-1:[01]$/);
    expect(predictions[0]!.model_version).toBe(predictions[0]!.variant === 'exp-1:0' ? 'A' : 'B');
  });

  it('logs the experiment and the model that scored', async () => {
    // Prepare
    const { app, ports } = withExperiment();

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    const [record] = ports.predictions.all();
    expect(record).toMatchObject({ experiment_id: 'exp-1', variant: prediction.variant });
    expect(record!.model_id).toBe(prediction.variant === 'exp-1:0' ? 'm_a' : 'm_b');
    expect(ports.model.calls[0]!.model.model_id).toBe(record!.model_id);
  });

  it('splits 10 000 users roughly by the weights (50/50 within 45-55 %)', async () => {
    // Prepare
    const { app } = withExperiment();
    const counts = new Map<string, number>();

    // Act
    for (let u = 0; u < 10_000; u++) {
      const p = await app.predict.predict({ user_id: `user-${u}`, ad_id: 'ad-1' });
      counts.set(p.variant, (counts.get(p.variant) ?? 0) + 1);
    }

    // Assess
    expect([...counts.keys()].sort()).toEqual(['exp-1:0', 'exp-1:1']);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThanOrEqual(4_500);
      expect(n).toBeLessThanOrEqual(5_500);
    }
  });

  it('splits by unequal weights too (90/10 within 87-93 %)', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_a', 'A');
    addCandidate(ports, 'm_b', 'B');
    ports.experiments.set([
      experiment({
        experiment_id: 'exp-2',
        variants: [
          { model_id: 'm_a', weight: 9 },
          { model_id: 'm_b', weight: 1 },
        ],
      }),
    ]);
    let first = 0;

    // Act
    for (let u = 0; u < 10_000; u++) {
      const p = await app.predict.predict({ user_id: `user-${u}`, ad_id: 'ad-1' });
      if (p.variant === 'exp-2:0') first++;
    }

    // Assess
    expect(first).toBeGreaterThanOrEqual(8_700);
    expect(first).toBeLessThanOrEqual(9_300);
  });

  it('applies a campaign-scoped experiment only to ads of its campaigns', async () => {
    // Prepare
    const { app } = withExperiment(['camp-x']);
    await app.ads.put('in', { campaign_id: 'camp-x', advertiser_id: 'adv' });
    await app.ads.put('out', { campaign_id: 'camp-y', advertiser_id: 'adv' });

    // Act
    const predictions = await app.predict.predictBatch({
      user_id: USER,
      ads: [{ ad_id: 'in' }, { ad_id: 'out' }, { ad_id: 'unknown' }],
    });

    // Assess
    expect(predictions[0]!.variant).toMatch(/^exp-1:/);
    expect(predictions[1]!.variant).toBe('champion');
    expect(predictions[2]!.variant).toBe('champion');
    expect(predictions[1]!.model_version).toBe(CHAMPION_VERSION);
  });

  it('scores a batch split by an experiment with one call per model, keeping the order', async () => {
    // Prepare
    const { app, ports } = withExperiment(['camp-x']);
    await app.ads.put('in', { campaign_id: 'camp-x', advertiser_id: 'adv' });

    // Act
    const predictions = await app.predict.predictBatch({
      user_id: USER,
      ads: [{ ad_id: 'out-1' }, { ad_id: 'in' }, { ad_id: 'out-2' }],
    });

    // Assess
    expect(predictions.map((p) => p.ad_id)).toEqual(['out-1', 'in', 'out-2']);
    expect(ports.model.calls).toHaveLength(2);
    const records = new Map(ports.predictions.all().map((r) => [r.ad_id, r]));
    for (const p of predictions) {
      const r = records.get(p.ad_id)!;
      expect(p.probability).toBe(FakeModelEndpoint.probabilityOf(r.model_id, r.features));
    }
  });

  it('keeps users without consent on the champion', async () => {
    // Prepare
    const { app } = withExperiment();

    // Act
    const variants = new Set<string>();
    for (let u = 0; u < 200; u++) {
      const p = await app.predict.predict({ user_id: `user-${u}`, ad_id: 'ad-1', consent: false });
      variants.add(p.variant);
    }

    // Assess
    expect([...variants]).toEqual(['champion']);
  });

  it('ignores stopped experiments', async () => {
    // Prepare
    const { app, ports } = withExperiment();
    ports.experiments.set(ports.experiments.experiments.map((e) => ({ ...e, status: 'stopped' as const })));

    // Act
    const prediction = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    expect(prediction.variant).toBe('champion');
  });

  it('reads new experiments once the routing cache has expired', async () => {
    // Prepare
    const { app, ports } = makeApp({}, { config: { routingCacheMs: 1_000 } });
    addCandidate(ports, 'm_a', 'A');
    await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });
    ports.experiments.set([experiment({ experiment_id: 'exp-1', variants: [{ model_id: 'm_a', weight: 1 }] })]);

    // Act
    const cached = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });
    ports.clock.advance(1_000);
    const fresh = await app.predict.predict({ user_id: USER, ad_id: 'ad-1' });

    // Assess
    expect(cached.variant).toBe('champion');
    expect(fresh.variant).toBe('exp-1:0');
  });
});
