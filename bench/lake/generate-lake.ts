/**
 * A synthetic lake at benchmark scale (10 M impressions and up), written by DuckDB straight
 * into the lake's layout: `<lakeDir>/<table>/dt=YYYY-MM-DD/hour=HH/*.parquet`, with the columns
 * and types of lambdas/core/lake/tables.ts, so the analytics and training-set benchmarks read
 * what the server would have compacted.
 *
 * What it holds, deterministically from the seed (every random draw is a hash of the row
 * number and the seed, so the lake does not depend on DuckDB's thread scheduling):
 * - model_predictions: one per impression plus 5 % of predictions never shown, with a feature
 *   snapshot and a probability close to the (hidden) true one;
 * - ad_impressions: spread evenly over `days` days, Zipf-like ad popularity, a site in features;
 * - clicks: drawn with the true probability, 5 s to 50 min after the impression, 3 % of them
 *   later than the one-hour attribution window;
 * - replays: 0.5 % of impressions and of clicks written a second time in another file of the
 *   same partition (at-least-once delivery), which every query must count once;
 * - suspicious_events: 1 % of clicks flagged.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export interface LakeOptions {
  readonly lakeDir: string;
  readonly impressions: number;
  readonly seed?: number;
  /** First event time (default 2026-11-01T00:00:00Z). */
  readonly start?: Date;
  /** Days the impressions are spread over (default 7). */
  readonly days?: number;
  /** Ads in the catalogue (default 2 000). */
  readonly ads?: number;
  /** Users (default impressions / 20). */
  readonly users?: number;
  /** DuckDB threads used to write (default 2). */
  readonly threads?: number;
}

export interface LakeSummary {
  readonly from: Date;
  readonly to: Date;
  /** Distinct impressions (replays not counted). */
  readonly impressions: number;
  /** Distinct clicks with clicked = true (replays not counted). */
  readonly clicks: number;
  readonly predictions: number;
  readonly flagged: number;
}

const DAY_MS = 86_400_000;

const sqlTime = (d: Date) => `TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')}'`;

export async function generateLake(options: LakeOptions): Promise<LakeSummary> {
  const n = Math.floor(options.impressions);
  if (!(n > 0)) throw new Error('impressions must be a positive number');
  const seed = Math.floor(options.seed ?? 1);
  const start = options.start ?? new Date('2026-11-01T00:00:00Z');
  const days = options.days ?? 7;
  const ads = options.ads ?? 2_000;
  const users = options.users ?? Math.max(1, Math.floor(n / 20));
  const spanMicros = days * DAY_MS * 1000;
  const to = new Date(start.getTime() + days * DAY_MS);
  mkdirSync(options.lakeDir, { recursive: true });

  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? 2),
    memory_limit: '1GB',
    preserve_insertion_order: 'false',
  });
  const c = await instance.connect();
  // u(k): a uniform draw in [0, 1) for row i and stream k, from a hash of (i, k, seed).
  await c.run(`CREATE MACRO u(i, k) AS (hash(i, k, ${seed}) % 1000000007) / 1000000007.0`);
  await c.run(`
    CREATE TABLE base AS
    SELECT
      i,
      ${sqlTime(start)} + to_microseconds(CAST(floor(i * ${spanMicros} / ${n}) AS BIGINT)) AS ts,
      'u' || CAST(floor(u(i, 1) * ${users}) AS BIGINT) AS user_id,
      -- Zipf-like popularity: a few ads take most of the traffic.
      'ad' || CAST(floor(pow(u(i, 2), 3) * ${ads}) AS BIGINT) AS ad_id,
      CAST(floor(pow(u(i, 2), 3) * ${ads}) AS BIGINT) AS ad_rank,
      ['mobile', 'desktop', 'tablet'][1 + CAST(floor(u(i, 3) * 3) AS INTEGER)] AS device_type,
      ['US-CA', 'US-NY', 'GB', 'DE', 'FR', 'IN', 'JP', 'BR'][1 + CAST(floor(u(i, 4) * 8) AS INTEGER)] AS location,
      's' || CAST(floor(pow(u(i, 5), 2) * 200) AS BIGINT) AS site_id,
      1 + CAST(floor(u(i, 6) * 5) AS INTEGER) AS position,
      u(i, 7) AS click_draw,
      u(i, 8) AS delay_draw,
      u(i, 9) AS replay_draw,
      u(i, 10) AS flag_draw,
      u(i, 11) AS noise
    FROM range(${n}) t(i)`);
  // True probability around 2 %: better ads and top positions click more.
  await c.run(`
    CREATE TABLE events AS
    SELECT *,
      1 / (1 + exp(-(-4.0 + 0.6 * sin(ad_rank) - 0.25 * (position - 1) + (CASE device_type WHEN 'mobile' THEN 0.15 ELSE 0 END)))) AS p_true
    FROM base`);
  await c.run('DROP TABLE base');

  const copy = async (table: string, select: string, pattern: string) => {
    await c.run(
      `COPY (${select}) TO '${join(options.lakeDir, table).replaceAll("'", "''")}'
       (FORMAT parquet, PARTITION_BY (dt, hour), FILENAME_PATTERN '${pattern}_{i}', OVERWRITE_OR_IGNORE true)`,
    );
  };
  const partitionCols = (ts: string) => `strftime(${ts}, '%Y-%m-%d') AS dt, strftime(${ts}, '%H') AS hour`;
  const features = `json_object('device_type', device_type, 'location', location, 'site_id', site_id, 'position', position, 'ad_id', ad_id)::VARCHAR`;

  await copy(
    'model_predictions',
    `SELECT 'p' || i AS prediction_id, NULL::VARCHAR AS request_id, user_id, ad_id,
       least(0.999, greatest(0.001, p_true * (0.8 + 0.4 * noise))) AS probability,
       'v1' AS model_version, 'm1' AS model_id, 'champion' AS variant, NULL::VARCHAR AS experiment_id,
       false AS fallback, true AS consent, ${features} AS features,
       ts - INTERVAL 50 MILLISECOND AS timestamp, NULL::DOUBLE AS exploration_bonus,
       -- Served predictions carry their model call's time: the models query takes its percentiles.
       round(0.4 + 1.6 * noise, 3)::DOUBLE AS model_latency_ms,
       ${partitionCols('ts - INTERVAL 50 MILLISECOND')}
     FROM events
     UNION ALL
     SELECT 'p' || i || 'x', NULL, user_id, ad_id, p_true, 'v1', 'm1', 'champion', NULL, false, true, ${features},
       ts - INTERVAL 80 MILLISECOND, NULL, round(0.4 + 1.6 * noise, 3)::DOUBLE, ${partitionCols('ts - INTERVAL 80 MILLISECOND')}
     FROM events WHERE noise < 0.05`,
    'main',
  );
  const impressionSelect = `SELECT 'i' || i AS impression_id, 'p' || i AS prediction_id, user_id, ad_id, ts AS timestamp,
       device_type, location, NULL::VARCHAR AS ip, json_object('site_id', site_id, 'position', position)::VARCHAR AS features,
       ts + INTERVAL 20 MILLISECOND AS received_at, ${partitionCols('ts')}
     FROM events`;
  await copy('ad_impressions', impressionSelect, 'main');
  await copy('ad_impressions', `${impressionSelect} WHERE replay_draw < 0.005`, 'replay');

  // 3 % of clicks come after the attribution window (61 to 120 minutes); the rest within 5 s to 50 min.
  const clickTs = `ts + to_microseconds(CAST(CASE WHEN delay_draw < 0.03 THEN 3660e6 + delay_draw / 0.03 * 3540e6 ELSE 5e6 + (delay_draw - 0.03) / 0.97 * 2995e6 END AS BIGINT))`;
  const clickSelect = `SELECT 'c' || i AS click_id, 'i' || i AS impression_id, user_id, NULL::VARCHAR AS ip, true AS clicked,
       ${clickTs} AS timestamp, ${clickTs} + INTERVAL 20 MILLISECOND AS received_at, ${partitionCols(clickTs)}
     FROM events WHERE click_draw < p_true`;
  await copy('clicks', clickSelect, 'main');
  await copy('clicks', `${clickSelect} AND replay_draw < 0.005`, 'replay');

  await copy(
    'suspicious_events',
    `SELECT 'c' || i AS event_id, 'click' AS event_type, 'ip_burst' AS rule, 5.0::DOUBLE AS score, user_id, NULL::VARCHAR AS ip,
       site_id, NULL::VARCHAR AS detail, ${clickTs} AS timestamp, ${partitionCols(clickTs)}
     FROM events WHERE click_draw < p_true AND flag_draw < 0.01`,
    'main',
  );

  const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0]![0]);
  const summary: LakeSummary = {
    from: start,
    to,
    impressions: n,
    clicks: await count('SELECT count(*) FROM events WHERE click_draw < p_true'),
    predictions: n + (await count('SELECT count(*) FROM events WHERE noise < 0.05')),
    flagged: await count('SELECT count(*) FROM events WHERE click_draw < p_true AND flag_draw < 0.01'),
  };
  c.closeSync();
  instance.closeSync();
  return summary;
}
