import { describe, expect, it } from 'vitest';
import { invoke, Router } from '../../../lambdas/core/api/dispatch.js';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../lambdas/core/errors.js';
import type { ModelBinCounts, ModelServingCounts } from '../../../lambdas/core/schemas/analytics.js';
import { CreateExperimentRequest } from '../../../lambdas/core/schemas/experiments.js';
import { variantCounts } from '../../../lambdas/core/usecases/experiments.js';
import { addCandidate, CHAMPION_ID, experiment, type MemoryPorts, makeApp, T0 } from '../../support/memory-ports.js';

const DAY = 86_400_000;
const router = new Router(ROUTES);
const dispatch = (
  app: ReturnType<typeof makeApp>['app'],
  method: string,
  path: string,
  input: { query: Record<string, string>; body: unknown },
) => invoke(app, router.match(method, path), input);

/** A champion (made by makeApp) and a candidate, and a request splitting users 3:1 between them. */
function setup() {
  const made = makeApp();
  addCandidate(made.ports, 'm_cand', 'cand.v1');
  const request = {
    name: 'champion vs candidate',
    variants: [
      { model_id: CHAMPION_ID, weight: 3 },
      { model_id: 'm_cand', weight: 1 },
    ],
  };
  return { ...made, request };
}

/** One analytics row (a reliability bin of a model version and variant) with the pair's totals. */
function bin(
  variant: string,
  model_version: string,
  pair: {
    impressions: number;
    clicks: number;
    sum_probability: number;
    log_loss: number;
    serving?: ModelServingCounts;
  },
  b: { bin: number; impressions: number; clicks: number; sum_probability: number },
): ModelBinCounts {
  return {
    model_version,
    variant,
    ...pair,
    auc: null,
    bin: b.bin,
    bin_impressions: b.impressions,
    bin_clicks: b.clicks,
    bin_sum_probability: b.sum_probability,
  };
}

/** A pair's serving figures: its predictions, the fallbacks among them and its latency. */
function serving(predictions: number, fallbacks: number, p99: number | null = null): ModelServingCounts {
  return {
    predictions,
    fallback_predictions: fallbacks,
    timed_predictions: p99 === null ? 0 : predictions,
    latency_p50_ms: p99 === null ? null : p99 / 2,
    latency_p99_ms: p99,
    explored_predictions: 0,
    sum_exploration_bonus: 0,
    explored_impressions: 0,
    explored_clicks: 0,
  };
}

describe('creating an experiment', () => {
  it('stores a running experiment with its variants, no campaigns and the creation time', async () => {
    // Prepare
    const { app, ports, request } = setup();

    // Act
    const created = await app.experiments.create(request);

    // Assess
    expect(created).toEqual({
      experiment_id: expect.stringMatching(/^exp_/),
      name: 'champion vs candidate',
      status: 'running',
      variants: request.variants,
      campaign_ids: null,
      created_at: T0.toISOString(),
      stopped_at: null,
    });
    expect(await ports.experiments.get(created.experiment_id)).toEqual(created);
  });

  it('refuses a variant whose model does not exist, naming the variant', async () => {
    // Prepare
    const { app, request } = setup();
    const variants = [request.variants[0]!, { model_id: 'm_nope', weight: 1 }];

    // Act
    const act = app.experiments.create({ ...request, variants });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({ errors: [{ path: 'variants.1.model_id' }] });
  });

  it('refuses a model that is still uploading', async () => {
    // Prepare
    const { app, ports, request } = setup();
    ports.models.models.set('m_cand', { ...ports.models.models.get('m_cand')!, status: 'uploading' });

    // Act
    const act = app.experiments.create(request);

    // Assess
    await expect(act).rejects.toMatchObject({
      errors: [{ path: 'variants.1.model_id', message: expect.stringContaining('uploading') }],
    });
    expect(await ports.experiments.list()).toEqual([]);
  });

  it('refuses a second global experiment with a 409 naming the running one', async () => {
    // Prepare
    const { app, request } = setup();
    const first = await app.experiments.create(request);

    // Act
    const act = app.experiments.create({ ...request, name: 'again' });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
    await expect(act).rejects.toThrow(first.experiment_id);
  });

  it('refuses experiments that share a campaign, and a scoped one while a global one runs', async () => {
    // Prepare
    const { app, request } = setup();
    await app.experiments.create({ ...request, campaign_ids: ['c1', 'c2'] });

    // Act
    const sharing = app.experiments.create({ ...request, campaign_ids: ['c2', 'c3'] });
    const global = app.experiments.create(request);

    // Assess
    await expect(sharing).rejects.toBeInstanceOf(ConflictError);
    await expect(global).rejects.toBeInstanceOf(ConflictError);
  });

  it('accepts experiments on disjoint campaigns, and a new one once the overlapping one stopped', async () => {
    // Prepare
    const { app, request } = setup();
    const first = await app.experiments.create({ ...request, campaign_ids: ['c1'] });

    // Act
    const disjoint = await app.experiments.create({ ...request, campaign_ids: ['c2'] });
    await app.experiments.stop(first.experiment_id);
    const again = await app.experiments.create({ ...request, campaign_ids: ['c1'] });

    // Assess
    expect(disjoint.status).toBe('running');
    expect(again.status).toBe('running');
    expect((await app.experiments.list({ status: 'running' })).map((e) => e.experiment_id)).toEqual([
      again.experiment_id,
      disjoint.experiment_id,
    ]);
  });
});

describe('the request schema', () => {
  const parse = (body: unknown) => CreateExperimentRequest.safeParse(body);
  const paths = (body: unknown) => {
    const r = parse(body);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };
  const two = [
    { model_id: 'm_a', weight: 1 },
    { model_id: 'm_b', weight: 1 },
  ];

  it('accepts 2 to 10 distinct variants with positive weights and up to 100 campaigns', () => {
    expect(parse({ name: 'x', variants: two }).success).toBe(true);
    expect(
      parse({
        name: 'x',
        variants: Array.from({ length: 10 }, (_, i) => ({ model_id: `m_${i}`, weight: 0.1 })),
        campaign_ids: Array.from({ length: 100 }, (_, i) => `c${i}`),
      }).success,
    ).toBe(true);
  });

  it('refuses one variant, eleven, a zero weight, a repeated model, 101 campaigns and unknown keys', () => {
    expect(paths({ name: 'x', variants: [two[0]] })).toEqual(['variants']);
    expect(
      paths({ name: 'x', variants: Array.from({ length: 11 }, (_, i) => ({ model_id: `m_${i}`, weight: 1 })) }),
    ).toEqual(['variants']);
    expect(paths({ name: 'x', variants: [two[0], { model_id: 'm_b', weight: 0 }] })).toEqual(['variants.1.weight']);
    expect(paths({ name: 'x', variants: [two[0], two[0]] })).toEqual(['variants.1.model_id']);
    expect(paths({ name: 'x', variants: two, campaign_ids: Array.from({ length: 101 }, (_, i) => `c${i}`) })).toEqual([
      'campaign_ids',
    ]);
    expect(paths({ name: 'x', variants: two, campaign_ids: ['c1', 'c1'] })).toEqual(['campaign_ids.1']);
    expect(paths({ name: 'x', variants: two, colour: 'red' })).toEqual(['']);
  });
});

describe('stopping an experiment', () => {
  it('stops a running experiment at the current time, and returns it unchanged when stopped again', async () => {
    // Prepare
    const { app, ports, request } = setup();
    const created = await app.experiments.create(request);
    ports.clock.advance(60_000);

    // Act
    const stopped = await app.experiments.stop(created.experiment_id);
    ports.clock.advance(60_000);
    const again = await app.experiments.stop(created.experiment_id);

    // Assess
    expect(stopped).toEqual({
      ...created,
      status: 'stopped',
      stopped_at: new Date(T0.getTime() + 60_000).toISOString(),
    });
    expect(again).toEqual(stopped);
  });

  it('answers an unknown experiment with NotFoundError on stop and on get', async () => {
    // Prepare
    const { app } = setup();

    // Act & Assess
    await expect(app.experiments.stop('exp_none')).rejects.toBeInstanceOf(NotFoundError);
    await expect(app.experiments.get('exp_none')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('listing experiments', () => {
  it('lists newest first and filters by status', async () => {
    // Prepare
    const { app, ports, request } = setup();
    const first = await app.experiments.create({ ...request, campaign_ids: ['c1'] });
    ports.clock.advance(1_000);
    const second = await app.experiments.create({ ...request, campaign_ids: ['c2'] });
    await app.experiments.stop(first.experiment_id);

    // Act
    const all = await app.experiments.list();
    const running = await app.experiments.list({ status: 'running' });
    const stopped = await app.experiments.list({ status: 'stopped' });

    // Assess
    expect(all.map((e) => e.experiment_id)).toEqual([second.experiment_id, first.experiment_id]);
    expect(running.map((e) => e.experiment_id)).toEqual([second.experiment_id]);
    expect(stopped.map((e) => e.experiment_id)).toEqual([first.experiment_id]);
  });
});

describe('routing follows experiments at once', () => {
  /** The variant each of `users` distinct users is served. */
  async function variants(app: ReturnType<typeof makeApp>['app'], users: number): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    for (let u = 0; u < users; u++) {
      seen.set(`user-${u}`, (await app.predict.predict({ user_id: `user-${u}`, ad_id: 'ad-1' })).variant);
    }
    return seen;
  }

  it('routes to a new experiment on the next request and back to the champion after the stop', async () => {
    // Prepare: the routing cache is warm with "no experiment", and the clock does not move
    const { app, request } = setup();
    await app.predict.predict({ user_id: 'warm-up', ad_id: 'ad-1' });

    // Act
    const created = await app.experiments.create(request);
    const during = await variants(app, 200);
    await app.experiments.stop(created.experiment_id);
    const after = await variants(app, 200);

    // Assess
    const labels = new Set(during.values());
    expect(labels).toEqual(new Set([`${created.experiment_id}:0`, `${created.experiment_id}:1`]));
    expect(new Set(after.values())).toEqual(new Set(['champion']));
  });
});

describe('experiment results', () => {
  async function running(ports: MemoryPorts, app: ReturnType<typeof makeApp>['app'], request: CreateExperimentRequest) {
    const created = await app.experiments.create(request);
    ports.clock.advance(DAY);
    return created;
  }

  it('sums the bins of each variant into counts, ignoring other variants, and evaluates them', async () => {
    // Prepare
    const { app, ports, request } = setup();
    const created = await running(ports, app, request);
    const id = created.experiment_id;
    const control = { impressions: 3_000, clicks: 60, sum_probability: 57, log_loss: 0.1 };
    const treated = { impressions: 1_000, clicks: 30, sum_probability: 28, log_loss: 0.12 };
    ports.analytics.modelRows = {
      rows: [
        bin(`${id}:0`, 'champ.v', control, { bin: 4, impressions: 2_000, clicks: 30, sum_probability: 30 }),
        bin(`${id}:0`, 'champ.v', control, { bin: 5, impressions: 1_000, clicks: 30, sum_probability: 27 }),
        bin(`${id}:1`, 'cand.v1', treated, { bin: 5, impressions: 1_000, clicks: 30, sum_probability: 28 }),
        bin('champion', 'champ.v', control, { bin: 5, impressions: 9_999, clicks: 999, sum_probability: 99 }),
        bin('exp_other:1', 'cand.v1', treated, { bin: 5, impressions: 1_000, clicks: 30, sum_probability: 28 }),
      ],
      truncated: false,
    };

    // Act
    const got = await app.experiments.get(id);

    // Assess
    expect(ports.analytics.queries).toEqual([
      {
        kind: 'models',
        query: expect.objectContaining({ from: T0, to: new Date(T0.getTime() + DAY), limit: 1_000 }),
      },
    ]);
    expect(got.results).toMatchObject({
      from: T0.toISOString(),
      to: new Date(T0.getTime() + DAY).toISOString(),
      clamped: false,
      truncated: false,
      control: `${id}:0`,
    });
    expect(got.results.variants).toHaveLength(2);
    expect(got.results.variants[0]).toMatchObject({
      variant: `${id}:0`,
      model_id: CHAMPION_ID,
      control: true,
      impressions: 3_000,
      clicks: 60,
      ctr: 0.02,
      calibration: 57 / 60,
    });
    expect(got.results.variants[0]!.logloss).toBeCloseTo(0.1, 12);
    expect(got.results.variants[1]).toMatchObject({
      variant: `${id}:1`,
      model_id: 'm_cand',
      control: false,
      impressions: 1_000,
      clicks: 30,
      ctr: 0.03,
    });
    expect(got.results.variants[1]!.lift?.estimate).toBeCloseTo(0.5, 12);
  });

  it('shows every variant with zeros before any traffic and keeps running', async () => {
    // Prepare
    const { app, ports, request } = setup();
    const created = await running(ports, app, request);

    // Act
    const got = await app.experiments.get(created.experiment_id);

    // Assess
    expect(got.results.variants.map((v) => [v.variant, v.impressions, v.clicks])).toEqual([
      [`${created.experiment_id}:0`, 0, 0],
      [`${created.experiment_id}:1`, 0, 0],
    ]);
    expect(got.results.decision).toBe('keep_running');
  });

  it('counts a stopped experiment up to its stop, not up to now', async () => {
    // Prepare
    const { app, ports, request } = setup();
    const created = await running(ports, app, request);
    const stopped = await app.experiments.stop(created.experiment_id);
    ports.clock.advance(10 * DAY);

    // Act
    const got = await app.experiments.get(created.experiment_id);

    // Assess
    expect(got.results.to).toBe(stopped.stopped_at);
    expect(ports.analytics.queries[0]?.query).toMatchObject({ to: new Date(stopped.stopped_at!) });
  });

  it('counts only the last 92 days of an older experiment and says so', async () => {
    // Prepare
    const { app, ports, request } = setup();
    await running(ports, app, request);
    const created = (await app.experiments.list())[0]!;
    ports.clock.advance(100 * DAY);

    // Act
    const got = await app.experiments.get(created.experiment_id);

    // Assess
    const now = ports.clock.now().getTime();
    expect(got.results).toMatchObject({ clamped: true, from: new Date(now - 92 * DAY).toISOString() });
    expect(got.results.reasons.join(' ')).toContain('92 days');
  });

  it('asks analytics nothing for an experiment created this very instant', async () => {
    // Prepare
    const { app, ports, request } = setup();
    const created = await app.experiments.create(request);

    // Act
    const got = await app.experiments.get(created.experiment_id);

    // Assess
    expect(ports.analytics.queries).toEqual([]);
    expect(got.results.variants).toHaveLength(2);
  });

  it('turns a pair log loss back into a sum once per pair, whatever the number of bins', () => {
    // Prepare
    const e = experiment({
      experiment_id: 'exp_1',
      variants: [
        { model_id: 'm_a', weight: 1 },
        { model_id: 'm_b', weight: 1 },
      ],
    });
    const pair = { impressions: 300, clicks: 3, sum_probability: 3.5, log_loss: 0.05 };

    // Act
    const counts = variantCounts(e, [
      bin('exp_1:1', 'b.v', pair, { bin: 1, impressions: 100, clicks: 1, sum_probability: 0.25 }),
      bin('exp_1:1', 'b.v', pair, { bin: 3, impressions: 200, clicks: 2, sum_probability: 3.25 }),
    ]);

    // Assess
    const noServing = { predictions: 0, fallbacks: 0, latencyPredictions: 0, latencyP99Ms: null };
    expect(counts).toEqual([
      { variant: 'exp_1:0', model_id: 'm_a', impressions: 0, clicks: 0, sumPredicted: 0, sumLogLoss: 0, ...noServing },
      {
        variant: 'exp_1:1',
        model_id: 'm_b',
        impressions: 300,
        clicks: 3,
        sumPredicted: 3.5,
        sumLogLoss: 15,
        ...noServing,
      },
    ]);
  });

  it('adds up predictions and fallbacks once per pair and takes the p99 of the most timed model version', () => {
    // Prepare: the variant was re-versioned mid-experiment; b.v2 timed more predictions than b.v1.
    const e = experiment({
      experiment_id: 'exp_1',
      variants: [
        { model_id: 'm_a', weight: 1 },
        { model_id: 'm_b', weight: 1 },
      ],
    });
    const first = { impressions: 100, clicks: 1, sum_probability: 1, log_loss: 0.05, serving: serving(400, 4, 30) };
    const second = { impressions: 200, clicks: 2, sum_probability: 2, log_loss: 0.05, serving: serving(900, 1, 20) };

    // Act
    const [, counts] = variantCounts(e, [
      bin('exp_1:1', 'b.v1', first, { bin: 1, impressions: 40, clicks: 0, sum_probability: 0.04 }),
      bin('exp_1:1', 'b.v1', first, { bin: 3, impressions: 60, clicks: 1, sum_probability: 0.96 }),
      bin('exp_1:1', 'b.v2', second, { bin: 3, impressions: 200, clicks: 2, sum_probability: 2 }),
    ]);

    // Assess
    expect(counts).toMatchObject({ predictions: 1_300, fallbacks: 5, latencyPredictions: 1_300, latencyP99Ms: 20 });
  });

  it('stops an experiment whose variant falls back far more often than the control', async () => {
    // Prepare: equal CTR and calibration; the candidate's endpoint variant fell back on 8 % of its
    // 4000 predictions, the champion on 0.25 % of 12 000 (margin 1 point): excess 6.75 points,
    // variance 0.080105 × 0.919895 / 4000 + 0.002541 × 0.997459 / 12 000 = 1.8634e-5,
    // τ² = 4e-4: ln Λ = ½ ln(1.8634e-5 / 4.18634e-4) + 4e-4 × 0.0675² / (2 × 1.8634e-5 × 4.18634e-4)
    // = −1.556 + 116.8, so p ≈ e^−115, far below 0.05.
    const { app, ports, request } = setup();
    const created = await running(ports, app, request);
    const id = created.experiment_id;
    const control = {
      impressions: 3_000,
      clicks: 60,
      sum_probability: 60,
      log_loss: 0.1,
      serving: serving(12_000, 30),
    };
    const treated = {
      impressions: 1_000,
      clicks: 20,
      sum_probability: 20,
      log_loss: 0.1,
      serving: serving(4_000, 320),
    };
    ports.analytics.modelRows = {
      rows: [
        bin(`${id}:0`, 'champ.v', control, { bin: 5, impressions: 3_000, clicks: 60, sum_probability: 60 }),
        bin(`${id}:1`, 'cand.v1', treated, { bin: 5, impressions: 1_000, clicks: 20, sum_probability: 20 }),
      ],
      truncated: false,
    };

    // Act
    const got = await app.experiments.get(id);

    // Assess
    expect(got.results.decision).toBe('stop');
    expect(got.results.variants[0]).toMatchObject({ predictions: 12_000, fallback_rate: 0.0025 });
    expect(got.results.variants[1]).toMatchObject({ predictions: 4_000, fallback_rate: 0.08 });
    const guardrail = got.results.variants[1]!.guardrails.find((g) => g.name === 'fallback');
    expect(guardrail).toMatchObject({ passed: false, detail: expect.stringMatching(/^fallback rate 8\.00 %/) });
    expect(got.results.reasons).toContainEqual(
      expect.stringMatching(new RegExp(`^${id}:1 fails its fallback guardrail`)),
    );
  });
});

describe('the experiment routes', () => {
  it('answers POST /experiments with 201 and GET /experiments?status with the list', async () => {
    // Prepare
    const { app, request } = setup();

    // Act
    const created = await dispatch(app, 'POST', '/experiments', { query: {}, body: request });
    const listed = await dispatch(app, 'GET', '/experiments', { query: { status: 'running' }, body: undefined });
    const badStatus = dispatch(app, 'GET', '/experiments', { query: { status: 'paused' }, body: undefined });

    // Assess
    expect(created.status).toBe(201);
    expect(listed).toEqual({ status: 200, body: { experiments: [created.body] } });
    await expect(badStatus).rejects.toBeInstanceOf(ValidationError);
  });
});
