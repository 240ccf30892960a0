import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLakeMaintenance } from '../../../lambdas/server/lake-maintenance.js';
import { RecordingLogger } from '../../support/memory-ports.js';

describe('startLakeMaintenance', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lake-maintenance-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('clears the staging a crash left and deletes expired partitions at start, through the lake queue', async () => {
    // Prepare: a staged merge left by a crash, and a clicks partition from 2020
    await mkdir(join(dataDir, 'lake-staging'), { recursive: true });
    await writeFile(join(dataDir, 'lake-staging', '1-deadbeef.parquet'), 'rows of a user being erased');
    const old = join(dataDir, 'lake', 'clicks', 'dt=2020-01-01', 'hour=00');
    await mkdir(old, { recursive: true });
    await writeFile(join(old, 'seg.parquet'), 'an old file');
    const queued: Promise<void>[] = [];
    const logger = new RecordingLogger();

    // Act
    const maintenance = await startLakeMaintenance({
      dataDir,
      events: { mergePartition: async () => ({ rows: 0 }) },
      lake: { exclusive: (fn) => fn() },
      logger,
      compactionMinutes: 10,
      paused: () => false,
      schedule: (run) => queued.push(run()),
    });
    await Promise.all(queued);
    maintenance.stop();

    // Assess
    await expect(readdir(join(dataDir, 'lake-staging'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(dataDir, 'lake', 'clicks'))).toEqual([]);
    expect(queued).toHaveLength(1);
  });
});
