import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/core/api/routes.js';
import { ConfigError, parseLocalConfig } from '../../lambdas/server/config.js';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { packModel } from '../../sagemaker/index.js';
import { call, type HttpResult, startInProcess, type TempDir, tempDir, timestampIn } from '../support/e2e-server.js';

const PROBLEM = 'application/problem+json';

function expectProblem(res: HttpResult, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain(PROBLEM);
  expect(res.json).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(typeof res.json.detail).toBe('string');
  expect(Array.isArray(res.json.errors)).toBe(true);
}

const errorPaths = (res: HttpResult): string[] => (res.json?.errors ?? []).map((e: { path: string }) => e.path);

/** A route's template with every `{param}` filled in. */
const concretePath = (template: string) => template.replace(/\{\w+\}/g, 'e2e-param');

describe('the local server, route by route', () => {
  let dir: TempDir;
  let server: LocalRuntime;
  let base: string;
  let token: string;

  beforeAll(async () => {
    dir = await tempDir('routes');
    server = await startInProcess(dir.path);
    base = server.url;
    token = server.adminToken;
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  describe('POST /predict', () => {
    it('scores one ad with a probability, a prediction id, the model version and the variant', async () => {
      // Act
      const res = await call(base, 'POST', '/predict', {
        body: { user_id: 'u-1', ad_id: 'ad-1', features: { device_type: 'mobile', position: 1 } },
      });

      // Assess
      expect(res.status).toBe(200);
      expect(res.json.probability).toBeGreaterThanOrEqual(0);
      expect(res.json.probability).toBeLessThanOrEqual(1);
      expect(res.json).toMatchObject({
        prediction_id: expect.any(String),
        ad_id: 'ad-1',
        model_version: expect.any(String),
        variant: 'champion',
      });
    });

    it('adds per-feature contributions when asked to explain', async () => {
      // Act
      const res = await call(base, 'POST', '/predict', {
        body: { user_id: 'u-1', ad_id: 'ad-1', features: { device_type: 'mobile' }, explain: true },
      });

      // Assess
      expect(res.status).toBe(200);
      expect(typeof res.json.explanation.base_value).toBe('number');
      expect(Object.keys(res.json.explanation.contributions).length).toBeGreaterThan(0);
    });

    it('refuses a body without ad_id with a 400 problem naming ad_id', async () => {
      // Act
      const res = await call(base, 'POST', '/predict', { body: { user_id: 'u-1' } });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('ad_id');
    });

    it('refuses malformed JSON with a 400 problem', async () => {
      // Act
      const res = await call(base, 'POST', '/predict', { body: '{"user_id": "u-1", "ad_id": ' });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toEqual(['(body)']);
    });

    it('refuses a body that is not application/json with a 415 problem', async () => {
      // Act
      const res = await call(base, 'POST', '/predict', {
        body: '{"user_id":"u-1","ad_id":"ad-1"}',
        contentType: 'text/plain',
      });

      // Assess
      expectProblem(res, 415);
    });

    it('refuses a body larger than 256 KB with a 413 problem', async () => {
      // Prepare
      const padding = 'x'.repeat(256 * 1024);
      const body = JSON.stringify({ user_id: 'u-1', ad_id: 'ad-1', features: { pad: padding } });

      // Act
      const res = await call(base, 'POST', '/predict', { body });

      // Assess
      expectProblem(res, 413);
    });

    it('refuses an unknown key with a 400 problem naming it', async () => {
      // Act
      const res = await call(base, 'POST', '/predict', { body: { user_id: 'u-1', ad_id: 'ad-1', colour: 'red' } });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('colour');
    });

    it('answers the same request_id with the same prediction', async () => {
      // Prepare
      const body = { user_id: 'u-2', ad_id: 'ad-2', request_id: 'req-same-twice', features: { site_id: 's1' } };

      // Act
      const first = await call(base, 'POST', '/predict', { body });
      const second = await call(base, 'POST', '/predict', { body });

      // Assess
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.json.prediction_id).toBe(first.json.prediction_id);
      expect(second.json.probability).toBe(first.json.probability);
    });

    it('refuses a request_id reused for another ad with a 409 problem', async () => {
      // Prepare
      await call(base, 'POST', '/predict', { body: { user_id: 'u-3', ad_id: 'ad-3', request_id: 'req-reused' } });

      // Act
      const res = await call(base, 'POST', '/predict', {
        body: { user_id: 'u-3', ad_id: 'ad-other', request_id: 'req-reused' },
      });

      // Assess
      expectProblem(res, 409);
      expect(errorPaths(res)).toContain('request_id');
    });
  });

  describe('POST /predict/batch', () => {
    it('answers one prediction per ad, in request order, each with its own id', async () => {
      // Prepare
      const adIds = ['b-5', 'b-1', 'b-4', 'b-2', 'b-3'];

      // Act
      const res = await call(base, 'POST', '/predict/batch', {
        body: { user_id: 'u-4', features: { device_type: 'desktop' }, ads: adIds.map((ad_id) => ({ ad_id })) },
      });

      // Assess
      expect(res.status).toBe(200);
      expect(res.json.predictions.map((p: { ad_id: string }) => p.ad_id)).toEqual(adIds);
      expect(new Set(res.json.predictions.map((p: { prediction_id: string }) => p.prediction_id)).size).toBe(5);
      for (const p of res.json.predictions) {
        expect(p.probability).toBeGreaterThanOrEqual(0);
        expect(p.probability).toBeLessThanOrEqual(1);
      }
    });

    it('refuses 501 ads with a 400 problem naming ads', async () => {
      // Act
      const res = await call(base, 'POST', '/predict/batch', {
        body: { user_id: 'u-4', ads: Array.from({ length: 501 }, (_, i) => ({ ad_id: `ad-${i}` })) },
      });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('ads');
    });

    it('refuses an empty list of ads with a 400 problem', async () => {
      // Act
      const res = await call(base, 'POST', '/predict/batch', { body: { user_id: 'u-4', ads: [] } });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('ads');
    });

    it('answers a replayed batch request_id with the same predictions', async () => {
      // Prepare
      const body = { user_id: 'u-5', request_id: 'req-batch-twice', ads: [{ ad_id: 'x-1' }, { ad_id: 'x-2' }] };

      // Act
      const first = await call(base, 'POST', '/predict/batch', { body });
      const second = await call(base, 'POST', '/predict/batch', { body });

      // Assess
      expect(second.status).toBe(200);
      expect(second.json.predictions).toEqual(first.json.predictions);
    });
  });

  describe('POST /event/impression and /event/click', () => {
    it('acknowledges an impression with 202 and a replay as a duplicate, also 202', async () => {
      // Prepare
      const body = { impression_id: 'imp-route-1', user_id: 'u-6', ad_id: 'ad-6', timestamp: timestampIn(0) };

      // Act
      const first = await call(base, 'POST', '/event/impression', { body });
      const replay = await call(base, 'POST', '/event/impression', { body });

      // Assess
      expect(first.status).toBe(202);
      expect(first.json).toEqual({ status: 'accepted', id: 'imp-route-1' });
      expect(replay.status).toBe(202);
      expect(replay.json).toEqual({ status: 'duplicate', id: 'imp-route-1' });
    });

    it('refuses an impression more than 5 minutes in the future with a 400 that says so', async () => {
      // Act
      const res = await call(base, 'POST', '/event/impression', {
        body: { impression_id: 'imp-future', user_id: 'u-6', ad_id: 'ad-6', timestamp: timestampIn(10 * 60_000) },
      });

      // Assess
      expectProblem(res, 400);
      expect(res.json.detail).toMatch(/future/);
      expect(errorPaths(res)).toContain('timestamp');
    });

    it("refuses an impression older than the lake's retention with a 400 that says so", async () => {
      // Act
      const res = await call(base, 'POST', '/event/impression', {
        body: { impression_id: 'imp-old', user_id: 'u-6', ad_id: 'ad-6', timestamp: timestampIn(-500 * 86_400_000) },
      });

      // Assess
      expectProblem(res, 400);
      expect(res.json.detail).toMatch(/retention/);
    });

    it('refuses an impression without user_id, or with an invalid ip, with a 400 naming the field', async () => {
      // Act
      const noUser = await call(base, 'POST', '/event/impression', {
        body: { impression_id: 'imp-nouser', ad_id: 'ad-6', timestamp: timestampIn(0) },
      });
      const badIp = await call(base, 'POST', '/event/impression', {
        body: { impression_id: 'imp-badip', user_id: 'u', ad_id: 'ad-6', timestamp: timestampIn(0), ip: '999.1.1.1' },
      });

      // Assess
      expectProblem(noUser, 400);
      expect(errorPaths(noUser)).toContain('user_id');
      expectProblem(badIp, 400);
      expect(errorPaths(badIp)).toContain('ip');
    });

    it('acknowledges a click with 202 and a replay as a duplicate', async () => {
      // Prepare
      const body = {
        click_id: 'clk-route-1',
        impression_id: 'imp-route-1',
        clicked: true,
        ip: '2001:db8::1',
        timestamp: timestampIn(0),
      };

      // Act
      const first = await call(base, 'POST', '/event/click', { body });
      const replay = await call(base, 'POST', '/event/click', { body });

      // Assess
      expect(first.status).toBe(202);
      expect(first.json).toEqual({ status: 'accepted', id: 'clk-route-1' });
      expect(replay.status).toBe(202);
      expect(replay.json.status).toBe('duplicate');
    });

    it('refuses a click whose clicked is not a boolean with a 400 naming it', async () => {
      // Act
      const res = await call(base, 'POST', '/event/click', {
        body: { click_id: 'clk-bad', impression_id: 'imp-route-1', clicked: 'yes', timestamp: timestampIn(0) },
      });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('clicked');
    });

    it('refuses a timestamp without a zone with a 400', async () => {
      // Act
      const res = await call(base, 'POST', '/event/click', {
        body: {
          click_id: 'clk-nozone',
          impression_id: 'imp-route-1',
          clicked: false,
          timestamp: '2026-12-04T10:00:00',
        },
      });

      // Assess
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain('timestamp');
    });
  });

  describe('POST /event/batch', () => {
    it('gives each event its own result: accepted, duplicate or rejected with the reason', async () => {
      // Prepare
      await call(base, 'POST', '/event/impression', {
        body: { impression_id: 'imp-batch-old', user_id: 'u-7', ad_id: 'ad-7', timestamp: timestampIn(0) },
      });
      const events = [
        { type: 'impression', impression_id: 'imp-batch-1', user_id: 'u-7', ad_id: 'ad-7', timestamp: timestampIn(0) },
        {
          type: 'click',
          click_id: 'clk-batch-1',
          impression_id: 'imp-batch-1',
          clicked: true,
          timestamp: timestampIn(0),
        },
        {
          type: 'impression',
          impression_id: 'imp-batch-old',
          user_id: 'u-7',
          ad_id: 'ad-7',
          timestamp: timestampIn(0),
        },
        {
          type: 'impression',
          impression_id: 'imp-batch-fut',
          user_id: 'u-7',
          ad_id: 'ad-7',
          timestamp: timestampIn(3_600_000),
        },
        { type: 'impression', impression_id: 'imp-batch-nouser', ad_id: 'ad-7', timestamp: timestampIn(0) },
        { type: 'view', id: 'nope' },
        { type: 'impression', impression_id: 'imp-batch-1', user_id: 'u-7', ad_id: 'ad-7', timestamp: timestampIn(0) },
      ];

      // Act
      const res = await call(base, 'POST', '/event/batch', { body: { events } });

      // Assess
      expect(res.status).toBe(200);
      const results = res.json.results as { index: number; status: string; error?: { detail: string } }[];
      expect(results.map((r) => [r.index, r.status])).toEqual([
        [0, 'accepted'],
        [1, 'accepted'],
        [2, 'duplicate'],
        [3, 'rejected'],
        [4, 'rejected'],
        [5, 'rejected'],
        [6, 'duplicate'],
      ]);
      expect(results[3]!.error!.detail).toMatch(/future/);
      expect(results[4]!.error!.detail).toMatch(/user_id/);
    });

    it('answers a replayed batch with every event a duplicate', async () => {
      // Prepare
      const events = [
        { type: 'impression', impression_id: 'imp-rb-1', user_id: 'u-8', ad_id: 'ad-8', timestamp: timestampIn(0) },
        { type: 'click', click_id: 'clk-rb-1', impression_id: 'imp-rb-1', clicked: false, timestamp: timestampIn(0) },
      ];
      await call(base, 'POST', '/event/batch', { body: { events } });

      // Act
      const replay = await call(base, 'POST', '/event/batch', { body: { events } });

      // Assess
      expect(replay.status).toBe(200);
      expect(replay.json.results).toEqual([
        { index: 0, status: 'duplicate' },
        { index: 1, status: 'duplicate' },
      ]);
    });

    it('refuses 501 events, or none, with a 400 problem naming events', async () => {
      // Prepare
      const event = { type: 'click', click_id: 'c', impression_id: 'i', clicked: true, timestamp: timestampIn(0) };

      // Act
      const tooMany = await call(base, 'POST', '/event/batch', { body: { events: Array(501).fill(event) } });
      const none = await call(base, 'POST', '/event/batch', { body: { events: [] } });

      // Assess
      expectProblem(tooMany, 400);
      expect(errorPaths(tooMany)).toContain('events');
      expectProblem(none, 400);
      expect(errorPaths(none)).toContain('events');
    });
  });

  describe('PUT and GET /ads/{ad_id}', () => {
    it('refuses both without the admin token with a 401 problem asking for a bearer token', async () => {
      // Act
      const put = await call(base, 'PUT', '/ads/ad-cat-1', { body: { campaign_id: 'c1', advertiser_id: 'a1' } });
      const get = await call(base, 'GET', '/ads/ad-cat-1', { token: 'not-the-admin-token-at-all' });

      // Assess
      expectProblem(put, 401);
      expect(put.headers.get('www-authenticate')).toMatch(/Bearer/);
      expectProblem(get, 401);
    });

    it('stores an ad with the token and reads it back; a second PUT replaces it', async () => {
      // Act
      const created = await call(base, 'PUT', '/ads/ad-cat-1', {
        token,
        body: { campaign_id: 'c1', advertiser_id: 'adv-1', category: 'sports', attributes: { size: '300x250' } },
      });
      const replaced = await call(base, 'PUT', '/ads/ad-cat-1', {
        token,
        body: { campaign_id: 'c2', advertiser_id: 'adv-1' },
      });
      const read = await call(base, 'GET', '/ads/ad-cat-1', { token });

      // Assess
      expect(created.status).toBe(200);
      expect(created.json).toMatchObject({ ad_id: 'ad-cat-1', campaign_id: 'c1', category: 'sports' });
      expect(replaced.status).toBe(200);
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ ad_id: 'ad-cat-1', campaign_id: 'c2', advertiser_id: 'adv-1' });
      expect(read.json.category).toBeUndefined();
      expect(read.json.created_at).toBe(created.json.created_at);
    });

    it('refuses an invalid ad with a 400 naming the field and answers an unknown ad with 404', async () => {
      // Act
      const invalid = await call(base, 'PUT', '/ads/ad-cat-2', { token, body: { campaign_id: 'c1', extra: 1 } });
      const unknown = await call(base, 'GET', '/ads/never-stored', { token });

      // Assess
      expectProblem(invalid, 400);
      expect(errorPaths(invalid)).toEqual(expect.arrayContaining(['advertiser_id', 'extra']));
      expectProblem(unknown, 404);
    });

    it('uses catalogue fields when scoring the ad', async () => {
      // Prepare
      await call(base, 'PUT', '/ads/ad-cat-3', {
        token,
        body: { campaign_id: 'camp-x', advertiser_id: 'adv-x', category: 'travel' },
      });

      // Act
      const res = await call(base, 'POST', '/predict', {
        body: { user_id: 'u-9', ad_id: 'ad-cat-3', explain: true },
      });

      // Assess
      expect(res.status).toBe(200);
      expect(Object.keys(res.json.explanation.contributions)).toEqual(
        expect.arrayContaining(['campaign_id', 'advertiser_id', 'category']),
      );
    });
  });

  describe('the model registry', () => {
    it('shows the champion at GET /model/active, in GET /models and at GET /models/{id}', async () => {
      // Act
      const active = await call(base, 'GET', '/model/active', { token });
      const list = await call(base, 'GET', '/models', { token });
      const one = await call(base, 'GET', `/models/${encodeURIComponent(active.json.model_id)}`, { token });

      // Assess
      expect(active.status).toBe(200);
      expect(active.json).toMatchObject({ status: 'champion', alias: 'champion' });
      expect(list.status).toBe(200);
      expect(list.json.models.map((m: { model_id: string }) => m.model_id)).toContain(active.json.model_id);
      expect(one.status).toBe(200);
      expect(one.json).toEqual(active.json);
    });

    it('answers an unknown model with a 404 problem', async () => {
      // Act
      const res = await call(base, 'GET', '/models/m_does-not-exist', { token });

      // Assess
      expectProblem(res, 404);
    });

    it('uploads, validates, gates, force-activates and rolls back a model', async () => {
      // Prepare: the active model's own folder, packed again
      const champion = (await call(base, 'GET', '/model/active', { token })).json;
      const artifact = await packModel(join(server.dataDir, 'models', champion.model_id, 'model'));

      // Act: the three upload steps
      const started = await call(base, 'POST', '/model/upload', {
        token,
        body: { version: 'e2e-copy-1', metadata: { owner: 'e2e', notes: 'the champion again' } },
      });
      const put = await call(started.json.upload_url, 'PUT', '', {
        token,
        body: new Uint8Array(artifact),
        contentType: 'application/gzip',
      });
      const completed = await call(base, 'POST', `/model/upload/${started.json.model_id}/complete`, { token });

      // Assess
      expect(started.status).toBe(201);
      expect(started.json).toMatchObject({ model_id: expect.any(String), max_bytes: 64 * 1024 * 1024 });
      expect(started.json.upload_url).toBe(`${base}/model/upload/${started.json.model_id}/artifact`);
      expect(put.status).toBe(200);
      expect(put.json).toEqual({ model_id: started.json.model_id, bytes: artifact.byteLength });
      expect(completed.status).toBe(200);
      expect(completed.json).toMatchObject({
        status: 'candidate',
        version: 'e2e-copy-1',
        algorithm: expect.any(String),
      });

      // Act: the gate (the same weights cannot have a lower log loss than the champion)
      const gated = await call(base, 'PUT', `/model/activate/${started.json.model_id}`, { token });

      // Assess
      if (gated.status === 409) {
        expectProblem(gated, 409);
        expect(gated.json.gate).toMatchObject({ passed: false, reasons: expect.any(Array) });
        expect(typeof gated.json.gate.candidate.logloss).toBe('number');
        expect(typeof gated.json.gate.champion.logloss).toBe('number');
      } else {
        expect(gated.status).toBe(200);
      }

      // Act: force it through
      const forced = await call(base, 'PUT', `/model/activate/${started.json.model_id}`, {
        token,
        body: { force: true },
      });
      const activeAfter = await call(base, 'GET', '/model/active', { token });

      // Assess
      expect(forced.status).toBe(200);
      expect(forced.json).toMatchObject({ model_id: started.json.model_id, status: 'champion' });
      expect(activeAfter.json.model_id).toBe(started.json.model_id);
      expect(activeAfter.json.previous_champion_id).toBe(champion.model_id);
      const scored = await call(base, 'POST', '/predict', { body: { user_id: 'u-10', ad_id: 'ad-10' } });
      expect(scored.json.model_version).toBe('e2e-copy-1');

      // Act: roll back by activating the previous champion (forced if the gate refuses it)
      let rollback = await call(base, 'PUT', `/model/activate/${champion.model_id}`, { token });
      if (rollback.status === 409) {
        expect(rollback.json.gate).toBeDefined();
        rollback = await call(base, 'PUT', `/model/activate/${champion.model_id}`, { token, body: { force: true } });
      }
      const activeRolledBack = await call(base, 'GET', '/model/active', { token });
      const retired = await call(base, 'GET', `/models/${started.json.model_id}`, { token });

      // Assess
      expect(rollback.status).toBe(200);
      expect(activeRolledBack.json.model_id).toBe(champion.model_id);
      expect(retired.json.status).toBe('retired');
    });

    it('refuses an artifact once the upload is complete with 409', async () => {
      // Prepare
      const champion = (await call(base, 'GET', '/model/active', { token })).json;
      const artifact = new Uint8Array(await packModel(join(server.dataDir, 'models', champion.model_id, 'model')));
      const started = await call(base, 'POST', '/model/upload', {
        token,
        body: { version: 'e2e-copy-2', metadata: {} },
      });
      await call(started.json.upload_url, 'PUT', '', { token, body: artifact, contentType: 'application/gzip' });
      await call(base, 'POST', `/model/upload/${started.json.model_id}/complete`, { token });

      // Act
      const again = await call(started.json.upload_url, 'PUT', '', {
        token,
        body: artifact,
        contentType: 'application/octet-stream',
      });

      // Assess
      expectProblem(again, 409);
    });

    it('refuses a corrupt artifact at complete with a 400 problem and keeps the model out of service', async () => {
      // Prepare
      const corrupt = [randomBytes(4096), gzipSync(randomBytes(4096))];
      const outcomes: { complete: HttpResult; activate: HttpResult }[] = [];

      for (const [i, bytes] of corrupt.entries()) {
        const started = await call(base, 'POST', '/model/upload', {
          token,
          body: { version: `e2e-corrupt-${i}`, metadata: {} },
        });
        const put = await call(started.json.upload_url, 'PUT', '', {
          token,
          body: new Uint8Array(bytes),
          contentType: 'application/octet-stream',
        });
        expect(put.status).toBe(200);

        // Act
        const complete = await call(base, 'POST', `/model/upload/${started.json.model_id}/complete`, { token });
        const activate = await call(base, 'PUT', `/model/activate/${started.json.model_id}`, {
          token,
          body: { force: true },
        });
        outcomes.push({ complete, activate });
      }

      // Assess
      for (const { complete, activate } of outcomes) {
        expectProblem(complete, 400);
        expect(activate.status).toBe(409);
      }
      const active = await call(base, 'GET', '/model/active', { token });
      expect(active.json.version).not.toMatch(/corrupt/);
    });

    it('refuses complete before any artifact was uploaded with a 400 problem', async () => {
      // Prepare
      const started = await call(base, 'POST', '/model/upload', {
        token,
        body: { version: 'e2e-empty', metadata: {} },
      });

      // Act
      const res = await call(base, 'POST', `/model/upload/${started.json.model_id}/complete`, { token });

      // Assess
      expectProblem(res, 400);
    });

    it('refuses a version that exists with a 409 problem naming version', async () => {
      // Prepare
      const active = (await call(base, 'GET', '/model/active', { token })).json;

      // Act
      const res = await call(base, 'POST', '/model/upload', { token, body: { version: active.version, metadata: {} } });

      // Assess
      expectProblem(res, 409);
      expect(errorPaths(res)).toContain('version');
    });

    it('refuses invalid upload and activate bodies, artifacts of the wrong type and unknown models', async () => {
      // Prepare
      const started = await call(base, 'POST', '/model/upload', { token, body: { version: 'e2e-misc', metadata: {} } });

      // Act
      const noMetadata = await call(base, 'POST', '/model/upload', { token, body: { version: 'e2e-x' } });
      const badForce = await call(base, 'PUT', `/model/activate/${started.json.model_id}`, {
        token,
        body: { force: 'yes' },
      });
      const wrongType = await call(started.json.upload_url, 'PUT', '', {
        token,
        body: 'not a tarball',
        contentType: 'text/plain',
      });
      const unknownArtifact = await call(base, 'PUT', '/model/upload/m_unknown/artifact', {
        token,
        body: new Uint8Array([1, 2, 3]),
        contentType: 'application/gzip',
      });
      const unknownComplete = await call(base, 'POST', '/model/upload/m_unknown/complete', { token });
      const unknownActivate = await call(base, 'PUT', '/model/activate/m_unknown', { token });
      const stillUploading = await call(base, 'PUT', `/model/activate/${started.json.model_id}`, { token });

      // Assess
      expectProblem(noMetadata, 400);
      expect(errorPaths(noMetadata)).toContain('metadata');
      expectProblem(badForce, 400);
      expect(errorPaths(badForce)).toContain('force');
      expectProblem(wrongType, 415);
      expectProblem(unknownArtifact, 404);
      expectProblem(unknownComplete, 404);
      expectProblem(unknownActivate, 404);
      expectProblem(stillUploading, 409);
    });
  });

  describe('admin routes', () => {
    const adminRoutes = ROUTES.filter((r) => r.access === 'admin');

    it.each(adminRoutes.map((r) => [r.method, r.path] as const))(
      'refuses %s %s without the admin token or with a wrong one (401)',
      async (method, path) => {
        // Prepare
        const concrete = concretePath(path);
        const body = method === 'GET' ? undefined : {};

        // Act
        const none = await call(base, method, concrete, { body });
        const wrong = await call(base, method, concrete, { body, token: `${token}x` });
        const notBearer = await call(base, method, concrete, { body, headers: { authorization: `Basic ${token}` } });

        // Assess
        expectProblem(none, 401);
        expectProblem(wrong, 401);
        expectProblem(notBearer, 401);
      },
    );
  });

  describe('open routes and HTTP edges', () => {
    it('reports each dependency at GET /health', async () => {
      // Act
      const res = await call(base, 'GET', '/health');

      // Assess
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('ok');
      expect(Object.keys(res.json.dependencies)).toEqual(expect.arrayContaining(['sqlite', 'event-log']));
    });

    it('serves an OpenAPI 3 document with every path and method of the route table', async () => {
      // Act
      const res = await call(base, 'GET', '/openapi.json');

      // Assess
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.json.openapi).toMatch(/^3\./);
      for (const route of ROUTES) {
        expect(res.json.paths[route.path], route.path).toBeDefined();
        expect(res.json.paths[route.path][route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
      }
    });

    it('serves the dashboard at GET /, under a Content-Security-Policy', async () => {
      // Act
      const res = await call(base, 'GET', '/');

      // Assess
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.text).toContain('/assets/dashboard.js');
    });

    it('answers an unknown route with a 404 problem', async () => {
      // Act
      const res = await call(base, 'GET', '/no/such/route');

      // Assess
      expectProblem(res, 404);
    });

    it('answers a wrong method with a 405 problem and an Allow header', async () => {
      // Act
      const onPredict = await call(base, 'GET', '/predict');
      const onAds = await call(base, 'DELETE', '/ads/ad-1', { token });

      // Assess
      expectProblem(onPredict, 405);
      expect(onPredict.headers.get('allow')).toBe('POST');
      expectProblem(onAds, 405);
      expect(
        onAds.headers
          .get('allow')
          ?.split(',')
          .map((m) => m.trim())
          .sort(),
      ).toEqual(['GET', 'HEAD', 'PUT']);
    });

    it('answers a wrong method on /openapi.json and / with 405 and Allow: GET', async () => {
      // Act
      const onDocument = await call(base, 'POST', '/openapi.json', { body: {} });
      const onLanding = await call(base, 'DELETE', '/');

      // Assess
      expectProblem(onDocument, 405);
      expect(onDocument.headers.get('allow')).toMatch(/GET/);
      expectProblem(onLanding, 405);
      expect(onLanding.headers.get('allow')).toMatch(/GET/);
    });

    it('answers HEAD /health like GET, without a body', async () => {
      // Act
      const res = await fetch(`${base}/health`, { method: 'HEAD' });

      // Assess
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    });

    it('keeps answering after a request it refused', async () => {
      // Act
      const res = await call(base, 'GET', '/health');

      // Assess
      expect(res.status).toBe(200);
    });
  });
});

describe('a server with ADCLICK_API_KEYS', () => {
  const KEY = 'e2e-api-key-0123456789abcdef';
  let dir: TempDir;
  let server: LocalRuntime;

  beforeAll(async () => {
    dir = await tempDir('keys');
    server = await startInProcess(dir.path, { ADCLICK_API_KEYS: `${KEY}, second-key-0123456789` });
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  const adServerRequests: [string, string, () => unknown][] = [
    ['POST', '/predict', () => ({ user_id: 'k-1', ad_id: 'ad-k' })],
    ['POST', '/predict/batch', () => ({ user_id: 'k-1', ads: [{ ad_id: 'ad-k' }] })],
    [
      'POST',
      '/event/impression',
      () => ({
        impression_id: `imp-k-${randomBytes(4).toString('hex')}`,
        user_id: 'k-1',
        ad_id: 'a',
        timestamp: timestampIn(0),
      }),
    ],
    [
      'POST',
      '/event/click',
      () => ({
        click_id: `clk-k-${randomBytes(4).toString('hex')}`,
        impression_id: 'i',
        clicked: true,
        timestamp: timestampIn(0),
      }),
    ],
    [
      'POST',
      '/event/batch',
      () => ({
        events: [
          {
            type: 'click',
            click_id: `clk-kb-${randomBytes(4).toString('hex')}`,
            impression_id: 'i',
            clicked: true,
            timestamp: timestampIn(0),
          },
        ],
      }),
    ],
  ];

  it.each(adServerRequests)('refuses %s %s without a key or with a wrong key (401)', async (method, path, body) => {
    // Act
    const none = await call(server.url, method, path, { body: body() });
    const wrong = await call(server.url, method, path, { body: body(), apiKey: `${KEY}-wrong` });

    // Assess
    expectProblem(none, 401);
    expectProblem(wrong, 401);
  });

  it.each(adServerRequests)('accepts %s %s with a configured key', async (method, path, body) => {
    // Act
    const res = await call(server.url, method, path, { body: body(), apiKey: KEY });

    // Assess
    expect([200, 202]).toContain(res.status);
  });

  it('accepts every configured key, and keeps /health open', async () => {
    // Act
    const second = await call(server.url, 'POST', '/predict', {
      body: { user_id: 'k-2', ad_id: 'ad-k' },
      apiKey: 'second-key-0123456789',
    });
    const health = await call(server.url, 'GET', '/health');

    // Assess
    expect(second.status).toBe(200);
    expect(health.status).toBe(200);
  });
});

describe('configuration', () => {
  it('refuses a non-loopback HOST without API keys, naming ADCLICK_API_KEYS', () => {
    // Act
    const attempt = () => parseLocalConfig({ HOST: '0.0.0.0', PORT: '0' });

    // Assess
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ADCLICK_API_KEYS/);
  });

  it('refuses fewer than 1000 bootstrap rows, naming ADCLICK_BOOTSTRAP_ROWS', () => {
    // Act
    const attempt = () => parseLocalConfig({ ADCLICK_BOOTSTRAP_ROWS: '999' });

    // Assess
    expect(attempt).toThrow(/ADCLICK_BOOTSTRAP_ROWS/);
  });

  it('keeps predictions 90 days by default and refuses a retention of 0 days, naming ADCLICK_PREDICTION_LOG_DAYS', () => {
    // Act
    const defaults = parseLocalConfig({});
    const attempt = () => parseLocalConfig({ ADCLICK_PREDICTION_LOG_DAYS: '0' });

    // Assess
    expect(defaults.ADCLICK_PREDICTION_LOG_DAYS).toBe(90);
    expect(attempt).toThrow(/ADCLICK_PREDICTION_LOG_DAYS/);
  });

  it('accepts a non-loopback HOST with API keys, and loopback hosts without', () => {
    // Act
    const withKeys = parseLocalConfig({ HOST: '0.0.0.0', ADCLICK_API_KEYS: 'abcdefghijklmnop0123' });
    const loopbacks = ['127.0.0.1', '::1', 'localhost'].map((HOST) => parseLocalConfig({ HOST }));

    // Assess
    expect(withKeys.ADCLICK_API_KEYS).toEqual(['abcdefghijklmnop0123']);
    expect(loopbacks.map((c) => c.HOST)).toEqual(['127.0.0.1', '::1', 'localhost']);
  });

  it('starts and predicts with the smallest ADCLICK_BOOTSTRAP_ROWS it accepts (1000)', async () => {
    // Prepare
    const small = await tempDir('small-bootstrap');
    let runtime: LocalRuntime | undefined;
    try {
      // Act
      runtime = await startInProcess(small.path, { ADCLICK_BOOTSTRAP_ROWS: '1000' });
      const res = await call(runtime.url, 'POST', '/predict', { body: { user_id: 'u', ad_id: 'a' } });

      // Assess
      expect(res.status).toBe(200);
      expect(res.json.model_version).toBe('bootstrap-sim-1-1000');
    } finally {
      await runtime?.close();
      await small.cleanup();
    }
  });
});
