/**
 * Merging the small files of closed lake partitions (the local twin of the Glue job): real
 * Parquet files written by the lake's own writer, merged by DuckDB with sql/glue/compact-partition.sql,
 * read back through LakeDatabase as the analytics routes read them.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeDatabase } from '../../../lambdas/adapters/local/duckdb/lake-database.js';
import { writeLakeParquetFile } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { LakePartitionCompaction } from '../../../lambdas/adapters/local/lake/partition-compaction.js';
import { mergePartitionFiles } from '../../../lambdas/adapters/local/lake/partition-merge.js';
import { partitionDir } from '../../../lambdas/adapters/local/lake/partitions.js';
import { impressionRow } from '../../support/lake-rows.js';

const NOW = Date.parse('2026-12-01T14:10:00Z');
const merger = { mergePartition: mergePartitionFiles };

describe('LakePartitionCompaction', () => {
  let root: string;
  let lakeDir: string;
  let db: LakeDatabase;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lake-compaction-'));
    lakeDir = join(root, 'lake');
    db = await LakeDatabase.open({ lakeDir });
  });
  afterEach(async () => {
    db.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Writes one file per id group into the partition of `at`, as sealed segments would. */
  async function writeFiles(at: string, groups: string[][]): Promise<string> {
    const dir = partitionDir(lakeDir, 'ad_impressions', new Date(at));
    await mkdir(dir, { recursive: true });
    for (const [n, ids] of groups.entries()) {
      await writeLakeParquetFile(
        join(dir, `seg-${String(n).padStart(4, '0')}.parquet`),
        'ad_impressions',
        ids.map((id) => impressionRow(id, at)),
      );
    }
    return dir;
  }

  const compaction = (options: { closedForMs?: number } = {}) =>
    new LakePartitionCompaction(lakeDir, merger, db, {
      tempDirectory: join(root, 'tmp'),
      stagingDir: join(root, 'staging'),
      now: () => NOW,
      ...options,
    });

  const parquetIn = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.parquet'));

  it('merges a closed partition into one file holding each id once', async () => {
    // Prepare: 5 files, one impression delivered twice (at least once) across two of them
    const dir = await writeFiles('2026-12-01T10:20:00Z', [['i1', 'i2'], ['i3'], ['i4', 'i2'], ['i5'], ['i6']]);

    // Act
    const result = await compaction().run();

    // Assess
    expect(result).toEqual({ partitions: 1, filesMerged: 5, rows: 6, failed: 0 });
    expect(await parquetIn(dir)).toEqual([expect.stringMatching(/^compacted-\d+-[0-9a-f]{8}\.parquet$/)]);
    const rows = await db.query('SELECT impression_id, user_id, "timestamp", dt, hour FROM ad_impressions ORDER BY 1');
    expect(rows.map((r) => r.impression_id)).toEqual(['i1', 'i2', 'i3', 'i4', 'i5', 'i6']);
    expect(rows[0]).toEqual({
      impression_id: 'i1',
      user_id: 'u-i1',
      timestamp: '2026-12-01T10:20:00.000Z',
      dt: '2026-12-01',
      hour: '10',
    });
  });

  it('leaves partitions that are still open, or have few files, as they are', async () => {
    // Prepare: 13:xx ended 10 minutes ago (late events may still come); 09:xx has 3 files
    const open = await writeFiles('2026-12-01T13:05:00Z', [['a'], ['b'], ['c'], ['d']]);
    const few = await writeFiles('2026-12-01T09:05:00Z', [['e'], ['f'], ['g']]);

    // Act
    const result = await compaction().run();

    // Assess
    expect(result.partitions).toBe(0);
    expect(await parquetIn(open)).toHaveLength(4);
    expect(await parquetIn(few)).toHaveLength(3);
  });

  it('merges a compacted partition again with the files that arrived late', async () => {
    // Prepare
    const dir = await writeFiles('2026-12-01T08:30:00Z', [['i1'], ['i2'], ['i3'], ['i4']]);
    await compaction().run();
    await writeFiles('2026-12-01T08:40:00Z', [['late1'], ['late2'], ['i1']]);

    // Act
    const result = await compaction().run();

    // Assess
    expect(result).toMatchObject({ partitions: 1, filesMerged: 4, rows: 6 });
    expect(await parquetIn(dir)).toHaveLength(1);
    const [count] = await db.query('SELECT count(*) AS n, count(DISTINCT impression_id) AS ids FROM ad_impressions');
    expect(count).toEqual({ n: 6, ids: 6 });
  });

  it('clears what a crash left in the staging directory, where no reader of the lake looks', async () => {
    // Prepare
    await writeFiles('2026-12-01T07:00:00Z', [['i1'], ['i2'], ['i3'], ['i4']]);
    await mkdir(join(root, 'staging'), { recursive: true });
    await writeFile(join(root, 'staging', '1-deadbeef.parquet'), 'half a parquet file');
    const [before] = await db.query('SELECT count(*) AS n FROM ad_impressions');

    // Act
    await compaction().clearStaging();

    // Assess
    expect(before).toEqual({ n: 4 });
    await expect(readdir(join(root, 'staging'))).rejects.toThrow(/ENOENT/);
  });

  it('stages nothing in the partitions themselves', async () => {
    // Prepare
    const dir = await writeFiles('2026-12-01T07:00:00Z', [['i1'], ['i2'], ['i3'], ['i4']]);

    // Act
    await compaction().run();

    // Assess
    expect((await readdir(dir)).filter((n) => !n.startsWith('compacted-'))).toEqual([]);
    expect(await readdir(join(root, 'staging'))).toEqual([]);
  });

  it('replaces no file while another reader of the lake (a retrain) is running', async () => {
    // Prepare
    const dir = await writeFiles('2026-12-01T05:00:00Z', [['i1'], ['i2'], ['i3'], ['i4']]);
    const before = await readdir(dir);
    const paused = new LakePartitionCompaction(lakeDir, merger, db, {
      tempDirectory: join(root, 'tmp'),
      stagingDir: join(root, 'staging'),
      now: () => NOW,
      paused: () => true,
    });

    // Act
    const result = await paused.run();

    // Assess
    expect(result.partitions).toBe(0);
    expect(await readdir(dir)).toEqual(before);
  });

  it('keeps every file when the merge fails, and says so', async () => {
    // Prepare
    const dir = await writeFiles('2026-12-01T06:00:00Z', [['i1'], ['i2'], ['i3']]);
    await writeFile(join(dir, 'seg-9999.parquet'), 'not parquet at all');
    const before = await readdir(dir);

    // Act
    const result = await compaction().run();

    // Assess
    expect(result).toMatchObject({ partitions: 0, failed: 1 });
    expect(await readdir(dir)).toEqual(before);
  });

  it('never lets a query of the lake see a partition half replaced', async () => {
    // Prepare: queries in a loop while the partitions are merged
    for (let h = 0; h < 6; h++) {
      const at = `2026-12-01T0${h}:10:00Z`;
      await writeFiles(
        at,
        [0, 1, 2, 3, 4].map((f) => [`h${h}-f${f}-a`, `h${h}-f${f}-b`]),
      );
    }
    let running = true;
    const seen: number[] = [];
    const errors: unknown[] = [];
    const queries = (async () => {
      while (running) {
        try {
          const [r] = await db.query('SELECT count(*) AS n FROM ad_impressions');
          seen.push(r!.n as number);
        } catch (err) {
          errors.push(err);
        }
      }
    })();

    // Act
    const result = await compaction().run();
    running = false;
    await queries;

    // Assess
    expect(result.partitions).toBe(6);
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([60]));
  });
});
