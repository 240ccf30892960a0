import { describe, expect, it } from 'vitest';
import { createApp } from '../../../lambdas/core/app.js';
import type { UserDataEraser } from '../../../lambdas/core/ports.js';
import { erasureConfigOf } from '../../../lambdas/handlers/erasure-composition.js';
import { runUnfinishedErasures } from '../../../lambdas/handlers/erasure-worker.js';
import { MemoryErasureStore, makeApp } from '../../support/memory-ports.js';

describe('the erasure worker', () => {
  it('runs every erasure the API recorded (where scheduling does nothing) and waits for them', async () => {
    // Prepare: the API side records two erasures and schedules nothing, as in AWS
    const store = new MemoryErasureStore();
    const erased: string[] = [];
    const eraser: UserDataEraser = {
      store: 'prediction_log',
      erase: async (t) => {
        erased.push(t.erasureId);
        return { removed: { predictions: 1 } };
      },
    };
    const { app: api, deps } = makeApp({ erasure: { store, erasers: [eraser], schedule: () => {} } });
    const first = await api.erasures.request('alice');
    const second = await api.erasures.request('bob');

    // Act
    const n = await runUnfinishedErasures((schedule) =>
      createApp({ ...deps, erasure: { store, erasers: [eraser], schedule } }),
    );

    // Assess
    expect(n).toBe(2);
    expect(erased).toEqual([first.erasure_id, second.erasure_id]);
    expect((await api.erasures.get(first.erasure_id)).status).toBe('completed');
    expect(await store.unfinished()).toEqual([]);
  });

  it('is configured by its environment, or not at all', () => {
    // Act / Assess
    expect(erasureConfigOf({})).toBeUndefined();
    expect(
      erasureConfigOf({
        ADCLICK_ERASURES_TABLE: 'adclick-dev-erasures',
        ADCLICK_ERASURE_JOB: 'adclick-dev-rewrite-partition',
        ADCLICK_LAKE_BUCKET: 'lake-bucket',
      }),
    ).toEqual({
      erasuresTable: 'adclick-dev-erasures',
      rewriteJob: 'adclick-dev-rewrite-partition',
      lakeBucket: 'lake-bucket',
      lakePrefix: 'lake',
      lakeDelayMs: 960_000,
    });
    expect(() => erasureConfigOf({ ADCLICK_ERASURES_TABLE: 't' })).toThrow(/ADCLICK_ERASURE_JOB/);
    const base = { ADCLICK_ERASURES_TABLE: 't', ADCLICK_ERASURE_JOB: 'j', ADCLICK_LAKE_BUCKET: 'b' };
    expect(erasureConfigOf({ ...base, ADCLICK_ERASURE_LAKE_DELAY_SECONDS: '360' })?.lakeDelayMs).toBe(360_000);
    expect(() => erasureConfigOf({ ...base, ADCLICK_ERASURE_LAKE_DELAY_SECONDS: '-1' })).toThrow(
      /ADCLICK_ERASURE_LAKE_DELAY_SECONDS/,
    );
  });
});
