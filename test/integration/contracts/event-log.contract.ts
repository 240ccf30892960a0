/**
 * What every EventLog must do (lambdas/core/ports.ts), run against the local durable log (read
 * back from the Parquet lake) and the Kinesis log (read back from kinesalite's streams).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { EventLogRowError } from '../../../lambdas/adapters/shared/event-log-errors.js';
import type { EventLog } from '../../../lambdas/core/ports.js';
import { click, impression } from '../event-log/rows.js';

export interface ReadableEventLog {
  readonly log: EventLog;
  /** How often each id was stored, per event table (after whatever the adapter needs to make it readable). */
  storedIds(): Promise<{ ad_impressions: Map<string, number>; clicks: Map<string, number> }>;
}

export function describeEventLogContract(adapter: string, open: () => Promise<ReadableEventLog>): void {
  describe(`EventLog contract: ${adapter}`, () => {
    let subject: ReadableEventLog;
    beforeEach(async () => {
      subject = await open();
    });

    it('stores every appended row once, each in its own table', async () => {
      const result = await subject.log.append([
        impression('imp-1', '2026-12-04T10:00:00.000Z'),
        click('clk-1', '2026-12-04T10:00:05.000Z'),
        impression('imp-2', '2026-12-04T11:00:00.000Z'),
      ]);

      expect(result).toEqual({ duplicates: [] });
      const stored = await subject.storedIds();
      expect(Object.fromEntries(stored.ad_impressions)).toEqual({ 'imp-1': 1, 'imp-2': 1 });
      expect(Object.fromEntries(stored.clicks)).toEqual({ 'clk-1': 1 });
    });

    it('reports a replayed id, in a later append or the same one, as a duplicate and stores it once', async () => {
      await subject.log.append([impression('imp-1', '2026-12-04T10:00:00.000Z')]);

      const result = await subject.log.append([
        impression('imp-2', '2026-12-04T10:00:01.000Z'),
        impression('imp-1', '2026-12-04T10:00:00.000Z'),
        impression('imp-2', '2026-12-04T10:00:01.000Z'),
      ]);

      expect(result.duplicates).toEqual([1, 2]);
      const stored = await subject.storedIds();
      expect(Object.fromEntries(stored.ad_impressions)).toEqual({ 'imp-1': 1, 'imp-2': 1 });
    });

    it('refuses an append with a row that does not fit its table, storing none of it', async () => {
      const bad = impression('imp-bad', '2026-12-04T10:00:00.000Z');
      const act = subject.log.append([
        impression('imp-ok', '2026-12-04T10:00:00.000Z'),
        { table: bad.table, row: { ...bad.row, ad_id: 42 } as never },
      ]);

      await expect(act).rejects.toBeInstanceOf(EventLogRowError);
      await expect(act).rejects.toMatchObject({ index: 1 });
      const retried = await subject.log.append([impression('imp-ok', '2026-12-04T10:00:00.000Z')]);
      expect(retried.duplicates).toEqual([]);
      expect(Object.fromEntries((await subject.storedIds()).ad_impressions)).toEqual({ 'imp-ok': 1 });
    });
  });
}
