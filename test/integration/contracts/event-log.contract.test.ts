/** The EventLog contract over the local durable log and the Kinesis log on kinesalite. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { KinesisEventLog } from '../../../lambdas/adapters/aws/kinesis/kinesis-event-log.js';
import { DurableEventLog } from '../../../lambdas/adapters/local/event-log/durable-event-log.js';
import { type Kinesalite, startKinesalite } from '../../support/kinesalite.js';
import { idCounts, type TempDirs, tempDirs } from '../event-log/lake-helpers.js';
import { describeEventLogContract } from './event-log.contract.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describeEventLogContract('local durable log', async () => {
  const dirs: TempDirs = await tempDirs('contract-event-log-');
  const log = await DurableEventLog.open({ dir: dirs.logDir, lakeDir: dirs.lakeDir, logger: silent });
  let closed = false;
  cleanups.push(async () => {
    if (!closed) await log.close();
    await dirs.cleanup();
  });
  return {
    log,
    // Rows reach the lake when their segments are compacted, which close() finishes.
    storedIds: async () => {
      if (!closed) await log.close();
      closed = true;
      return {
        ad_impressions: await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id').catch(() => new Map()),
        clicks: await idCounts(dirs.lakeDir, 'clicks', 'click_id').catch(() => new Map()),
      };
    },
  };
});

let kinesis: Kinesalite;
let streams = 0;
beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await kinesis?.stop();
});

describeEventLogContract('Kinesis (kinesalite)', async () => {
  const n = ++streams;
  await kinesis.createStream(`contract-impressions-${n}`, 2);
  await kinesis.createStream(`contract-clicks-${n}`, 2);
  const log = new KinesisEventLog(kinesis.client, {
    streams: { ad_impressions: `contract-impressions-${n}`, clicks: `contract-clicks-${n}` },
  });
  const counts = async (stream: string, idColumn: string) => {
    const ids = new Map<string, number>();
    for (const r of await kinesis.readRecords(stream)) {
      const id = (JSON.parse(r.data) as Record<string, string>)[idColumn]!;
      ids.set(id, (ids.get(id) ?? 0) + 1);
    }
    return ids;
  };
  return {
    log,
    storedIds: async () => ({
      ad_impressions: await counts(`contract-impressions-${n}`, 'impression_id'),
      clicks: await counts(`contract-clicks-${n}`, 'click_id'),
    }),
  };
});
