import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ModelBinCounts } from '../../../lambdas/core/schemas/analytics.js';
import type { DriftEvent, GateReport, ModelRecord } from '../../../lambdas/core/schemas/models.js';
import {
  type DriftConfig,
  DriftMonitor,
  type DriftReport,
  onlineMetricsByVersion,
  scheduleDriftChecks,
} from '../../../lambdas/core/usecases/drift.js';
import {
  experiment,
  type MemoryPorts,
  makeDeps,
  modelRecord,
  RecordingLogger,
  T0,
} from '../../support/memory-ports.js';

const HOUR = 3_600_000;
const CONFIG: Partial<DriftConfig> = { minImpressions: 10_000, minClicks: 500 };

const gate = (logloss: number): GateReport => ({
  passed: true,
  reasons: [],
  holdout: 'holdout 2026-12-01..2026-12-03',
  candidate: { rows: 50_000, positives: 1_000, logloss, calibration: 1.0, auc: 0.75, segments: [] },
  champion: null,
});

/** The analytics rows of one (version, variant) pair, split over two bins as the SQL answers. */
function pairRows(
  version: string,
  o: { impressions: number; clicks: number; calibration: number; logloss: number; variant?: string },
): ModelBinCounts[] {
  const total = {
    model_version: version,
    variant: o.variant ?? 'champion',
    impressions: o.impressions,
    clicks: o.clicks,
    sum_probability: o.calibration * o.clicks,
    log_loss: o.logloss,
    auc: 0.7,
  };
  const half = Math.floor(o.impressions / 2);
  return [
    { ...total, bin: 3, bin_impressions: half, bin_clicks: 0, bin_sum_probability: 0 },
    {
      ...total,
      bin: 5,
      bin_impressions: o.impressions - half,
      bin_clicks: o.clicks,
      bin_sum_probability: total.sum_probability,
    },
  ];
}

const healthy = { impressions: 50_000, clicks: 1_000, calibration: 1.0, logloss: 0.1 };

/** m_old the previous champion, m_new the champion since T0 (holdout log loss 0.1 each). */
function setup(options: { previous?: boolean } = {}) {
  const { deps, ports } = makeDeps({}, { champion: false });
  const previous = options.previous ?? true;
  if (previous) {
    ports.models.models.set(
      'm_old',
      modelRecord({ model_id: 'm_old', version: 'v-old', status: 'retired', gate: gate(0.1) }),
    );
  }
  ports.models.models.set(
    'm_new',
    modelRecord({
      model_id: 'm_new',
      version: 'v-new',
      status: 'champion',
      alias: 'champion',
      gate: gate(0.1),
      previous_champion_id: previous ? 'm_old' : null,
      activated_at: T0.toISOString(),
    }),
  );
  ports.clock.set(new Date(T0.getTime() + 12 * HOUR));
  let invalidations = 0;
  const monitor = new DriftMonitor(deps, CONFIG, { invalidate: () => invalidations++ });
  return { ports, monitor, invalidations: () => invalidations };
}

function setRows(ports: MemoryPorts, rows: ModelBinCounts[]): void {
  ports.analytics.modelRows = { rows, truncated: false };
}

async function model(ports: MemoryPorts, id: string): Promise<ModelRecord> {
  return (await ports.models.get(id))!;
}

describe('online metrics per model version', () => {
  it('sums the pairs of a version over its variants, counting each pair once across its bins', () => {
    // Prepare
    const rows = [
      ...pairRows('v1', { impressions: 1_000, clicks: 10, calibration: 1.2, logloss: 0.1 }),
      ...pairRows('v1', { impressions: 3_000, clicks: 30, calibration: 1.0, logloss: 0.2, variant: 'exp:0' }),
    ];

    // Act
    const metrics = onlineMetricsByVersion(rows).get('v1');

    // Assess: sum_probability 12 + 30 over 40 clicks; log loss weighted by impressions.
    expect(metrics).toEqual({ impressions: 4_000, clicks: 40, calibration: 42 / 40, logloss: 0.175 });
  });
});

describe('the drift monitor', () => {
  it('rolls a champion whose online calibration is 1.5 back to its previous champion and records it on both', async () => {
    // Prepare
    const { ports, monitor, invalidations } = setup();
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(ports.models.promoteCalls.map((c) => c.modelId)).toEqual(['m_old']);
    expect((await ports.models.champion())?.model_id).toBe('m_old');
    expect(invalidations()).toBe(1);
    const event = report.events[0]!;
    expect(event).toMatchObject({
      kind: 'rolled_back',
      model_id: 'm_new',
      rolled_back_to: 'm_old',
      experiment_ids: [],
      impressions: 50_000,
      clicks: 1_000,
      calibration: 1.5,
      baseline_logloss: 0.1,
    });
    expect(event.reasons).toEqual(['online calibration 1.500 is outside [0.8, 1.2]']);
    expect((await model(ports, 'm_new')).drift_events).toEqual([event]);
    expect((await model(ports, 'm_old')).drift_events).toEqual([event]);
    expect(await model(ports, 'm_new')).toMatchObject({ status: 'retired', alias: null });
  });

  it('judges the window that ends an attribution window before now', async () => {
    // Prepare
    const { ports, monitor } = setup();

    // Act
    const report = await monitor.check();

    // Assess: now is T0 + 12 h; 6 h ending 1 h ago.
    expect(ports.analytics.queries).toEqual([
      {
        kind: 'models',
        query: {
          from: new Date(T0.getTime() + 5 * HOUR),
          to: new Date(T0.getTime() + 11 * HOUR),
          limit: 1_000,
          attributionWindowSeconds: 3_600,
        },
      },
    ]);
    expect(report.window).toEqual({
      from: new Date(T0.getTime() + 5 * HOUR).toISOString(),
      to: new Date(T0.getTime() + 11 * HOUR).toISOString(),
    });
  });

  it('does nothing when a miscalibrated champion has too few clicks to judge', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { impressions: 50_000, clicks: 499, calibration: 3, logloss: 0.5 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks.map((c) => c.verdict)).toEqual(['insufficient_data']);
    expect(report.events).toEqual([]);
    expect(ports.models.promoteCalls).toEqual([]);
    expect((await model(ports, 'm_new')).drift_events).toBeUndefined();
  });

  it('does nothing when a champion has clicks but too few impressions', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { impressions: 9_999, clicks: 600, calibration: 3, logloss: 0.5 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks.map((c) => c.verdict)).toEqual(['insufficient_data']);
    expect(ports.models.promoteCalls).toEqual([]);
  });

  it('rolls back a calibrated champion whose online log loss is 20 % above its holdout log loss', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { ...healthy, logloss: 0.12 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.events.map((e) => e.kind)).toEqual(['rolled_back']);
    expect(report.events[0]!.reasons).toEqual([
      'online log loss 0.12000 is 20.0 % above its holdout log loss 0.10000 (at most 10 % allowed)',
    ]);
    expect((await ports.models.champion())?.model_id).toBe('m_old');
  });

  it('keeps a champion whose log loss is 5 % above its holdout and whose calibration is 1.15', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.15, logloss: 0.105 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks.map((c) => c.verdict)).toEqual(['ok']);
    expect(ports.models.promoteCalls).toEqual([]);
  });

  it('judges calibration only when the model has no holdout log loss to compare with', async () => {
    // Prepare
    const { ports, monitor } = setup();
    await ports.models.update('m_new', { gate: null, holdout_metrics: { validation_logloss: 0.01 } });
    setRows(ports, pairRows('v-new', { ...healthy, logloss: 0.5 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks[0]).toMatchObject({ verdict: 'ok', baseline_logloss: null });
  });

  it('flags a drifting champion that has no previous champion, and keeps it serving', async () => {
    // Prepare
    const { ports, monitor, invalidations } = setup({ previous: false });
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 0.6 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.events).toMatchObject([{ kind: 'flagged', model_id: 'm_new', rolled_back_to: null }]);
    expect(report.events[0]!.detail).toContain('no previous champion to roll back to');
    expect(ports.models.promoteCalls).toEqual([]);
    expect(invalidations()).toBe(0);
    expect(await model(ports, 'm_new')).toMatchObject({ status: 'champion', drift_events: report.events });
  });

  it('flags rather than rolls back to a previous champion that was itself taken out for drift', async () => {
    // Prepare
    const { ports, monitor } = setup();
    const earlier: DriftEvent = {
      at: T0.toISOString(),
      kind: 'rolled_back',
      model_id: 'm_old',
      rolled_back_to: 'm_older',
      experiment_ids: [],
      reasons: ['online calibration 1.400 is outside [0.8, 1.2]'],
      impressions: 50_000,
      clicks: 1_000,
      calibration: 1.4,
      logloss: 0.1,
      baseline_logloss: 0.1,
      window: { from: T0.toISOString(), to: T0.toISOString() },
      detail: 'earlier',
    };
    await ports.models.update('m_old', { drift_events: [earlier] });
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.events.map((e) => e.kind)).toEqual(['flagged']);
    expect(report.events[0]!.detail).toContain('was itself taken out for drift');
    expect(ports.models.promoteCalls).toEqual([]);
  });

  it('stops the experiment of a drifting challenger and leaves the champion alone', async () => {
    // Prepare
    const { ports, monitor, invalidations } = setup();
    ports.models.models.set('m_chal', modelRecord({ model_id: 'm_chal', version: 'v-chal', status: 'challenger' }));
    ports.experiments.set([
      experiment({
        experiment_id: 'exp_1',
        variants: [
          { model_id: 'm_new', weight: 1 },
          { model_id: 'm_chal', weight: 1 },
        ],
      }),
    ]);
    setRows(ports, [
      ...pairRows('v-chal', { ...healthy, calibration: 1.6, variant: 'exp_1:1' }),
      ...pairRows('v-new', { ...healthy, variant: 'exp_1:0' }),
    ]);

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks.map((c) => [c.model_id, c.role, c.verdict])).toEqual([
      ['m_new', 'champion', 'ok'],
      ['m_chal', 'challenger', 'drifted'],
    ]);
    expect(report.events).toMatchObject([
      { kind: 'experiment_stopped', model_id: 'm_chal', experiment_ids: ['exp_1'], rolled_back_to: null },
    ]);
    expect(await ports.experiments.running()).toEqual([]);
    expect(ports.models.promoteCalls).toEqual([]);
    expect(invalidations()).toBe(1);
    expect((await model(ports, 'm_chal')).drift_events).toEqual(report.events);
    expect((await model(ports, 'm_new')).drift_events).toBeUndefined();
  });

  it('does not roll back again, nor record again, on a second check after a rollback', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));
    await monitor.check();
    ports.clock.advance(15 * 60_000);

    // Act: the same evidence is still in the window.
    const second = await monitor.check();

    // Assess
    expect(second.events).toEqual([]);
    expect(second.checks.map((c) => [c.model_id, c.verdict])).toEqual([['m_old', 'insufficient_data']]);
    expect(ports.models.promoteCalls.map((c) => c.modelId)).toEqual(['m_old']);
    expect((await model(ports, 'm_new')).drift_events).toHaveLength(1);
  });

  it('does not act again on a model re-activated within the window of its drift event', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));
    await monitor.check();
    await ports.models.promote('m_new', ports.clock.now(), null);
    ports.clock.advance(HOUR);

    // Act
    const second = await monitor.check();

    // Assess
    expect(second.checks.map((c) => [c.model_id, c.verdict])).toEqual([['m_new', 'cooling_down']]);
    expect((await ports.models.champion())?.model_id).toBe('m_new');
  });

  it('flags a still drifting champion again once the window no longer holds the evidence of the last flag', async () => {
    // Prepare
    const { ports, monitor } = setup({ previous: false });
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));
    await monitor.check();
    ports.clock.advance(6 * HOUR);

    // Act
    const again = await monitor.check();

    // Assess
    expect(again.events.map((e) => e.kind)).toEqual(['flagged']);
    expect((await model(ports, 'm_new')).drift_events).toHaveLength(2);
  });

  it('keeps the newest 20 events of a model', async () => {
    // Prepare
    const { ports, monitor } = setup({ previous: false });
    const old = (i: number): DriftEvent => ({
      at: new Date(T0.getTime() - (30 - i) * 24 * HOUR).toISOString(),
      kind: 'flagged',
      model_id: 'm_new',
      rolled_back_to: null,
      experiment_ids: [],
      reasons: [],
      impressions: 0,
      clicks: 0,
      calibration: null,
      logloss: null,
      baseline_logloss: null,
      window: { from: T0.toISOString(), to: T0.toISOString() },
      detail: `old ${i}`,
    });
    await ports.models.update('m_new', { drift_events: Array.from({ length: 20 }, (_, i) => old(i)) });
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));

    // Act
    const report = await monitor.check();

    // Assess
    const kept = (await model(ports, 'm_new')).drift_events!;
    expect(kept).toHaveLength(20);
    expect(kept[0]!.detail).toBe('old 1');
    expect(kept.at(-1)).toEqual(report.events[0]);
  });

  it('reports a failed rollback instead of throwing, and acts on the next check', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-new', { ...healthy, calibration: 1.5 }));
    const promote = ports.models.promote.bind(ports.models);
    ports.models.promote = async () => {
      throw new Error('registry unavailable');
    };

    // Act
    const failed = await monitor.check();
    ports.models.promote = promote;
    const retried = await monitor.check();

    // Assess
    expect(failed.failures).toEqual([{ model_id: 'm_new', error: 'Error: registry unavailable' }]);
    expect(failed.events).toEqual([]);
    expect(retried.events.map((e) => e.kind)).toEqual(['rolled_back']);
  });

  it('leaves a model without analytics rows alone', async () => {
    // Prepare
    const { ports, monitor } = setup();
    setRows(ports, pairRows('v-other', { ...healthy, calibration: 2 }));

    // Act
    const report = await monitor.check();

    // Assess
    expect(report.checks).toMatchObject([
      { model_id: 'm_new', verdict: 'insufficient_data', metrics: { impressions: 0, clicks: 0 } },
    ]);
  });
});

describe('the drift check schedule', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const quiet: DriftReport = { window: { from: '', to: '' }, checks: [], events: [], failures: [] };

  it('logs a failed check and still runs the next one', async () => {
    // Prepare
    vi.useFakeTimers();
    const logger = new RecordingLogger();
    const outcomes = [() => Promise.reject(new Error('lake unavailable')), () => Promise.resolve(quiet)];
    let calls = 0;
    const schedule = scheduleDriftChecks({ check: () => outcomes[calls++]!() }, 60_000, logger);

    // Act
    await vi.advanceTimersByTimeAsync(120_000);
    await schedule.stop();

    // Assess
    expect(calls).toBe(2);
    expect(logger.entries).toEqual([
      { level: 'error', message: 'drift check failed', fields: { error: 'Error: lake unavailable' } },
    ]);
  });

  it('skips a tick while the previous check is still running, and stops ticking when stopped', async () => {
    // Prepare
    vi.useFakeTimers();
    let calls = 0;
    let finish: (r: DriftReport) => void = () => {};
    const monitor = {
      check: () => {
        calls++;
        return new Promise<DriftReport>((resolve) => {
          finish = resolve;
        });
      },
    };
    const schedule = scheduleDriftChecks(monitor, 60_000, new RecordingLogger());

    // Act
    await vi.advanceTimersByTimeAsync(180_000);
    const during = calls;
    finish(quiet);
    const stopped = schedule.stop();
    await vi.advanceTimersByTimeAsync(180_000);
    await stopped;

    // Assess
    expect(during).toBe(1);
    expect(calls).toBe(1);
  });
});
