/**
 * The local lake's erasure rewrite (DuckDbLakeEraser) over real Parquet files, read back through
 * LakeDatabase as the analytics routes read them.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { DuckDbLakeEraser } from '../../../lambdas/adapters/local/duckdb/lake-eraser.js';
import { writeLakeParquetFile } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { impressionRow } from '../../support/lake-rows.js';

const AT = new Date('2026-12-01T10:15:00Z');
const impression = (id: string, user: string) => impressionRow(id, AT, { user_id: user });

describe('DuckDbLakeEraser', () => {
  let root: string;
  let db: LakeDatabase;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lake-eraser-'));
    db = await LakeDatabase.open({ lakeDir: join(root, 'lake') });
  });
  afterEach(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  it("leaves the other users' rows and the table readable when the user's were all of a table", async () => {
    // Prepare: impressions of two users in one file; the erased user's only in another
    const dir = partitionDir(join(root, 'lake'), 'ad_impressions', AT);
    await mkdir(dir, { recursive: true });
    await writeLakeParquetFile(join(dir, 'a.parquet'), 'ad_impressions', [
      impression('i1', 'u_gone'),
      impression('i2', 'u_kept'),
    ]);
    const clicksDir = partitionDir(join(root, 'lake'), 'clicks', AT);
    await mkdir(clicksDir, { recursive: true });
    await writeLakeParquetFile(join(clicksDir, 'c.parquet'), 'clicks', [
      { click_id: 'c1', impression_id: 'i1', clicked: true, timestamp: AT, received_at: AT, user_id: 'u_gone' },
    ]);
    expect(await db.query('SELECT count(*) AS n FROM clicks')).toEqual([{ n: 1 }]);

    // Act
    const receipt = await new DuckDbLakeEraser(db).erase({ erasureId: 'e1', userKey: 'u_gone', requestedAt: AT });

    // Assess
    expect(receipt.removed).toMatchObject({ ad_impressions: 1, clicks: 1, files_rewritten: 1, files_deleted: 1 });
    expect(await db.query('SELECT impression_id FROM ad_impressions')).toEqual([{ impression_id: 'i2' }]);
    expect(await db.query('SELECT count(*) AS n FROM clicks')).toEqual([{ n: 0 }]);
  });
});
