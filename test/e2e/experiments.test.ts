import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { packModel } from '../../sagemaker/index.js';
import { call, type HttpResult, pollUntil, startInProcess, type TempDir, tempDir } from '../support/e2e-server.js';

const PROBLEM = 'application/problem+json';
const USERS = 400;

function expectProblem(res: HttpResult, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain(PROBLEM);
}

describe('an A/B experiment on the local server', () => {
  let dir: TempDir;
  let server: LocalRuntime;
  let base: string;
  let token: string;
  let champion: { model_id: string; version: string };
  let candidate: { model_id: string; version: string };

  beforeAll(async () => {
    dir = await tempDir('experiments');
    server = await startInProcess(dir.path);
    base = server.url;
    token = server.adminToken;
    // The candidate is the champion's own folder uploaded again: a second servable model.
    champion = (await call(base, 'GET', '/model/active', { token })).json;
    const artifact = await packModel(join(server.dataDir, 'models', champion.model_id, 'model'));
    const started = await call(base, 'POST', '/model/upload', {
      token,
      body: { version: 'e2e-exp-candidate', metadata: {} },
    });
    await call(started.json.upload_url, 'PUT', '', {
      token,
      body: new Uint8Array(artifact),
      contentType: 'application/gzip',
    });
    candidate = (await call(base, 'POST', `/model/upload/${started.json.model_id}/complete`, { token })).json;
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  const predict = async (user: string) => {
    const res = await call(base, 'POST', '/predict', { body: { user_id: user, ad_id: 'e2e-exp-ad' } });
    expect(res.status).toBe(200);
    return res.json as { prediction_id: string; variant: string; model_version: string };
  };

  it('refuses an experiment with one variant, or with a model that does not exist, naming the field', async () => {
    // Act
    const one = await call(base, 'POST', '/experiments', {
      token,
      body: { name: 'x', variants: [{ model_id: champion.model_id, weight: 1 }] },
    });
    const unknown = await call(base, 'POST', '/experiments', {
      token,
      body: {
        name: 'x',
        variants: [
          { model_id: champion.model_id, weight: 1 },
          { model_id: 'm_nope', weight: 1 },
        ],
      },
    });

    // Assess
    expectProblem(one, 400);
    expect(one.json.errors.map((e: { path: string }) => e.path)).toContain('variants');
    expectProblem(unknown, 400);
    expect(unknown.json.errors.map((e: { path: string }) => e.path)).toEqual(['variants.1.model_id']);
  });

  it('splits users 3:1 stickily between champion and candidate, counts their impressions, and stops', async () => {
    // Act: start it
    const created = await call(base, 'POST', '/experiments', {
      token,
      body: {
        name: 'champion vs candidate',
        variants: [
          { model_id: champion.model_id, weight: 3 },
          { model_id: candidate.model_id, weight: 1 },
        ],
      },
    });

    // Assess
    expect(created.status).toBe(201);
    const id: string = created.json.experiment_id;
    expect(created.json).toMatchObject({ status: 'running', campaign_ids: null, stopped_at: null });

    // Act: many users, then a second request from some of them
    const first = new Map<string, { prediction_id: string; variant: string; model_version: string }>();
    for (let u = 0; u < USERS; u++) first.set(`e2e-exp-u${u}`, await predict(`e2e-exp-u${u}`));
    const repeats = await Promise.all(
      [...first.keys()].slice(0, 50).map(async (user) => [user, await predict(user)] as const),
    );

    // Assess: both variants, each served by its own model, about 3:1, and sticky
    const served = [...first.values()];
    const control = served.filter((p) => p.variant === `${id}:0`);
    const treated = served.filter((p) => p.variant === `${id}:1`);
    expect(control.length + treated.length).toBe(USERS);
    // 75 % expected; ±10 points is more than four standard deviations at 400 users.
    expect(control.length / USERS).toBeGreaterThan(0.65);
    expect(control.length / USERS).toBeLessThan(0.85);
    expect(new Set(control.map((p) => p.model_version))).toEqual(new Set([champion.version]));
    expect(new Set(treated.map((p) => p.model_version))).toEqual(new Set([candidate.version]));
    for (const [user, again] of repeats) expect(again.variant).toBe(first.get(user)!.variant);

    // Act: a second global experiment would get no traffic
    const overlapping = await call(base, 'POST', '/experiments', {
      token,
      body: {
        name: 'second',
        variants: [
          { model_id: champion.model_id, weight: 1 },
          { model_id: candidate.model_id, weight: 1 },
        ],
        campaign_ids: ['c-any'],
      },
    });

    // Assess
    expectProblem(overlapping, 409);
    expect(overlapping.json.detail).toContain(id);

    // Act: every prediction is shown; one in ten clicked ten seconds later
    const shownAt = Date.now();
    const events = served.flatMap((p, k) => {
      const impression = {
        type: 'impression',
        impression_id: `e2e-exp-i${k}`,
        prediction_id: p.prediction_id,
        user_id: `e2e-exp-u${k}`,
        ad_id: 'e2e-exp-ad',
        timestamp: new Date(shownAt).toISOString(),
      };
      const click = {
        type: 'click',
        click_id: `e2e-exp-c${k}`,
        impression_id: impression.impression_id,
        clicked: true,
        timestamp: new Date(shownAt + 10_000).toISOString(),
      };
      return k % 10 === 0 ? [impression, click] : [impression];
    });
    for (let i = 0; i < events.length; i += 200) {
      const res = await call(base, 'POST', '/event/batch', { body: { events: events.slice(i, i + 200) } });
      expect(res.status).toBe(200);
    }
    const counted = await pollUntil(
      () => call(base, 'GET', `/experiments/${id}`, { token }),
      (res) =>
        res.status === 200 &&
        res.json.results.variants.reduce((s: number, v: { impressions: number }) => s + v.impressions, 0) === USERS,
      'the experiment to count every impression',
    );

    // Assess: per-variant counts from the lake, with the evaluation
    const results = counted.json.results;
    expect(results).toMatchObject({ control: `${id}:0`, clamped: false, decision: expect.any(String) });
    expect(results.variants.map((v: { variant: string; impressions: number }) => [v.variant, v.impressions])).toEqual([
      [`${id}:0`, control.length],
      [`${id}:1`, treated.length],
    ]);
    expect(results.variants.reduce((s: number, v: { clicks: number }) => s + v.clicks, 0)).toBe(USERS / 10);
    expect(Array.isArray(results.reasons)).toBe(true);

    // Act: list, stop, stop again
    const listed = await call(base, 'GET', '/experiments?status=running', { token });
    const stopped = await call(base, 'PUT', `/experiments/${id}/stop`, { token });
    const stoppedAgain = await call(base, 'PUT', `/experiments/${id}/stop`, { token });
    const runningAfter = await call(base, 'GET', '/experiments?status=running', { token });
    const after = await Promise.all([...first.keys()].slice(0, 50).map(predict));

    // Assess: stopped once, and its users are back on the champion at once
    expect(listed.json.experiments.map((e: { experiment_id: string }) => e.experiment_id)).toEqual([id]);
    expect(stopped.status).toBe(200);
    expect(stopped.json).toMatchObject({ experiment_id: id, status: 'stopped', stopped_at: expect.any(String) });
    expect(stoppedAgain.json).toEqual(stopped.json);
    expect(runningAfter.json.experiments).toEqual([]);
    expect(new Set(after.map((p) => p.variant))).toEqual(new Set(['champion']));
    expect(new Set(after.map((p) => p.model_version))).toEqual(new Set([champion.version]));
  });

  it('answers an unknown experiment with a 404 problem on get and on stop', async () => {
    // Act
    const got = await call(base, 'GET', '/experiments/exp_none', { token });
    const stopped = await call(base, 'PUT', '/experiments/exp_none/stop', { token });

    // Assess
    expectProblem(got, 404);
    expectProblem(stopped, 404);
  });

  it('refuses the experiment routes without the admin token', async () => {
    // Act
    const res = await call(base, 'GET', '/experiments');

    // Assess
    expectProblem(res, 401);
  });
});
