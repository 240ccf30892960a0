/**
 * The local lake's retention: partitions older than their table's retention (LAKE_TABLES) are
 * deleted, by event time; the rest stay, and a query sees only what is kept.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { writeLakeParquetFile } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { expireLakePartitions } from '../../../lambdas/adapters/local/lake/retention.js';

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-12-01T12:30:00Z');

const click = (id: string, at: Date) => ({
  click_id: id,
  impression_id: `i-${id}`,
  clicked: true,
  timestamp: at,
  received_at: at,
});

describe('expireLakePartitions', () => {
  let root: string;
  let lakeDir: string;
  let db: LakeDatabase;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lake-retention-'));
    lakeDir = join(root, 'lake');
    db = await LakeDatabase.open({ lakeDir });
  });
  afterEach(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  async function writeClick(id: string, at: Date): Promise<string> {
    const dir = partitionDir(lakeDir, 'clicks', at);
    await mkdir(dir, { recursive: true });
    await writeLakeParquetFile(join(dir, `${id}.parquet`), 'clicks', [click(id, at)]);
    return dir;
  }

  it("deletes the partitions whose hour ended more than the table's 400 days ago, and keeps the rest", async () => {
    // Prepare: the 400-day cutoff is 2025-10-27T12:30Z
    const expired = await writeClick('old', new Date('2025-10-27T11:10:00Z'));
    const straddling = await writeClick('edge', new Date('2025-10-27T12:10:00Z'));
    await writeClick('recent', new Date(NOW - DAY_MS));

    // Act
    const result = await expireLakePartitions(lakeDir, db, NOW);

    // Assess
    expect(result.expired).toEqual({ clicks: 1 });
    await expect(readdir(expired)).rejects.toThrow(/ENOENT/);
    expect(await readdir(straddling)).toEqual(['edge.parquet']);
    const kept = await db.query('SELECT click_id FROM clicks ORDER BY 1');
    expect(kept.map((r) => r.click_id)).toEqual(['edge', 'recent']);
  });

  it('removes a day directory with its last expired hour', async () => {
    // Prepare
    await writeClick('a', new Date('2025-06-01T03:00:00Z'));
    await writeClick('b', new Date('2025-06-01T17:00:00Z'));
    await db.query('SELECT count(*) FROM clicks');

    // Act
    const result = await expireLakePartitions(lakeDir, db, NOW);

    // Assess
    expect(result.expired).toEqual({ clicks: 2 });
    expect(await readdir(join(lakeDir, 'clicks'))).toEqual([]);
    expect(await db.query('SELECT count(*) AS n FROM clicks')).toEqual([{ n: 0 }]);
  });

  it('changes nothing on a lake within its retention', async () => {
    // Prepare
    const dir = await writeClick('fresh', new Date(NOW - 399 * DAY_MS));

    // Act
    const result = await expireLakePartitions(lakeDir, db, NOW);

    // Assess
    expect(result.expired).toEqual({});
    expect(await readdir(dir)).toEqual(['fresh.parquet']);
  });
});
