import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, NotFoundError } from '../../../lambdas/core/errors.js';
import type { ErasureTarget, StoreErasure, UserDataEraser } from '../../../lambdas/core/ports.js';
import { hmacPseudonym, MemoryErasureStore, makeApp, modelRecord, T0 } from '../../support/memory-ports.js';

const HOUR = 3_600_000;

/** An eraser that records what it was asked and answers what it is given (or fails). */
class ScriptedEraser implements UserDataEraser {
  readonly calls: ErasureTarget[] = [];

  constructor(
    readonly store: string,
    private readonly answer: StoreErasure | (() => never),
  ) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    this.calls.push(target);
    return typeof this.answer === 'function' ? this.answer() : this.answer;
  }
}

function setup(erasers: UserDataEraser[]) {
  const store = new MemoryErasureStore();
  const scheduled: (() => Promise<void>)[] = [];
  const made = makeApp({ erasure: { store, erasers, schedule: (run) => scheduled.push(run) } });
  return { ...made, store, scheduled, runScheduled: () => Promise.all(scheduled.splice(0).map((run) => run())) };
}

const span = (fromHoursAgo: number, toHoursAgo: number) => ({
  from: new Date(T0.getTime() - fromHoursAgo * HOUR),
  to: new Date(T0.getTime() - toHoursAgo * HOUR),
});

describe('ErasureUseCase', () => {
  it('records a pending erasure by pseudonym before it runs, and runs it after', async () => {
    // Prepare
    const log = new ScriptedEraser('prediction_log', { removed: { predictions: 3 } });
    const { app, store, scheduled, runScheduled } = setup([log]);

    // Act
    const accepted = await app.erasures.request('alice');
    const stored = await store.get(accepted.erasure_id);
    await runScheduled();

    // Assess
    expect(accepted).toEqual({
      erasure_id: expect.any(String),
      status: 'pending',
      receipt: `/erasures/${accepted.erasure_id}`,
    });
    expect(stored?.receipt.status).toBe('pending');
    expect(stored?.userKey).toBe(hmacPseudonym('user', 'alice'));
    expect(JSON.stringify(stored?.receipt)).not.toContain('alice');
    expect(scheduled).toHaveLength(0);
    expect(log.calls).toEqual([
      { erasureId: accepted.erasure_id, userKey: hmacPseudonym('user', 'alice'), requestedAt: T0 },
    ]);
  });

  it('completes with one receipt entry per store in order, experiment assignments last, and forgets the pseudonym', async () => {
    // Prepare
    const { app, store, runScheduled } = setup([
      new ScriptedEraser('feature_store', { removed: { user_counters: 1 } }),
      new ScriptedEraser('lake', { removed: { clicks: 4 }, status: 'submitted', detail: 'glue run jr_1' }),
    ]);
    const { erasure_id } = await app.erasures.request('bob');

    // Act
    await runScheduled();
    const receipt = await app.erasures.get(erasure_id);

    // Assess
    expect(receipt.status).toBe('completed');
    expect(receipt.stores.map((s) => [s.store, s.status, s.removed])).toEqual([
      ['feature_store', 'completed', { user_counters: 1 }],
      ['lake', 'submitted', { clicks: 4 }],
      ['experiment_assignments', 'completed', {}],
    ]);
    expect(receipt.stores[2]?.detail).toContain('no assignment is stored per user');
    expect((await store.get(erasure_id))?.userKey).toBeNull();
  });

  it('flags models registered by then whose training window overlaps the data found, or is unknown', async () => {
    // Prepare: data of the user from 10 h to 2 h ago
    const { app, ports, runScheduled } = setup([
      new ScriptedEraser('prediction_log', { removed: { predictions: 2 }, span: span(10, 2) }),
    ]);
    const window = (fromH: number, toH: number) => ({
      from: new Date(T0.getTime() - fromH * HOUR).toISOString(),
      to: new Date(T0.getTime() - toH * HOUR).toISOString(),
    });
    for (const m of [
      modelRecord({ model_id: 'm_overlap', version: 'o', training_window: window(24, 5) }),
      modelRecord({ model_id: 'm_before', version: 'b', training_window: window(48, 24) }),
      modelRecord({ model_id: 'm_unknown', version: 'u', training_window: null }),
      modelRecord({ model_id: 'm_later', version: 'l', created_at: new Date(T0.getTime() + HOUR).toISOString() }),
      modelRecord({ model_id: 'm_uploading', version: 'p', status: 'uploading' }),
    ])
      ports.models.models.set(m.model_id, m);
    const { erasure_id } = await app.erasures.request('carol');

    // Act
    await runScheduled();
    const receipt = await app.erasures.get(erasure_id);

    // Assess
    expect(receipt.models_flagged.sort()).toEqual(['m_champion', 'm_overlap', 'm_unknown']);
    expect(ports.models.models.get('m_overlap')?.retrain_required_by_erasure).toEqual({
      since: T0.toISOString(),
      erasures: 1,
      erasure_ids: [erasure_id],
    });
    expect(ports.models.models.get('m_before')?.retrain_required_by_erasure).toBeUndefined();
    expect(receipt.data_span).toEqual({ from: span(10, 2).from.toISOString(), to: span(10, 2).to.toISOString() });
  });

  it('flags nothing when no data of the user was found', async () => {
    // Prepare
    const { app, ports, runScheduled } = setup([new ScriptedEraser('prediction_log', { removed: { predictions: 0 } })]);
    const { erasure_id } = await app.erasures.request('nobody');

    // Act
    await runScheduled();

    // Assess
    expect((await app.erasures.get(erasure_id)).models_flagged).toEqual([]);
    expect(ports.models.models.get('m_champion')?.retrain_required_by_erasure).toBeUndefined();
  });

  it('counts a second erasure on a flagged model and keeps its first date', async () => {
    // Prepare
    const { app, ports, runScheduled } = setup([
      new ScriptedEraser('prediction_log', { removed: { predictions: 1 }, span: span(3, 2) }),
    ]);
    const first = await app.erasures.request('dave');
    await runScheduled();
    ports.clock.advance(HOUR);
    const second = await app.erasures.request('erin');

    // Act
    await runScheduled();

    // Assess
    expect(ports.models.models.get('m_champion')?.retrain_required_by_erasure).toEqual({
      since: T0.toISOString(),
      erasures: 2,
      erasure_ids: [first.erasure_id, second.erasure_id],
    });
  });

  it('records a failure without the pseudonym in it, and forgets the pseudonym', async () => {
    // Prepare
    const key = hmacPseudonym('user', 'frank');
    const { app, store, ports, runScheduled } = setup([
      new ScriptedEraser('feature_store', { removed: { user_counters: 1 } }),
      new ScriptedEraser('lake', () => {
        throw new Error(`cannot rewrite the rows of ${key}`);
      }),
    ]);
    const { erasure_id } = await app.erasures.request('frank');

    // Act
    await runScheduled();
    const receipt = await app.erasures.get(erasure_id);

    // Assess
    expect(receipt.status).toBe('failed');
    expect(receipt.error).toBe('cannot rewrite the rows of <user>');
    expect(receipt.stores.map((s) => s.store)).toEqual(['feature_store']);
    expect((await store.get(erasure_id))?.userKey).toBeNull();
    expect(JSON.stringify(ports.logger.entries)).not.toContain(key);
  });

  it('resumes unfinished erasures, skipping the stores their receipt already lists', async () => {
    // Prepare: an erasure that stopped after its first store
    const features = new ScriptedEraser('feature_store', { removed: { user_counters: 1 } });
    const lake = new ScriptedEraser('lake', { removed: { clicks: 2 } });
    const { app, store, runScheduled } = setup([features, lake]);
    await store.create({
      receipt: {
        erasure_id: 'er_interrupted',
        status: 'running',
        requested_at: T0.toISOString(),
        started_at: T0.toISOString(),
        completed_at: null,
        stores: [
          {
            store: 'feature_store',
            status: 'completed',
            removed: { user_counters: 1 },
            detail: null,
            completed_at: T0.toISOString(),
          },
        ],
        data_span: null,
        models_flagged: [],
        error: null,
      },
      userKey: hmacPseudonym('user', 'gina'),
    });

    // Act
    const resumed = await app.erasures.resume();
    await runScheduled();

    // Assess
    expect(resumed).toBe(1);
    expect(features.calls).toHaveLength(0);
    expect(lake.calls).toHaveLength(1);
    const receipt = await app.erasures.get('er_interrupted');
    expect(receipt.status).toBe('completed');
    expect(receipt.stores.map((s) => s.store)).toEqual(['feature_store', 'lake', 'experiment_assignments']);
  });

  it('runs one erasure once when asked twice at the same time', async () => {
    // Prepare
    const lake = new ScriptedEraser('lake', { removed: { clicks: 1 } });
    const { app, scheduled } = setup([lake]);
    const { erasure_id } = await app.erasures.request('hank');
    scheduled.length = 0;

    // Act
    await Promise.all([app.erasures.run(erasure_id), app.erasures.run(erasure_id)]);
    await app.erasures.run(erasure_id);

    // Assess
    expect(lake.calls).toHaveLength(1);
  });

  it('answers an unknown erasure with NotFound and a deployment without erasure with DependencyUnavailable', async () => {
    // Prepare
    const { app } = setup([]);
    const bare = makeApp().app;

    // Act / Assess
    await expect(app.erasures.get('er_unknown')).rejects.toBeInstanceOf(NotFoundError);
    await expect(bare.erasures.request('ivan')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('stays running while a store’s job runs, and completes (flagging models) once the job succeeded', async () => {
    // Prepare: the lake's rewrite is a job; the first check finds it running, the second done
    const states = [{ done: false }, { done: true }];
    const confirmed: (readonly string[])[] = [];
    const lake: UserDataEraser = {
      store: 'lake',
      erase: async () => ({ status: 'submitted', jobs: ['clicks:jr_1'], removed: { clicks: 2 }, span: span(5, 4) }),
      confirm: async (jobs) => {
        confirmed.push(jobs);
        return states.shift()!;
      },
    };
    const { app, ports, store } = setup([lake]);
    ports.models.models.set('m_old', modelRecord({ model_id: 'm_old', version: 'old', training_window: null }));
    const { erasure_id } = await app.erasures.request('alice');

    // Act
    const submitted = await app.erasures.run(erasure_id);
    const stillRunning = await app.erasures.run(erasure_id);
    const keyWhileRunning = (await store.get(erasure_id))?.userKey;
    const done = await app.erasures.run(erasure_id);

    // Assess
    expect(submitted).toMatchObject({
      status: 'running',
      stores: [
        { store: 'lake', status: 'submitted', jobs: ['clicks:jr_1'] },
        { store: 'experiment_assignments', status: 'completed' },
      ],
    });
    expect(stillRunning?.status).toBe('running');
    expect(keyWhileRunning).toBe(hmacPseudonym('user', 'alice'));
    expect(done).toMatchObject({
      status: 'completed',
      stores: [{ store: 'lake', status: 'completed' }, { store: 'experiment_assignments' }],
      models_flagged: expect.arrayContaining(['m_old']),
    });
    expect(confirmed).toEqual([['clicks:jr_1'], ['clicks:jr_1']]);
    expect((await store.get(erasure_id))?.userKey).toBeNull();
  });

  it('fails the erasure when a store’s job failed, naming the job', async () => {
    // Prepare
    const lake: UserDataEraser = {
      store: 'lake',
      erase: async () => ({ status: 'submitted', jobs: ['clicks:jr_1'], removed: { clicks: 2 } }),
      confirm: async () => ({ done: false, failed: 'Glue run clicks:jr_1 ended FAILED: boom' }),
    };
    const { app } = setup([lake]);
    const { erasure_id } = await app.erasures.request('alice');
    await app.erasures.run(erasure_id);

    // Act
    const failed = await app.erasures.run(erasure_id);

    // Assess
    expect(failed).toMatchObject({ status: 'failed', error: 'lake: Glue run clicks:jr_1 ended FAILED: boom' });
  });

  it('erases a store only once its readyAt has passed, the stores before it at once', async () => {
    // Prepare: the lake waits 16 minutes for data still in delivery
    const log = new ScriptedEraser('prediction_log', { removed: { predictions: 1 } });
    const lake = new ScriptedEraser('lake', { removed: { clicks: 1 } });
    const delayed: UserDataEraser = {
      store: lake.store,
      erase: (t) => lake.erase(t),
      readyAt: (t) => new Date(t.requestedAt.getTime() + 16 * 60_000),
    };
    const { app, ports } = setup([log, delayed]);
    const { erasure_id } = await app.erasures.request('alice');

    // Act
    const early = await app.erasures.run(erasure_id);
    ports.clock.advance(16 * 60_000);
    const later = await app.erasures.run(erasure_id);

    // Assess
    expect(early).toMatchObject({ status: 'running', stores: [{ store: 'prediction_log' }] });
    expect(lake.calls).toHaveLength(1);
    expect(log.calls).toHaveLength(1);
    expect(later).toMatchObject({ status: 'completed' });
    expect(later?.stores.map((s) => s.store)).toEqual(['prediction_log', 'lake', 'experiment_assignments']);
  });
});
