import { appendFile, cp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DurableEventLog,
  type DurableEventLogOptions,
  EventLogRowError,
} from '../../../lambdas/adapters/local/event-log/durable-event-log.js';
import type { LakeRow } from '../../../lambdas/core/ports.js';
import { gate } from '../../support/gate.js';
import { idCounts, lakeTable, queryDuckDb, type TempDirs, tempDirs } from './lake-helpers.js';
import { click, impression } from './rows.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

describe('DurableEventLog', () => {
  let dirs: TempDirs;
  const opened: DurableEventLog[] = [];

  async function openLog(options: Partial<DurableEventLogOptions> = {}): Promise<DurableEventLog> {
    const log = await DurableEventLog.open({ dir: dirs.logDir, lakeDir: dirs.lakeDir, logger: silent, ...options });
    opened.push(log);
    return log;
  }

  beforeEach(async () => {
    dirs = await tempDirs();
  });

  afterEach(async () => {
    for (const log of opened.splice(0)) await log.close().catch(() => {});
    await dirs.cleanup();
  });

  it('returns appended rows from the lake with their column types and hour partitions', async () => {
    // Prepare
    const log = await openLog();
    const rows: LakeRow[] = [
      impression('imp-1', '2024-05-01T10:15:00.123Z', { ip: 'ip_pseudo', prediction_id: 'pred-1' }),
      impression('imp-2', '2024-05-01T11:59:59.999Z'),
      click('clk-1', '2024-05-02T00:00:00.000Z', false),
      {
        table: 'model_predictions',
        row: {
          prediction_id: 'pred-1',
          request_id: null,
          user_id: 'u_pseudo_1',
          ad_id: 'ad-7',
          probability: 0.0375,
          model_version: 'v1',
          model_id: 'm-1',
          variant: 'champion',
          experiment_id: null,
          fallback: false,
          consent: true,
          features: '{"device_type":"mobile","position":1}',
          timestamp: new Date('2024-05-01T10:14:59.900Z'),
        },
      },
      {
        table: 'training_examples',
        row: {
          prediction_id: 'pred-1',
          impression_id: 'imp-1',
          ad_id: 'ad-7',
          label: 1,
          features: '{"é":"ü ✓ \\"quoted\\""}',
          model_version: 'v1',
          sample_weight: 1.5,
          timestamp: new Date('2024-05-01T10:14:59.900Z'),
        },
      },
    ];

    // Act
    const result = await log.append(rows);
    await log.close();

    // Assess
    expect(result).toEqual({ duplicates: [] });
    const impressions = await queryDuckDb(
      `SELECT impression_id, prediction_id, ip, typeof(timestamp) AS ts_type, CAST(timestamp AS VARCHAR) AS ts,
              CAST(received_at AS VARCHAR) AS received, CAST(dt AS VARCHAR) AS dt, CAST(hour AS INTEGER) AS hour
       FROM ${lakeTable(dirs.lakeDir, 'ad_impressions')} ORDER BY impression_id`,
    );
    expect(impressions).toEqual([
      {
        impression_id: 'imp-1',
        prediction_id: 'pred-1',
        ip: 'ip_pseudo',
        ts_type: 'TIMESTAMP',
        ts: '2024-05-01 10:15:00.123',
        received: '2024-05-01 10:15:00.373',
        dt: '2024-05-01',
        hour: 10,
      },
      {
        impression_id: 'imp-2',
        prediction_id: null,
        ip: null,
        ts_type: 'TIMESTAMP',
        ts: '2024-05-01 11:59:59.999',
        received: '2024-05-01 12:00:00.249',
        dt: '2024-05-01',
        hour: 11,
      },
    ]);
    const clicks = await queryDuckDb(
      `SELECT click_id, clicked, typeof(clicked) AS clicked_type, user_id, CAST(dt AS VARCHAR) AS dt,
              CAST(hour AS INTEGER) AS hour FROM ${lakeTable(dirs.lakeDir, 'clicks')}`,
    );
    expect(clicks).toEqual([
      { click_id: 'clk-1', clicked: false, clicked_type: 'BOOLEAN', user_id: null, dt: '2024-05-02', hour: 0 },
    ]);
    const predictions = await queryDuckDb(
      `SELECT probability, typeof(probability) AS p_type, fallback, consent, request_id, features
       FROM ${lakeTable(dirs.lakeDir, 'model_predictions')}`,
    );
    expect(predictions).toEqual([
      {
        probability: 0.0375,
        p_type: 'DOUBLE',
        fallback: false,
        consent: true,
        request_id: null,
        features: '{"device_type":"mobile","position":1}',
      },
    ]);
    const examples = await queryDuckDb(
      `SELECT CAST(label AS INTEGER) AS label, typeof(label) AS label_type, sample_weight, features
       FROM ${lakeTable(dirs.lakeDir, 'training_examples')}`,
    );
    expect(examples).toEqual([
      { label: 1, label_type: 'BIGINT', sample_weight: 1.5, features: '{"é":"ü ✓ \\"quoted\\""}' },
    ]);
    const files = await readdir(join(dirs.lakeDir, 'ad_impressions', 'dt=2024-05-01'));
    expect(files.sort()).toEqual(['hour=10', 'hour=11']);
    expect(await readdir(dirs.logDir)).toEqual([]);
    expect(log.stats().compactingIn).toBe('worker');
  });

  it('reports a repeated id as a duplicate and writes it once', async () => {
    // Prepare
    const log = await openLog();
    await log.append([impression('imp-1', '2024-05-01T10:00:00Z')]);

    // Act
    const again = await log.append([
      impression('imp-2', '2024-05-01T10:00:01Z'),
      impression('imp-1', '2024-05-01T10:00:00Z'),
      impression('imp-2', '2024-05-01T10:00:01Z'),
      click('imp-1', '2024-05-01T10:00:02Z'),
    ]);
    await log.close();

    // Assess
    expect(again).toEqual({ duplicates: [1, 2] });
    expect(log.stats()).toMatchObject({ rowsAppended: 3, duplicates: 2 });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(
      new Map([
        ['imp-1', 1],
        ['imp-2', 1],
      ]),
    );
    expect(await idCounts(dirs.lakeDir, 'clicks', 'click_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('resolves a duplicate sent while its original is in flight only once the original is durable', async () => {
    // Prepare
    const held = gate();
    let syncsStarted = 0;
    const log = await openLog({
      beforeSync: async () => {
        syncsStarted++;
        if (syncsStarted === 1) await held.promise;
      },
    });
    const settled: string[] = [];
    const original = log.append([impression('imp-1', '2024-05-01T10:00:00Z')]).then((r) => {
      settled.push('original');
      return r;
    });
    while (syncsStarted === 0) await nextTurn();

    // Act
    const duplicate = log.append([impression('imp-1', '2024-05-01T10:00:00Z')]).then((r) => {
      settled.push('duplicate');
      return r;
    });
    for (let i = 0; i < 20; i++) await nextTurn();
    const settledWhileHeld = [...settled];
    held.open();
    const results = await Promise.all([original, duplicate]);
    await log.close();

    // Assess
    expect(settledWhileHeld).toEqual([]);
    expect(results).toEqual([{ duplicates: [] }, { duplicates: [0] }]);
    expect(settled).toEqual(['original', 'duplicate']);
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('recognises a duplicate after a clean reopen, from the lake', async () => {
    // Prepare
    const first = await openLog();
    await first.append([impression('imp-1', new Date().toISOString())]);
    await first.close();
    const second = await openLog();

    // Act
    const result = await second.append([impression('imp-1', new Date().toISOString())]);
    await second.close();

    // Assess
    expect(result).toEqual({ duplicates: [0] });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('recognises a duplicate after a crash, from the segments left on disk', async () => {
    // Prepare: copy the log directory of a live log, as a crash would leave it
    const live = await openLog({ compactInBackground: false, lakeDir: join(dirs.root, 'other-lake') });
    await live.append([impression('imp-1', '2024-05-01T10:00:00Z'), click('clk-1', '2024-05-01T10:00:00Z')]);
    const crashedDir = join(dirs.root, 'crashed-log');
    await cp(dirs.logDir, crashedDir, { recursive: true });
    const recovered = await openLog({ dir: crashedDir });

    // Act
    const result = await recovered.append([
      click('clk-1', '2024-05-01T10:00:00Z'),
      impression('imp-1', '2024-05-01T10:00:00Z'),
      impression('imp-2', '2024-05-01T10:00:00Z'),
    ]);
    await recovered.close();

    // Assess
    expect(result).toEqual({ duplicates: [0, 1] });
    expect(recovered.stats().recovered).toMatchObject({ segments: 1, records: 2, truncatedBytes: 0 });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(
      new Map([
        ['imp-1', 1],
        ['imp-2', 1],
      ]),
    );
    expect(await idCounts(dirs.lakeDir, 'clicks', 'click_id')).toEqual(new Map([['clk-1', 1]]));
  });

  it('ignores a torn tail on recovery and keeps every acknowledged row', async () => {
    // Prepare: a crashed log whose last write was torn half-way through a record
    const live = await openLog({ compactInBackground: false, lakeDir: join(dirs.root, 'other-lake') });
    await live.append([impression('imp-1', '2024-05-01T10:00:00Z'), impression('imp-2', '2024-05-01T10:00:01Z')]);
    const crashedDir = join(dirs.root, 'crashed-log');
    await cp(dirs.logDir, crashedDir, { recursive: true });
    const [segment] = (await readdir(crashedDir)).filter((name) => name.endsWith('.log'));
    const segmentPath = join(crashedDir, segment!);
    const firstLine = (await readFile(segmentPath, 'utf8')).split('\n')[0]!;
    const torn = `${firstLine.replace('imp-1', 'imp-3')}\n`.slice(0, 40);
    await appendFile(segmentPath, torn);

    // Act
    const recovered = await openLog({ dir: crashedDir });
    const retry = await recovered.append([impression('imp-3', '2024-05-01T10:00:02Z')]);
    await recovered.close();

    // Assess
    expect(recovered.stats().recovered).toMatchObject({ segments: 1, records: 2, truncatedBytes: torn.length });
    expect(retry).toEqual({ duplicates: [] });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(
      new Map([
        ['imp-1', 1],
        ['imp-2', 1],
        ['imp-3', 1],
      ]),
    );
  });

  it('skips a tail whose checksum does not match', async () => {
    // Prepare
    const live = await openLog({ compactInBackground: false, lakeDir: join(dirs.root, 'other-lake') });
    await live.append([impression('imp-1', '2024-05-01T10:00:00Z')]);
    const crashedDir = join(dirs.root, 'crashed-log');
    await cp(dirs.logDir, crashedDir, { recursive: true });
    const [segment] = (await readdir(crashedDir)).filter((name) => name.endsWith('.log'));
    const segmentPath = join(crashedDir, segment!);
    const firstLine = (await readFile(segmentPath, 'utf8')).split('\n')[0]!;
    await appendFile(segmentPath, `${firstLine.replace('imp-1', 'imp-9')}\n`);

    // Act
    const recovered = await openLog({ dir: crashedDir });
    await recovered.close();

    // Assess
    expect(recovered.stats().recovered.truncatedBytes).toBe(firstLine.length + 1);
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('shares one fsync among appends issued together', async () => {
    // Prepare
    const log = await openLog();

    // Act
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => log.append([click(`clk-${i}`, '2024-05-01T10:00:00Z')])),
    );
    const stats = log.stats();
    await log.close();

    // Assess
    expect(results.every((r) => r.duplicates.length === 0)).toBe(true);
    expect(stats).toMatchObject({ rowsAppended: 200, writes: 1, syncs: 1 });
    expect((await idCounts(dirs.lakeDir, 'clicks', 'click_id')).size).toBe(200);
  });

  it('gathers the appends that arrive during a write + fsync into the next write', async () => {
    // Prepare
    const held = gate();
    let syncsStarted = 0;
    const log = await openLog({
      beforeSync: async () => {
        syncsStarted++;
        if (syncsStarted === 1) await held.promise;
      },
    });
    const first = log.append([click('clk-first', '2024-05-01T10:00:00Z')]);
    while (syncsStarted === 0) await nextTurn();

    // Act
    const later: Promise<{ duplicates: number[] }>[] = [];
    for (let i = 0; i < 50; i++) {
      later.push(log.append([click(`clk-${i}`, '2024-05-01T10:00:00Z')]));
      await nextTurn();
    }
    const pendingWhileHeld = log.stats().pendingRows;
    held.open();
    await Promise.all([first, ...later]);
    const stats = log.stats();
    await log.close();

    // Assess
    expect(pendingWhileHeld).toBe(51);
    expect(stats).toMatchObject({ rowsAppended: 51, writes: 2, syncs: 2, pendingRows: 0 });
  });

  it('rotates segments by size and compacts every one of them', async () => {
    // Prepare
    const log = await openLog({ maxSegmentBytes: 4096 });

    // Act
    for (let i = 0; i < 40; i++) {
      await log.append(
        Array.from({ length: 10 }, (_, k) =>
          impression(`imp-${i}-${k}`, `2024-05-01T${String(k).padStart(2, '0')}:30:00Z`),
        ),
      );
    }
    await log.close();

    // Assess
    expect(log.stats().segmentsCompacted).toBeGreaterThan(5);
    expect(log.stats().rowsCompacted).toBe(400);
    const counts = await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id');
    expect(counts.size).toBe(400);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('seals an old segment on its own so that its rows reach the lake', async () => {
    // Prepare
    const log = await openLog({ maxSegmentAgeMs: 20 });

    // Act
    await log.append([impression('imp-1', '2024-05-01T10:00:00Z')]);
    while (log.stats().segmentsCompacted === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    // Assess
    expect(log.stats()).toMatchObject({ segments: 0, rowsCompacted: 1 });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('refuses a row that does not fit its table and writes nothing of that append', async () => {
    // Prepare
    const log = await openLog();
    const bad = impression('imp-2', '2024-05-01T10:00:00Z');

    // Act
    const refused = await log
      .append([
        impression('imp-1', '2024-05-01T10:00:00Z'),
        { table: bad.table, row: { ...bad.row, timestamp: 'yesterday' } },
      ])
      .catch((err: unknown) => err);
    const unknownColumn = await log
      .append([{ table: 'clicks', row: { ...click('c', '2024-05-01T10:00:00Z').row, x: 1 } }])
      .catch((err: unknown) => err);
    const accepted = await log.append([impression('imp-1', '2024-05-01T10:00:00Z')]);
    await log.close();

    // Assess
    expect(refused).toBeInstanceOf(EventLogRowError);
    expect(refused).toMatchObject({ index: 1, message: 'row 1: ad_impressions.timestamp expected a valid Date' });
    expect(unknownColumn).toMatchObject({ index: 0, message: 'row 0: clicks has no column x' });
    expect(accepted).toEqual({ duplicates: [] });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('rejects the appends of a failed write and accepts their retry', async () => {
    // Prepare
    let failNext = true;
    const log = await openLog({
      beforeSync: () => {
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
        }
      },
    });

    // Act
    const failed = log.append([impression('imp-1', '2024-05-01T10:00:00Z')]);
    await expect(failed).rejects.toThrow('EIO: simulated');
    const retry = await log.append([impression('imp-1', '2024-05-01T10:00:00Z')]);
    await log.close();

    // Assess
    expect(retry).toEqual({ duplicates: [] });
    expect(await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id')).toEqual(new Map([['imp-1', 1]]));
  });

  it('compacts in the calling thread when asked to', async () => {
    // Prepare
    const log = await openLog({ compaction: 'inline', compactInBackground: false });
    await log.append([click('clk-1', '2024-05-01T10:00:00Z')]);

    // Act
    await log.compact();

    // Assess
    expect(log.stats()).toMatchObject({ segments: 0, segmentsCompacted: 1, rowsCompacted: 1 });
    expect(await idCounts(dirs.lakeDir, 'clicks', 'click_id')).toEqual(new Map([['clk-1', 1]]));
  });

  it('lets one process at a time open a log directory', async () => {
    // Prepare
    await openLog();

    // Act
    const second = DurableEventLog.open({ dir: dirs.logDir, lakeDir: dirs.lakeDir, logger: silent });

    // Assess
    await expect(second).rejects.toThrow('already open');
  });
});
