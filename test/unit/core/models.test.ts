import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  DependencyUnavailableError,
  GateRefusedError,
  InvalidArtifactError,
  NotFoundError,
} from '../../../lambdas/core/errors.js';
import type { GateReport } from '../../../lambdas/core/schemas/models.js';
import { decideGate } from '../../../lambdas/core/usecases/gate.js';
import {
  addCandidate,
  CHAMPION_ID,
  holdoutMetrics,
  MemoryArtifactStore,
  type MemoryPorts,
  makeApp,
  T0,
} from '../../support/memory-ports.js';

const SEGMENTS = [
  { segment: 'mobile', rows: 5_000, calibration: 1.0 },
  { segment: 'desktop', rows: 3_000, calibration: 1.02 },
  { segment: 'tablet', rows: 1_500, calibration: 0.97 },
  { segment: 'tv', rows: 500, calibration: 0.5 },
];

/** Holdout numbers where the candidate beats the champion on every count. */
function goodHoldout(ports: MemoryPorts, candidateId: string): void {
  ports.holdout.set(CHAMPION_ID, holdoutMetrics(0.2, 1.0, SEGMENTS));
  ports.holdout.set(candidateId, holdoutMetrics(0.15, 1.01, SEGMENTS));
}

async function upload(app: ReturnType<typeof makeApp>['app'], version: string, body?: Uint8Array) {
  const started = await app.models.startUpload({ version, metadata: { owner: 'mlops' } });
  await app.models.receiveArtifact(started.model_id, body ?? MemoryArtifactStore.manifest());
  return started;
}

describe('model upload', () => {
  it('registers a candidate through startUpload, receiveArtifact and completeUpload', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const body = MemoryArtifactStore.manifest({ algorithm: 'ftrl-fm', negative_sampling_rate: 0.25 });

    // Act
    const started = await app.models.startUpload({ version: '2026-12-04.1', metadata: { owner: 'mlops' } });
    const uploading = await app.models.get(started.model_id);
    const received = await app.models.receiveArtifact(started.model_id, body);
    const candidate = await app.models.completeUpload(started.model_id);

    // Assess
    expect(started).toEqual({
      model_id: expect.any(String),
      upload_url: `memory://upload/${started.model_id}`,
      max_bytes: ports.artifacts.maxBytes,
    });
    expect(uploading.status).toBe('uploading');
    expect(received).toEqual({ model_id: started.model_id, bytes: body.byteLength });
    expect(candidate).toMatchObject({
      model_id: started.model_id,
      version: '2026-12-04.1',
      status: 'candidate',
      alias: null,
      algorithm: 'ftrl-fm',
      artifact_bytes: body.byteLength,
      metadata: { owner: 'mlops' },
      negative_sampling_rate: 0.25,
      training_window: { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' },
      holdout_metrics: { logloss: 0.1 },
      created_at: T0.toISOString(),
    });
    expect(await app.models.get(started.model_id)).toEqual(candidate);
  });

  it('returns the candidate again when the upload is completed twice', async () => {
    // Prepare
    const { app } = makeApp();
    const { model_id } = await upload(app, 'v2');
    const first = await app.models.completeUpload(model_id);

    // Act
    const second = await app.models.completeUpload(model_id);

    // Assess
    expect(second).toEqual(first);
  });

  it('refuses a version that exists with a ConflictError naming version', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.models.startUpload({ version: 'v2', metadata: {} });

    // Act
    const act = app.models.startUpload({ version: 'v2', metadata: {} });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
    await expect(act).rejects.toMatchObject({ errors: [{ path: 'version' }] });
    expect([...ports.models.models.values()].filter((m) => m.version === 'v2')).toHaveLength(1);
  });

  it('registers a version once when two uploads of it race', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const results = await Promise.allSettled([
      app.models.startUpload({ version: 'v2', metadata: {} }),
      app.models.startUpload({ version: 'v2', metadata: {} }),
    ]);

    // Assess
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect([...ports.models.models.values()].filter((m) => m.version === 'v2')).toHaveLength(1);
  });

  it('refuses an artifact that is not a model with an InvalidArtifactError and keeps the upload open', async () => {
    // Prepare
    const { app } = makeApp();
    const { model_id } = await upload(app, 'v2', new TextEncoder().encode('not a tarball'));

    // Act
    const act = app.models.completeUpload(model_id);

    // Assess
    await expect(act).rejects.toBeInstanceOf(InvalidArtifactError);
    expect((await app.models.get(model_id)).status).toBe('uploading');
  });

  it('reports an artifact store that is down as a dependency failure, not as a bad artifact', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const { model_id } = await upload(app, 'v2', MemoryArtifactStore.manifest());
    ports.artifacts.inspect = async () => {
      throw new DependencyUnavailableError('the artifact bucket is unreachable');
    };

    // Act
    const act = app.models.completeUpload(model_id);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect((await app.models.get(model_id)).status).toBe('uploading');
  });

  it('accepts a corrected artifact after a refused one', async () => {
    // Prepare
    const { app } = makeApp();
    const { model_id } = await upload(app, 'v2', new TextEncoder().encode('{}'));
    await expect(app.models.completeUpload(model_id)).rejects.toBeInstanceOf(InvalidArtifactError);
    await app.models.receiveArtifact(model_id, MemoryArtifactStore.manifest());

    // Act
    const candidate = await app.models.completeUpload(model_id);

    // Assess
    expect(candidate.status).toBe('candidate');
  });

  it('refuses to complete an upload whose artifact never arrived', async () => {
    // Prepare
    const { app } = makeApp();
    const { model_id } = await app.models.startUpload({ version: 'v2', metadata: {} });

    // Act
    const act = app.models.completeUpload(model_id);

    // Assess
    await expect(act).rejects.toBeInstanceOf(InvalidArtifactError);
  });

  it('wraps an unexpected inspection failure in an InvalidArtifactError that says why', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const { model_id } = await upload(app, 'v2');
    ports.artifacts.inspect = async () => {
      throw new Error('gunzip: unexpected end of file');
    };

    // Act
    const act = app.models.completeUpload(model_id);

    // Assess
    await expect(act).rejects.toBeInstanceOf(InvalidArtifactError);
    await expect(act).rejects.toThrow(/unexpected end of file/);
  });

  it('refuses a new artifact once the upload is complete', async () => {
    // Prepare
    const { app } = makeApp();
    const { model_id } = await upload(app, 'v2');
    await app.models.completeUpload(model_id);

    // Act
    const act = app.models.receiveArtifact(model_id, MemoryArtifactStore.manifest());

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
  });

  it('says NotFound for an unknown model and for no active model', async () => {
    // Prepare
    const { app } = makeApp({}, { champion: false });

    // Act
    const unknown = app.models.get('m_nope');
    const active = app.models.active();

    // Assess
    await expect(unknown).rejects.toBeInstanceOf(NotFoundError);
    await expect(active).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('model activation', () => {
  it('makes a candidate that passes the gate the champion and retires the previous one', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    goodHoldout(ports, 'm_new');
    ports.clock.advance(60_000);

    // Act
    const promoted = await app.models.activate('m_new', false);

    // Assess
    expect(promoted).toMatchObject({
      model_id: 'm_new',
      status: 'champion',
      alias: 'champion',
      previous_champion_id: CHAMPION_ID,
      activated_at: new Date(T0.getTime() + 60_000).toISOString(),
    });
    expect(promoted.gate).toMatchObject({ passed: true, reasons: [], holdout: ports.holdout.holdout });
    expect(await app.models.get(CHAMPION_ID)).toMatchObject({ status: 'retired', alias: null });
    expect((await app.models.active()).model_id).toBe('m_new');
    expect(ports.holdout.calls).toEqual([['m_new', CHAMPION_ID]]);
  });

  it('refuses a candidate whose log loss is not lower with a GateRefusedError carrying the report', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    ports.holdout.set(CHAMPION_ID, holdoutMetrics(0.2, 1.0, SEGMENTS));
    ports.holdout.set('m_new', holdoutMetrics(0.21, 1.0, SEGMENTS));

    // Act
    let thrown: unknown;
    try {
      await app.models.activate('m_new', false);
    } catch (err) {
      thrown = err;
    }

    // Assess
    expect(thrown).toBeInstanceOf(GateRefusedError);
    expect(thrown).toBeInstanceOf(ConflictError);
    const gate = (thrown as GateRefusedError).extensions.gate as GateReport;
    expect(gate.passed).toBe(false);
    expect(gate.reasons).toEqual([expect.stringContaining('log loss')]);
    expect(gate.candidate.logloss).toBe(0.21);
    expect(gate.champion!.logloss).toBe(0.2);
    expect(await app.models.get('m_new')).toMatchObject({ status: 'candidate', gate });
    expect((await app.models.active()).model_id).toBe(CHAMPION_ID);
  });

  it.each([
    ['below the band', 0.8],
    ['above the band', 1.25],
    ['undefined (no clicks)', null],
  ])('refuses a candidate whose overall calibration on 500 clicks is %s', async (_label, calibration) => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    ports.holdout.set(CHAMPION_ID, holdoutMetrics(0.2, 1.0, SEGMENTS));
    ports.holdout.set('m_new', holdoutMetrics(0.1, calibration, SEGMENTS));

    // Act
    const act = app.models.activate('m_new', false);

    // Assess
    await expect(act).rejects.toBeInstanceOf(GateRefusedError);
    await expect(act).rejects.toMatchObject({
      extensions: { gate: { passed: false, reasons: [expect.stringContaining('calibration')] } },
    });
  });

  it('refuses a candidate miscalibrated on one of the three largest segments', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    ports.holdout.set(CHAMPION_ID, holdoutMetrics(0.2, 1.0, SEGMENTS));
    ports.holdout.set(
      'm_new',
      holdoutMetrics(0.1, 1.0, [
        { segment: 'mobile', rows: 5_000, calibration: 1.0 },
        { segment: 'tablet', rows: 1_500, calibration: 1.2 },
        { segment: 'desktop', rows: 3_000, calibration: 1.0 },
      ]),
    );

    // Act
    const act = app.models.activate('m_new', false);

    // Assess
    await expect(act).rejects.toMatchObject({
      extensions: { gate: { passed: false, reasons: [expect.stringContaining('segment tablet')] } },
    });
  });

  it('passes a candidate miscalibrated only on a segment outside the three largest', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    goodHoldout(ports, 'm_new'); // the 4th segment, tv, is at 0.5

    // Act
    const promoted = await app.models.activate('m_new', false);

    // Assess
    expect(promoted.status).toBe('champion');
  });

  it('activates a refused candidate when forced, keeping the refusing report', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    ports.holdout.set(CHAMPION_ID, holdoutMetrics(0.2, 1.0));
    ports.holdout.set('m_new', holdoutMetrics(0.3, 1.5));

    // Act
    const promoted = await app.models.activate('m_new', true);

    // Assess
    expect(promoted).toMatchObject({ status: 'champion', previous_champion_id: CHAMPION_ID });
    expect(promoted.gate!.passed).toBe(false);
    expect(promoted.gate!.reasons).toHaveLength(2);
  });

  it('refuses activation without a holdout unless forced', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');

    // Act
    const refused = app.models.activate('m_new', false);
    await expect(refused).rejects.toBeInstanceOf(GateRefusedError);
    const forced = await app.models.activate('m_new', true);

    // Assess
    await expect(refused).rejects.toMatchObject({ errors: [{ path: 'force' }] });
    expect(forced).toMatchObject({ status: 'champion', gate: null, previous_champion_id: CHAMPION_ID });
  });

  it('judges a first model on calibration only when there is no champion', async () => {
    // Prepare
    const { app, ports } = makeApp({}, { champion: false });
    addCandidate(ports, 'm_first');
    ports.holdout.set('m_first', holdoutMetrics(0.5, 1.0));

    // Act
    const promoted = await app.models.activate('m_first', false);

    // Assess
    expect(promoted).toMatchObject({ status: 'champion', previous_champion_id: null });
    expect(promoted.gate).toMatchObject({ passed: true, champion: null });
    expect(ports.holdout.calls).toEqual([['m_first']]);
  });

  it('refuses to activate a model that is still uploading', async () => {
    // Prepare
    const { app } = makeApp();
    const { model_id } = await app.models.startUpload({ version: 'v2', metadata: {} });

    // Act
    const act = app.models.activate(model_id, true);

    // Assess
    await expect(act).rejects.toBeInstanceOf(ConflictError);
    await expect(act).rejects.not.toBeInstanceOf(GateRefusedError);
  });

  it('returns the champion unchanged when it is activated again', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const again = await app.models.activate(CHAMPION_ID, false);

    // Assess
    expect(again.status).toBe('champion');
    expect(ports.models.promoteCalls).toEqual([]);
  });

  it('rolls back by activating the previous champion', async () => {
    // Prepare
    const { app, ports } = makeApp();
    addCandidate(ports, 'm_new');
    goodHoldout(ports, 'm_new');
    const promoted = await app.models.activate('m_new', false);

    // Act
    const rolledBack = await app.models.activate(promoted.previous_champion_id!, true);

    // Assess
    expect(rolledBack).toMatchObject({ model_id: CHAMPION_ID, status: 'champion', previous_champion_id: 'm_new' });
    expect(await app.models.get('m_new')).toMatchObject({ status: 'retired', alias: null });
    expect((await app.models.list()).filter((m) => m.alias === 'champion').map((m) => m.model_id)).toEqual([
      CHAMPION_ID,
    ]);
  });

  it('serves predictions from the new champion at once (the routing cache is invalidated)', async () => {
    // Prepare
    const { app, ports } = makeApp({}, { config: { routingCacheMs: 3_600_000 } });
    addCandidate(ports, 'm_new', 'NEW');
    goodHoldout(ports, 'm_new');
    const before = await app.predict.predict({ user_id: 'u', ad_id: 'ad-1' });

    // Act
    await app.models.activate('m_new', false);
    const after = await app.predict.predict({ user_id: 'u', ad_id: 'ad-1' });

    // Assess
    expect(before.model_version).not.toBe('NEW');
    expect(after.model_version).toBe('NEW');
    expect(ports.model.calls.at(-1)!.model.model_id).toBe('m_new');
  });
});

describe('decideGate', () => {
  const scored = (logloss: number, calibration: number | null, positives = 1_000_000) => ({
    rows: 20 * positives,
    positives,
    logloss,
    calibration,
    auc: 0.7,
    segments: [],
  });

  it.each([0.9, 1.0, 1.1])('passes a calibration of %s (the band is inclusive)', (calibration) => {
    // Act
    const report = decideGate('h', scored(0.1, calibration), scored(0.2, 1));

    // Assess
    expect(report.passed).toBe(true);
  });

  it.each([0.89, 1.11])('refuses %s when the holdout has clicks enough to tell it from the band', (calibration) => {
    // Act: on 100,000 clicks the 95 % interval is about ±0.6 %
    const report = decideGate('h', scored(0.1, calibration, 100_000), null);

    // Assess
    expect(report.passed).toBe(false);
    expect(report.reasons).toEqual([
      expect.stringMatching(/calibration .* on 100000 clicks\) is outside \[0\.9, 1\.1\]/),
    ]);
  });

  it('passes a point estimate past the edge that is within the noise of its clicks, and refuses one beyond it', () => {
    // Prepare: on 400 clicks the observed count alone wobbles by about ±10 % (95 %)
    const noisy = scored(0.1, 1.106, 400);
    const miscalibrated = scored(0.1, 1.3, 400);

    // Act
    const passed = decideGate('h', noisy, null);
    const refused = decideGate('h', miscalibrated, null);

    // Assess
    expect(passed.passed).toBe(true);
    expect(refused.reasons).toEqual([
      'calibration 1.300 (95 % interval [1.179, 1.437] on 400 clicks) is outside [0.9, 1.1]',
    ]);
  });

  it('refuses a candidate with no clicks on the holdout, whose calibration is undefined', () => {
    // Act
    const report = decideGate('h', scored(0.1, null, 0), null);

    // Assess
    expect(report.reasons).toEqual(['calibration undefined (no clicks) is outside [0.9, 1.1]']);
  });

  it('refuses an equal log loss', () => {
    // Act
    const report = decideGate('h', scored(0.2, 1), scored(0.2, 1));

    // Assess
    expect(report.passed).toBe(false);
  });

  it('refuses a NaN log loss', () => {
    // Act
    const report = decideGate('h', scored(Number.NaN, 1), scored(0.2, 1));

    // Assess
    expect(report.passed).toBe(false);
  });

  it('judges segment calibration only on segments with at least 100 clicks', () => {
    // Prepare
    const segment = (name: string, positives: number, calibration: number) => ({
      segment: name,
      rows: 5_000,
      positives,
      logloss: 0.1,
      calibration,
      auc: 0.7,
    });
    const candidate = { ...scored(0.1, 1), segments: [segment('tablet', 40, 1.6), segment('mobile', 400, 1.0)] };
    const miscalibrated = { ...scored(0.1, 1), segments: [segment('tablet', 100, 1.6)] };

    // Act
    const noisy = decideGate('h', candidate, null);
    const judged = decideGate('h', miscalibrated, null);

    // Assess
    expect(noisy.passed).toBe(true);
    expect(judged.reasons).toEqual([expect.stringContaining('segment tablet')]);
  });
});
