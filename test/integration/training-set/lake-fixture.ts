/**
 * Hand-built lakes for the training-set tests: rows of each table written as the server writes
 * them (writeLakeParquetFile, one file per partition of the event time).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type LakeRecord, writeLakeParquetFile } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { LAKE_TABLES, type LakeTableName } from '../../../lambdas/core/lake/tables.js';

export const at = (iso: string) => new Date(iso);
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);

export function prediction(
  id: string,
  time: Date,
  features: Record<string, unknown> = { ad_id: 'ad-1', site_id: 's-1', position: 1 },
): LakeRecord {
  return {
    prediction_id: id,
    request_id: null,
    user_id: 'u-1',
    ad_id: (features.ad_id as string | undefined) ?? 'ad-1',
    probability: 0.02,
    model_version: 'v1',
    model_id: 'm-1',
    variant: 'champion',
    experiment_id: null,
    fallback: false,
    consent: true,
    features: JSON.stringify(features),
    timestamp: time,
  };
}

export function impression(id: string, predictionId: string | null, time: Date): LakeRecord {
  return {
    impression_id: id,
    prediction_id: predictionId,
    user_id: 'u-1',
    ad_id: 'ad-1',
    timestamp: time,
    device_type: 'mobile',
    location: null,
    ip: null,
    features: null,
    received_at: plus(time, 20),
  };
}

export function click(id: string, impressionId: string, time: Date, clicked = true): LakeRecord {
  return {
    click_id: id,
    impression_id: impressionId,
    user_id: 'u-1',
    ip: null,
    clicked,
    timestamp: time,
    received_at: plus(time, 20),
  };
}

export function flag(eventId: string, eventType: 'impression' | 'click', time: Date): LakeRecord {
  return {
    event_id: eventId,
    event_type: eventType,
    rule: 'test_rule',
    score: 1,
    user_id: null,
    ip: null,
    site_id: null,
    detail: null,
    timestamp: time,
  };
}

/** Writes the rows into their partitions, one file (named `file`) per partition. */
export async function writeTable(
  lakeDir: string,
  table: LakeTableName,
  rows: readonly LakeRecord[],
  file = 'a.parquet',
): Promise<void> {
  const byDir = new Map<string, LakeRecord[]>();
  const timeColumn = LAKE_TABLES[table].eventTimeColumn;
  for (const row of rows) {
    const dir = partitionDir(lakeDir, table, row[timeColumn] as Date);
    const list = byDir.get(dir) ?? [];
    list.push(row);
    byDir.set(dir, list);
  }
  for (const [dir, list] of byDir) {
    await mkdir(dir, { recursive: true });
    await writeLakeParquetFile(join(dir, file), table, list);
  }
}

export interface LakeRows {
  readonly predictions?: readonly LakeRecord[];
  readonly impressions?: readonly LakeRecord[];
  readonly clicks?: readonly LakeRecord[];
  readonly flags?: readonly LakeRecord[];
}

export async function writeLake(lakeDir: string, rows: LakeRows, file = 'a.parquet'): Promise<void> {
  await writeTable(lakeDir, 'model_predictions', rows.predictions ?? [], file);
  await writeTable(lakeDir, 'ad_impressions', rows.impressions ?? [], file);
  await writeTable(lakeDir, 'clicks', rows.clicks ?? [], file);
  await writeTable(lakeDir, 'suspicious_events', rows.flags ?? [], file);
}
