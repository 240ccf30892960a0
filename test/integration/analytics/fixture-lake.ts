/**
 * A small lake whose every analytics figure is computed by hand in the tests (the expected values
 * sit next to each assertion, derived from the comments below). The query range is
 * [10:00, 13:00) on 2026-11-02 (UTC); the attribution window is one hour.
 *
 * Impressions (user, ad, time, device, location, site, prediction):
 * - i0  u1 ad-A 09:59:59.999 — just before the range.
 * - i1  u1 ad-A 10:00:00 mobile  US  s1 p1 (v1 champion 0.1); delivered 3 times. Click c1 at
 *       10:05 (delivered twice): counts.
 * - i2  u2 ad-A 10:10:00 desktop GB  s2 p2 (v1 champion 0.2). Click c10 at 10:15 is flagged
 *       (click_too_fast, site sX named by the flag); click c2 at 11:20 is 70 min late: no click.
 * - i3  u1 ad-B 10:20:00 mobile  US  s1 p3 (v2 exp-1:1 0.3). c3 at 10:21 is an explicit non-click.
 * - i4  u3 ad-B 10:30:00 mobile  —   s3 p4 (v2 exp-1:1 0.4). c4 at 10:31 is flagged (click_too_fast,
 *       no site on the flag: s3 through its impression; the flag is delivered twice).
 * - i5  u2 ad-A 10:40:00 desktop GB  s2 p5 (v1 champion 0.05), flagged (site_ctr_outlier, no site:
 *       s2 from its features); its click c5 at 10:45 does not matter: the impression is left out.
 * - i6  u3 ad-A 11:15:00 mobile  —   s3 p6 (v1 champion 0.5). c6 at 12:15:00, exactly one window
 *       later, in the next hour's partition: counts.
 * - i7  u4 ad-B 11:30:00 desktop DE  —  no prediction. c7 at 11:31: counts.
 * - i8  u1 ad-A 11:50:00 mobile  US  s1 names p-missing, which was never logged. c8 at 11:49 came
 *       before it: no click.
 * - m0..m9  u5 ad-B 12:00..12:09 (one a minute) tablet FR, no prediction. c-m0 at 12:00:30: counts.
 * - h0..h99 u6 ad-A 12:10:00 + 10 s each, desktop DE, no prediction, no click.
 * - i9  u1 ad-A 13:00:00 — at the range's end (exclusive).
 *
 * Predictions p1..p6 are logged 1 s before their impressions; p1 is delivered twice. p7 (v1 11:40,
 * a fallback) and p8 (v2 12:30, a cached score: no latency) were never shown. Serving figures
 * (model latency in ms, fallback, exploration bonus), over the predictions made in the range:
 * - v1: p1 2 ms (09:59:59, before the range: not counted), p2 4, p5 6 (bonus 1.0), p6 8 (bonus
 *   0.25), p7 12 (fallback).
 * - v2: p3 10 (bonus 0.5), p4 30 (fallback), p8 none.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type LakeRecord, writeLakeParquetFile } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { LAKE_TABLES, type LakeTableName } from '../../../lambdas/core/lake/tables.js';

export const RANGE = { from: new Date('2026-11-02T10:00:00Z'), to: new Date('2026-11-02T13:00:00Z') };

const at = (hms: string) => new Date(`2026-11-02T${hms}Z`);
const plusMs = (d: Date, ms: number) => new Date(d.getTime() + ms);

interface Shown {
  readonly id: string;
  readonly user: string;
  readonly ad: string;
  readonly time: Date;
  readonly device?: string;
  readonly location?: string;
  readonly site?: string;
  readonly prediction?: string;
}

export function impression(s: Shown, receivedAfterMs = 100): LakeRecord {
  return {
    impression_id: s.id,
    prediction_id: s.prediction ?? null,
    user_id: s.user,
    ad_id: s.ad,
    timestamp: s.time,
    device_type: s.device ?? null,
    location: s.location ?? null,
    ip: null,
    features: s.site === undefined ? null : JSON.stringify({ site_id: s.site, position: 1 }),
    received_at: plusMs(s.time, receivedAfterMs),
  };
}

export function click(id: string, impressionId: string, time: Date, clicked = true, receivedAfterMs = 100): LakeRecord {
  return {
    click_id: id,
    impression_id: impressionId,
    user_id: null,
    ip: null,
    clicked,
    timestamp: time,
    received_at: plusMs(time, receivedAfterMs),
  };
}

export function prediction(
  id: string,
  probability: number,
  time: Date,
  model: { version: string; variant: string; experiment?: string },
  serving: { latencyMs?: number; fallback?: boolean; bonus?: number } = {},
): LakeRecord {
  return {
    prediction_id: id,
    request_id: null,
    user_id: null,
    ad_id: 'ad',
    probability,
    model_version: model.version,
    model_id: `m-${model.version}`,
    variant: model.variant,
    experiment_id: model.experiment ?? null,
    fallback: serving.fallback ?? false,
    consent: true,
    features: '{}',
    timestamp: time,
    exploration_bonus: serving.bonus ?? null,
    model_latency_ms: serving.latencyMs ?? null,
  };
}

export function flag(
  eventType: 'impression' | 'click',
  eventId: string,
  rule: string,
  score: number,
  time: Date,
  siteId: string | null = null,
): LakeRecord {
  return {
    event_id: eventId,
    event_type: eventType,
    rule,
    score,
    user_id: null,
    ip: null,
    site_id: siteId,
    detail: null,
    timestamp: time,
  };
}

/** Writes rows into their partitions (by event time), one file per partition named `file`. */
export async function writeRows(
  lakeDir: string,
  table: LakeTableName,
  rows: readonly LakeRecord[],
  file = 'part-0.parquet',
): Promise<void> {
  const timeColumn = LAKE_TABLES[table].eventTimeColumn;
  const byDir = new Map<string, LakeRecord[]>();
  for (const row of rows) {
    const dir = partitionDir(lakeDir, table, row[timeColumn] as Date);
    byDir.set(dir, [...(byDir.get(dir) ?? []), row]);
  }
  for (const [dir, partition] of byDir) {
    await mkdir(dir, { recursive: true });
    await writeLakeParquetFile(join(dir, file), table, partition);
  }
}

const V1 = { version: 'v1', variant: 'champion' };
const V2 = { version: 'v2', variant: 'exp-1:1', experiment: 'exp-1' };

/** The predictions' known probabilities and outcomes, for the metrics checks. */
export const PREDICTED = {
  v1: { probabilities: [0.1, 0.2, 0.5], labels: [1, 0, 1] },
  v2: { probabilities: [0.3, 0.4], labels: [0, 0] },
};

export async function writeFixtureLake(lakeDir: string): Promise<void> {
  const shown: Shown[] = [
    { id: 'i0', user: 'u1', ad: 'ad-A', time: at('09:59:59.999'), device: 'mobile', location: 'US', site: 's1' },
    {
      id: 'i1',
      user: 'u1',
      ad: 'ad-A',
      time: at('10:00:00'),
      device: 'mobile',
      location: 'US',
      site: 's1',
      prediction: 'p1',
    },
    {
      id: 'i2',
      user: 'u2',
      ad: 'ad-A',
      time: at('10:10:00'),
      device: 'desktop',
      location: 'GB',
      site: 's2',
      prediction: 'p2',
    },
    {
      id: 'i3',
      user: 'u1',
      ad: 'ad-B',
      time: at('10:20:00'),
      device: 'mobile',
      location: 'US',
      site: 's1',
      prediction: 'p3',
    },
    { id: 'i4', user: 'u3', ad: 'ad-B', time: at('10:30:00'), device: 'mobile', site: 's3', prediction: 'p4' },
    {
      id: 'i5',
      user: 'u2',
      ad: 'ad-A',
      time: at('10:40:00'),
      device: 'desktop',
      location: 'GB',
      site: 's2',
      prediction: 'p5',
    },
    { id: 'i6', user: 'u3', ad: 'ad-A', time: at('11:15:00'), device: 'mobile', site: 's3', prediction: 'p6' },
    { id: 'i7', user: 'u4', ad: 'ad-B', time: at('11:30:00'), device: 'desktop', location: 'DE' },
    {
      id: 'i8',
      user: 'u1',
      ad: 'ad-A',
      time: at('11:50:00'),
      device: 'mobile',
      location: 'US',
      site: 's1',
      prediction: 'p-missing',
    },
    { id: 'i9', user: 'u1', ad: 'ad-A', time: at('13:00:00'), device: 'mobile', location: 'US', site: 's1' },
  ];
  for (let k = 0; k < 10; k++) {
    shown.push({
      id: `m${k}`,
      user: 'u5',
      ad: 'ad-B',
      time: plusMs(at('12:00:00'), k * 60_000),
      device: 'tablet',
      location: 'FR',
    });
  }
  for (let k = 0; k < 100; k++) {
    shown.push({
      id: `h${k}`,
      user: 'u6',
      ad: 'ad-A',
      time: plusMs(at('12:10:00'), k * 10_000),
      device: 'desktop',
      location: 'DE',
    });
  }
  const i1 = shown[1]!;
  await writeRows(
    lakeDir,
    'ad_impressions',
    shown.map((s) => impression(s)),
  );
  // At-least-once delivery: i1 arrives twice more, in another file of its partition.
  await writeRows(lakeDir, 'ad_impressions', [impression(i1, 5_000), impression(i1, 9_000)], 'replay.parquet');

  const clicks = [
    click('c1', 'i1', at('10:05:00')),
    click('c10', 'i2', at('10:15:00')),
    click('c2', 'i2', at('11:20:00')),
    click('c3', 'i3', at('10:21:00'), false),
    click('c4', 'i4', at('10:31:00')),
    click('c5', 'i5', at('10:45:00')),
    click('c6', 'i6', at('12:15:00')),
    click('c7', 'i7', at('11:31:00')),
    click('c8', 'i8', at('11:49:00')),
    click('c-m0', 'm0', at('12:00:30')),
  ];
  await writeRows(lakeDir, 'clicks', clicks);
  await writeRows(lakeDir, 'clicks', [click('c1', 'i1', at('10:05:00'), true, 7_000)], 'replay.parquet');

  const predictions = [
    prediction('p1', 0.1, at('09:59:59'), V1, { latencyMs: 2 }),
    prediction('p2', 0.2, at('10:09:59'), V1, { latencyMs: 4 }),
    prediction('p3', 0.3, at('10:19:59'), V2, { latencyMs: 10, bonus: 0.5 }),
    prediction('p4', 0.4, at('10:29:59'), V2, { latencyMs: 30, fallback: true }),
    prediction('p5', 0.05, at('10:39:59'), V1, { latencyMs: 6, bonus: 1 }),
    prediction('p6', 0.5, at('11:14:59'), V1, { latencyMs: 8, bonus: 0.25 }),
    prediction('p7', 0.02, at('11:40:00'), V1, { latencyMs: 12, fallback: true }),
    prediction('p8', 0.03, at('12:30:00'), V2),
  ];
  await writeRows(lakeDir, 'model_predictions', predictions);
  await writeRows(lakeDir, 'model_predictions', [predictions[0]!], 'replay.parquet');

  const flags = [
    flag('click', 'c10', 'click_too_fast', 0.8, at('10:15:00'), 'sX'),
    flag('click', 'c4', 'click_too_fast', 0.9, at('10:31:00')),
    flag('impression', 'i5', 'site_ctr_outlier', 0.7, at('10:40:00')),
  ];
  await writeRows(lakeDir, 'suspicious_events', flags);
  await writeRows(lakeDir, 'suspicious_events', [flags[1]!], 'replay.parquet');
}
