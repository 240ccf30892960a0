import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RowCodec } from '../../../lambdas/adapters/local/event-log/row-codec.js';
import { RecordEncoder } from '../../../lambdas/adapters/local/event-log/segment.js';
import { compactSegment, WorkerCompactor } from '../../../lambdas/adapters/local/lake/compactor.js';
import type { LakeRow } from '../../../lambdas/core/ports.js';
import { idCounts, queryDuckDb, type TempDirs, tempDirs } from './lake-helpers.js';
import { click, impression } from './rows.js';

const SEGMENT = 'seg-1714558000000-0a1b2c3d-000001.sealed';

async function writeSegment(dir: string, rows: readonly LakeRow[], extra = ''): Promise<string> {
  await mkdir(dir, { recursive: true });
  const payloads = rows.map((r) => new RowCodec(r.table).serialize(r.row)!);
  const path = join(dir, SEGMENT);
  await writeFile(path, Buffer.concat([new RecordEncoder().encode(payloads), Buffer.from(extra)]));
  return path;
}

async function lakeFiles(lakeDir: string): Promise<string[]> {
  return ((await readdir(lakeDir, { recursive: true })) as string[]).filter((p) => p.endsWith('.parquet')).sort();
}

describe('compactSegment', () => {
  let dirs: TempDirs;

  beforeEach(async () => {
    dirs = await tempDirs('compactor-');
  });

  afterEach(async () => {
    await dirs.cleanup();
  });

  it('writes one file per table and hour, named after the segment, de-duplicated by id', async () => {
    // Prepare
    const segment = await writeSegment(dirs.logDir, [
      impression('imp-1', '2024-05-01T10:00:00Z'),
      impression('imp-2', '2024-05-01T11:00:00Z'),
      impression('imp-1', '2024-05-01T10:00:00Z', { ad_id: 'ad-replayed' }),
      click('clk-1', '2024-05-01T10:30:00Z'),
    ]);

    // Act
    const result = await compactSegment(segment, dirs.lakeDir);

    // Assess
    expect(result).toMatchObject({ records: 4, rows: 3, duplicates: 1, badLines: 0, invalidRows: 0 });
    expect(await lakeFiles(dirs.lakeDir)).toEqual([
      'ad_impressions/dt=2024-05-01/hour=10/seg-1714558000000-0a1b2c3d-000001.parquet',
      'ad_impressions/dt=2024-05-01/hour=11/seg-1714558000000-0a1b2c3d-000001.parquet',
      'clicks/dt=2024-05-01/hour=10/seg-1714558000000-0a1b2c3d-000001.parquet',
    ]);
    const kept = await queryDuckDb(
      `SELECT ad_id FROM read_parquet('${dirs.lakeDir}/ad_impressions/**/*.parquet') WHERE impression_id = 'imp-1'`,
    );
    expect(kept).toEqual([{ ad_id: 'ad-7' }]);
    expect(await readdir(dirs.logDir)).toEqual([]);
  });

  it('rewrites the same files when a segment is compacted again after a crash before its deletion', async () => {
    // Prepare
    const segment = await writeSegment(dirs.logDir, [
      impression('imp-1', '2024-05-01T10:00:00Z'),
      click('clk-1', '2024-05-01T10:30:00Z'),
    ]);
    await compactSegment(segment, dirs.lakeDir, { deleteSegment: false });
    const firstFiles = await lakeFiles(dirs.lakeDir);

    // Act
    await compactSegment(segment, dirs.lakeDir);

    // Assess
    expect(await lakeFiles(dirs.lakeDir)).toEqual(firstFiles);
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
    expect(await idCounts(dirs.lakeDir, 'clicks', 'click_id')).toEqual(new Map([['clk-1', 1]]));
  });

  it('skips corrupt lines of a sealed segment and keeps the others', async () => {
    // Prepare
    const segment = await writeSegment(
      dirs.logDir,
      [impression('imp-1', '2024-05-01T10:00:00Z')],
      '00000000 clicks {"click_id":"forged"}\n',
    );

    // Act
    const result = await compactSegment(segment, dirs.lakeDir);

    // Assess
    expect(result).toMatchObject({ records: 1, rows: 1, badLines: 1 });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('compacts in a worker thread with the same result', async () => {
    // Prepare
    const segment = await writeSegment(dirs.logDir, [impression('imp-1', '2024-05-01T10:00:00Z')]);
    const compactor = new WorkerCompactor(dirs.lakeDir);

    // Act
    const result = await compactor.compact(segment);
    await compactor.close();

    // Assess
    expect(compactor.runsIn).toBe('worker');
    expect(result).toMatchObject({ records: 1, rows: 1 });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });
});
