import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrainingSet } from '../../lambdas/adapters/local/duckdb/training-set.js';
import type { DurableEventLog } from '../../lambdas/adapters/local/event-log/durable-event-log.js';
import { openDatabase } from '../../lambdas/adapters/local/sqlite/database.js';
import { SqliteErasureStore } from '../../lambdas/adapters/local/sqlite/erasure-store.js';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import {
  allFiles,
  call,
  type HttpResult,
  lakeTable,
  pollUntil,
  queryDuckDb,
  startInProcess,
  type TempDir,
  tempDir,
} from '../support/e2e-server.js';

const ERASED = 'erasure-user-erased';
const KEPT = 'erasure-user-kept';
const RESUMED = 'erasure-user-resumed';
const HOUR = 3_600_000;
/** Event time of the traffic: three whole hours back, so that its examples are labelled now. */
const BASE = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR + 60_000;
const at = (offsetMs: number) => new Date(BASE + offsetMs).toISOString();
const USER_TABLES = ['ad_impressions', 'clicks', 'model_predictions', 'suspicious_events'] as const;

/** Predictions, impressions and clicks of one user; one click comes too fast and is flagged as fraud. */
async function traffic(base: string, user: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = i * 60_000;
    const predicted = await call(base, 'POST', '/predict', {
      body: {
        user_id: user,
        ad_id: `ad-${i % 3}`,
        request_id: `${user}-req-${i}`,
        timestamp: at(t),
        features: { device_type: 'mobile', position: i % 4 },
      },
    });
    expect(predicted.status).toBe(200);
    const events = await call(base, 'POST', '/event/batch', {
      body: {
        events: [
          {
            type: 'impression',
            impression_id: `${user}-imp-${i}`,
            prediction_id: predicted.json.prediction_id,
            user_id: user,
            ad_id: `ad-${i % 3}`,
            ip: '198.51.100.7',
            timestamp: at(t + 1_000),
          },
          {
            type: 'click',
            click_id: `${user}-clk-${i}`,
            impression_id: `${user}-imp-${i}`,
            user_id: user,
            clicked: i % 2 === 0,
            // the first click comes 0.2 s after its impression: too fast, a suspicious_events row
            timestamp: at(t + (i === 0 ? 1_200 : 20_000)),
          },
        ],
      },
    });
    expect(events.status).toBe(200);
    expect(events.json.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'accepted']);
  }
}

async function countWhere(dataDir: string, table: string, where: string): Promise<number> {
  const rows = await queryDuckDb(
    `SELECT CAST(count(*) AS INTEGER) AS n FROM ${lakeTable(dataDir, table)} WHERE ${where}`,
  );
  return rows[0]?.n as number;
}

const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

function predictionLogCount(dataDir: string, userKey: string): number {
  const db = openDatabase(join(dataDir, 'adclick.sqlite'));
  try {
    return (db.prepare('SELECT count(*) AS n FROM predictions WHERE user_id = ?').get(userKey) as { n: number }).n;
  } finally {
    db.close();
  }
}

function waitForReceipt(base: string, token: string, erasureId: string): Promise<HttpResult> {
  return pollUntil(
    () => call(base, 'GET', `/erasures/${erasureId}`, { token }),
    (res) => res.status !== 200 || res.json.status === 'completed' || res.json.status === 'failed',
    `erasure ${erasureId}`,
  );
}

describe('DELETE /users/{user_id}: erasure everywhere, with a receipt', () => {
  let dir: TempDir;
  let runtime: LocalRuntime | undefined;
  let base: string;
  let token: string;
  let erasedKey: string;
  let keptKey: string;
  let accepted: HttpResult;
  let receipt: HttpResult;
  let before: Record<string, { erased: number; kept: number }>;
  let erasedPredictionIds: string[];

  beforeAll(async () => {
    // Prepare: traffic of two users, in the lake (events compacted, predictions exported) and in
    // the training set built from it, then one more acknowledged impression of the user to erase
    // that is still in the event log (in flight) when the DELETE arrives.
    dir = await tempDir('erasure');
    runtime = await startInProcess(dir.path);
    base = runtime.url;
    token = runtime.adminToken;
    erasedKey = runtime.app.deps.pseudonymiser.pseudonymise('user', ERASED);
    keptKey = runtime.app.deps.pseudonymiser.pseudonymise('user', KEPT);
    await traffic(base, ERASED, 6);
    await traffic(base, KEPT, 6);
    await (runtime.app.deps.events as DurableEventLog).compact();
    await pollUntil(
      async () => ({
        // no file yet is no row yet
        status: await countWhere(
          dir.path,
          'model_predictions',
          `user_id IN (${sqlText(erasedKey)}, ${sqlText(keptKey)})`,
        ).catch(() => 0),
        headers: new Headers(),
        text: '',
        json: undefined,
      }),
      (res) => res.status === 12,
      'the prediction export into the lake',
    );
    await buildTrainingSet({
      lakeDir: join(dir.path, 'lake'),
      from: new Date(BASE - 60_000),
      to: new Date(BASE - 60_000 + 2 * HOUR),
      csvPath: join(dir.path, 'train', 'train.csv'),
      threads: 1,
    });
    erasedPredictionIds = (
      await queryDuckDb(
        `SELECT prediction_id FROM ${lakeTable(dir.path, 'model_predictions')} WHERE user_id = ${sqlText(erasedKey)}`,
      )
    ).map((r) => r.prediction_id as string);
    before = {};
    for (const table of USER_TABLES) {
      before[table] = {
        erased: await countWhere(dir.path, table, `user_id = ${sqlText(erasedKey)}`),
        kept: await countWhere(dir.path, table, `user_id = ${sqlText(keptKey)}`),
      };
    }
    before.training_examples = {
      erased: await countWhere(
        dir.path,
        'training_examples',
        `prediction_id IN (${erasedPredictionIds.map(sqlText).join(', ')})`,
      ),
      kept: await countWhere(
        dir.path,
        'training_examples',
        `prediction_id NOT IN (${erasedPredictionIds.map(sqlText).join(', ')})`,
      ),
    };
    const inFlight = await call(base, 'POST', '/event/impression', {
      body: { impression_id: 'erasure-in-flight', user_id: ERASED, ad_id: 'ad-0', timestamp: at(30 * 60_000) },
    });
    expect(inFlight.status).toBe(202);

    // Act
    accepted = await call(base, 'DELETE', `/users/${ERASED}`, { token });
    receipt = await waitForReceipt(base, token, accepted.json?.erasure_id);
  }, 240_000);

  afterAll(async () => {
    await runtime?.close();
    await dir?.cleanup();
  });

  it('had both users in every lake table before the erasure', () => {
    // Assess
    for (const [table, counts] of Object.entries(before)) {
      expect(counts.erased, table).toBeGreaterThan(0);
      expect(counts.kept, table).toBeGreaterThan(0);
    }
  });

  it('answers 202 with an erasure id and where its receipt is', () => {
    // Assess
    expect(accepted.status).toBe(202);
    expect(accepted.json.erasure_id).toMatch(/^er/);
    expect(accepted.json.receipt).toBe(`/erasures/${accepted.json.erasure_id}`);
    expect(accepted.headers.get('location')).toBe(accepted.json.receipt);
  });

  it('completes with a receipt of what each store removed', () => {
    // Assess
    expect(receipt.status).toBe(200);
    expect(receipt.json).toMatchObject({ erasure_id: accepted.json.erasure_id, status: 'completed', error: null });
    const stores = Object.fromEntries(
      (receipt.json.stores as { store: string; removed: Record<string, number> }[]).map((s) => [s.store, s.removed]),
    );
    expect(Object.keys(stores)).toEqual([
      'event_log',
      'prediction_log',
      'feature_store',
      'lake',
      'holdout',
      'experiment_assignments',
    ]);
    expect(stores.prediction_log).toEqual({ predictions: 6 });
    expect(stores.feature_store?.user_counters).toBe(1);
    expect(stores.lake).toMatchObject({
      ad_impressions: before.ad_impressions!.erased + 1,
      clicks: before.clicks!.erased,
      model_predictions: before.model_predictions!.erased,
      suspicious_events: before.suspicious_events!.erased,
      training_examples: before.training_examples!.erased,
    });
    expect(stores.holdout).toEqual({ rows: 0 });
    expect(receipt.json.data_span).not.toBeNull();
    expect(JSON.stringify(receipt.json)).not.toContain(erasedKey);
  });

  it("leaves zero rows of the user's pseudonym in any lake table, and the other user's rows", async () => {
    // Act
    const after: Record<string, { erased: number; kept: number }> = {};
    for (const table of USER_TABLES) {
      after[table] = {
        erased: await countWhere(dir.path, table, `user_id = ${sqlText(erasedKey)}`),
        kept: await countWhere(dir.path, table, `user_id = ${sqlText(keptKey)}`),
      };
    }
    const ids = erasedPredictionIds.map(sqlText).join(', ');
    after.training_examples = {
      erased: await countWhere(dir.path, 'training_examples', `prediction_id IN (${ids})`),
      kept: await countWhere(dir.path, 'training_examples', `prediction_id NOT IN (${ids})`),
    };
    const anyColumn = await countWhere(dir.path, 'ad_impressions', `impression_id = 'erasure-in-flight'`);

    // Assess
    for (const [table, counts] of Object.entries(after)) {
      expect(counts.erased, table).toBe(0);
      expect(counts.kept, table).toBe(before[table]!.kept);
    }
    expect(anyColumn).toBe(0);
  });

  it('leaves none of their predictions in the prediction log, and the other user its own', () => {
    // Assess
    expect(predictionLogCount(dir.path, erasedKey)).toBe(0);
    expect(predictionLogCount(dir.path, keptKey)).toBe(6);
  });

  it('leaves no counters of the user in the feature store', async () => {
    // Act
    const erased = await runtime!.app.deps.features.get(erasedKey, []);
    const kept = await runtime!.app.deps.features.get(keptKey, []);

    // Assess
    expect(erased.user.user_impressions).toBe(0);
    expect(kept.user.user_impressions).toBeGreaterThan(0);
  });

  it('leaves the pseudonym in no byte of any file of the data dir', async () => {
    // Prepare
    const files = await allFiles(dir.path);

    // Act
    const hits: string[] = [];
    let keptFound = false;
    for (const file of files) {
      const bytes = await readFile(file);
      keptFound ||= bytes.includes(Buffer.from(keptKey));
      if (bytes.includes(Buffer.from(erasedKey))) hits.push(file.slice(dir.path.length));
    }

    // Assess: the same scan finds the other user's pseudonym (a control)
    expect(files.some((f) => f.endsWith('train.csv'))).toBe(true);
    expect(keptFound).toBe(true);
    expect(hits).toEqual([]);
  });

  it('flags the models registered before the erasure for retraining', async () => {
    // Act
    const models = await call(base, 'GET', '/models', { token });

    // Assess
    expect(models.status).toBe(200);
    const champion = models.json.models.find((m: { status: string }) => m.status === 'champion');
    expect(receipt.json.models_flagged).toContain(champion.model_id);
    expect(champion.retrain_required_by_erasure).toMatchObject({
      erasures: 1,
      erasure_ids: [accepted.json.erasure_id],
    });
  });

  it('answers an unknown erasure with a 404 problem', async () => {
    // Act
    const res = await call(base, 'GET', '/erasures/er-unknown', { token });

    // Assess
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses a wrong token (401) and an invalid user id (400), as problems', async () => {
    // Act
    const wrong = await call(base, 'DELETE', `/users/${KEPT}`, { token: `${token}x` });
    const none = await call(base, 'GET', `/erasures/${accepted.json.erasure_id}`);
    const invalid = await call(base, 'DELETE', `/users/${'u'.repeat(129)}`, { token });

    // Assess
    for (const [res, status] of [
      [wrong, 401],
      [none, 401],
      [invalid, 400],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(invalid.json.errors[0].path).toContain('user_id');
    expect(predictionLogCount(dir.path, keptKey)).toBe(6);
  });

  it('resumes an erasure left pending by a stop at the next start', async () => {
    // Prepare: traffic of a third user, then a receipt left pending (as by a crash after the 202)
    await traffic(base, RESUMED, 2);
    const resumedKey = runtime!.app.deps.pseudonymiser.pseudonymise('user', RESUMED);
    await runtime!.close();
    runtime = undefined;
    const db = openDatabase(join(dir.path, 'adclick.sqlite'));
    await new SqliteErasureStore(db).create({
      receipt: {
        erasure_id: 'er-left-pending',
        status: 'pending',
        requested_at: new Date().toISOString(),
        started_at: null,
        completed_at: null,
        stores: [],
        data_span: null,
        models_flagged: [],
        error: null,
      },
      userKey: resumedKey,
    });
    db.close();

    // Act
    runtime = await startInProcess(dir.path);
    const resumed = await waitForReceipt(runtime.url, runtime.adminToken, 'er-left-pending');

    // Assess
    expect(resumed.json.status).toBe('completed');
    expect(resumed.json.stores.find((s: { store: string }) => s.store === 'prediction_log').removed).toEqual({
      predictions: 2,
    });
    expect(predictionLogCount(dir.path, resumedKey)).toBe(0);
    expect(await countWhere(dir.path, 'ad_impressions', `user_id = ${sqlText(resumedKey)}`)).toBe(0);
    expect(predictionLogCount(dir.path, keptKey)).toBe(6);
  }, 120_000);
});
