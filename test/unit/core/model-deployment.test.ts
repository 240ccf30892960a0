import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, GateRefusedError } from '../../../lambdas/core/errors.js';
import type { ModelDeployment, ModelRef } from '../../../lambdas/core/ports.js';
import { addCandidate, CHAMPION_ID, holdoutMetrics, type MemoryPorts, makeApp } from '../../support/memory-ports.js';

const SEGMENTS = [{ segment: 'mobile', rows: 5_000, calibration: 1.0 }];

/** Records what it was asked to prepare and what the registry and store held at that moment. */
class FakeDeployment implements ModelDeployment {
  readonly calls: { models: string[]; championThen: string | undefined; experimentsThen: number }[] = [];
  failure: Error | undefined;
  ports!: MemoryPorts;

  async prepare(models: readonly ModelRef[]): Promise<void> {
    this.calls.push({
      models: models.map((m) => m.model_id),
      championThen: (await this.ports.models.champion())?.model_id,
      experimentsThen: (await this.ports.experiments.list()).length,
    });
    if (this.failure) throw this.failure;
  }
}

function setup() {
  const deployment = new FakeDeployment();
  const made = makeApp({ deployment });
  deployment.ports = made.ports;
  addCandidate(made.ports, 'm_new');
  made.ports.holdout.set(CHAMPION_ID, holdoutMetrics(0.2, 1.0, SEGMENTS));
  made.ports.holdout.set('m_new', holdoutMetrics(0.15, 1.0, SEGMENTS));
  return { ...made, deployment };
}

describe('model activation with a deployment', () => {
  it('prepares the candidate on the endpoint before promoting it', async () => {
    // Prepare
    const { app, deployment } = setup();

    // Act
    const promoted = await app.models.activate('m_new', false);

    // Assess
    expect(deployment.calls).toEqual([{ models: ['m_new'], championThen: CHAMPION_ID, experimentsThen: 0 }]);
    expect(promoted.status).toBe('champion');
  });

  it('answers 503 and leaves the champion unchanged when the endpoint cannot be prepared', async () => {
    // Prepare
    const { app, deployment } = setup();
    deployment.failure = new Error('connect ETIMEDOUT 52.94.1.1:443');

    // Act
    const err = await app.models.activate('m_new', false).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toContain('m_new');
    expect((await app.models.active()).model_id).toBe(CHAMPION_ID);
    expect((await app.models.get('m_new')).status).toBe('candidate');
  });

  it("passes the deployment's own refusal through with its message", async () => {
    // Prepare
    const { app, deployment } = setup();
    deployment.failure = new DependencyUnavailableError('The model endpoint is being updated: retry in a few minutes.');

    // Act
    const act = app.models.activate('m_new', false);

    // Assess
    await expect(act).rejects.toThrow('The model endpoint is being updated: retry in a few minutes.');
    expect((await app.models.active()).model_id).toBe(CHAMPION_ID);
  });

  it('deploys nothing for a candidate the gate refuses', async () => {
    // Prepare
    const { app, ports, deployment } = setup();
    ports.holdout.set('m_new', holdoutMetrics(0.3, 1.0, SEGMENTS));

    // Act
    const act = app.models.activate('m_new', false);

    // Assess
    await expect(act).rejects.toBeInstanceOf(GateRefusedError);
    expect(deployment.calls).toEqual([]);
  });
});

describe('experiment creation with a deployment', () => {
  const request = {
    name: 'champion vs new',
    variants: [
      { model_id: CHAMPION_ID, weight: 1 },
      { model_id: 'm_new', weight: 1 },
    ],
  };

  it("prepares every variant's model before storing the experiment", async () => {
    // Prepare
    const { app, deployment } = setup();

    // Act
    const created = await app.experiments.create(request);

    // Assess
    expect(deployment.calls).toEqual([
      { models: [CHAMPION_ID, 'm_new'], championThen: CHAMPION_ID, experimentsThen: 0 },
    ]);
    expect(created.status).toBe('running');
  });

  it('stores no experiment when the endpoint cannot be prepared', async () => {
    // Prepare
    const { app, deployment } = setup();
    deployment.failure = new Error('ThrottlingException: Rate exceeded');

    // Act
    const act = app.experiments.create(request);

    // Assess
    await expect(act).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await app.experiments.list()).toEqual([]);
  });
});

describe('preparing what routing serves (a server before it takes traffic)', () => {
  it('prepares the champion and each running variant once', async () => {
    // Prepare
    const { app, deployment } = setup();
    addCandidate(deployment.ports, 'm_other');
    await app.experiments.create({
      name: 'three ways',
      variants: [
        { model_id: CHAMPION_ID, weight: 1 },
        { model_id: 'm_new', weight: 1 },
        { model_id: 'm_other', weight: 1 },
      ],
    });
    deployment.calls.length = 0;

    // Act
    const prepared = await app.models.prepareServing();

    // Assess
    expect(deployment.calls.map((c) => [...c.models].sort())).toEqual([[CHAMPION_ID, 'm_new', 'm_other']]);
    expect(prepared.map((m) => m.model_id).sort()).toEqual([CHAMPION_ID, 'm_new', 'm_other']);
  });

  it('prepares nothing when no model is active yet', async () => {
    // Prepare
    const deployment = new FakeDeployment();
    const { app, ports } = makeApp({ deployment }, { champion: false });
    deployment.ports = ports;

    // Act
    const prepared = await app.models.prepareServing();

    // Assess
    expect(prepared).toEqual([]);
    expect(deployment.calls).toEqual([]);
  });

  it('answers 503 when the endpoint cannot load a model it must serve', async () => {
    // Prepare
    const { app, deployment } = setup();
    deployment.failure = new Error('connect ECONNREFUSED');

    // Act
    const act = app.models.prepareServing();

    // Assess
    await expect(act).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
