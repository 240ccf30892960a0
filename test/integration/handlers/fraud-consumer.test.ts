import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisEventLog } from '../../../lambdas/adapters/aws/kinesis/kinesis-event-log.js';
import { LakeStreamDecoder } from '../../../lambdas/adapters/aws/kinesis/stream-records.js';
import { RuleFraudDetector } from '../../../lambdas/core/fraud/detector.js';
import { fraudEventFromLakeRow, suspiciousEventRow } from '../../../lambdas/core/fraud/lake-rows.js';
import type { EventLog, LakeRow } from '../../../lambdas/core/ports.js';
import { createFraudConsumerHandler } from '../../../lambdas/handlers/fraud-consumer.js';
import { type Kinesalite, startKinesalite } from '../../support/kinesalite.js';
import { kinesisEvent as kinesisEventOf } from '../../support/kinesis-events.js';
import { lambdaContext } from '../../unit/handlers/api-gateway-events.js';

const T0 = Date.parse('2026-12-04T10:00:00Z');

/** A batch of one stream as Lambda delivers it (base64 JSON of each lake row). */
const kinesisEvent = (streamName: string, rows: readonly object[]) =>
  kinesisEventOf(rows.map((data) => ({ data, streamName })));

const impression = (i: number, user = `user-${i}`) => ({
  impression_id: `imp-${i}`,
  prediction_id: null,
  user_id: user,
  ad_id: 'ad-1',
  timestamp: T0 + i * 1_000,
  device_type: 'mobile',
  location: null,
  ip: `ip-${i}`,
  features: null,
  received_at: T0 + i * 1_000,
});
/** A click 5 s after its impression, by the impression's user. */
const click = (i: number, user = `user-${i}`) => ({
  click_id: `click-${i}`,
  impression_id: `imp-${i}`,
  user_id: user,
  ip: `ip-${i}`,
  clicked: true,
  timestamp: T0 + i * 1_000 + 5_000,
  received_at: T0 + i * 1_000 + 5_000,
});

/** One user clicking 8 ads within a few seconds: over the rate limit of 5 a minute. */
const botImpressions = Array.from({ length: 8 }, (_, i) => impression(i, 'bot'));
const botClicks = Array.from({ length: 8 }, (_, i) => click(i, 'bot'));

const silentLogger = () => new PowertoolsLogger({ serviceName: 'adclick-fraud-test', logLevel: 'SILENT' });

/** What the local server's detector flags for the same rows, as suspicious_events rows. */
function expectedFlags(rows: readonly { table: 'ad_impressions' | 'clicks'; row: object }[]): LakeRow[] {
  const detector = new RuleFraudDetector();
  const events = rows.map((r) => fraudEventFromLakeRow(r as LakeRow)!);
  return detector.inspectNow(events).map(suspiciousEventRow);
}

/** The rows stored on the suspicious_events stream, as the Kinesis JSON (timestamps in ms). */
async function storedFlags(kinesis: Kinesalite, stream: string): Promise<Record<string, unknown>[]> {
  return (await kinesis.readRecords(stream)).map((r) => JSON.parse(r.data) as Record<string, unknown>);
}

const asStored = (rows: LakeRow[]) =>
  rows.map((r) => ({ ...r.row, timestamp: (r.row.timestamp as Date).getTime() }) as Record<string, unknown>);

describe('fraud consumer over Kinesis events (kinesalite for the suspicious_events stream)', () => {
  let kinesis: Kinesalite;
  let streams = 0;

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });
  afterAll(async () => {
    await kinesis?.stop();
  });

  async function consumer(flagsLog?: (real: EventLog) => EventLog) {
    const out = `suspicious-${++streams}`;
    await kinesis.createStream(out);
    const real = new KinesisEventLog(kinesis.client, { streams: { suspicious_events: out } });
    const handler = createFraudConsumerHandler({
      logger: silentLogger(),
      compose: () => ({
        detector: new RuleFraudDetector(),
        decoder: new LakeStreamDecoder({ ad_impressions: 'impressions', clicks: 'clicks' }),
        flags: flagsLog ? flagsLog(real) : real,
      }),
    });
    return { handler, out };
  }

  it('writes the flags the local detector raises for the same events to the suspicious_events stream', async () => {
    // Prepare
    const { handler, out } = await consumer();
    const expected = expectedFlags([
      ...botImpressions.map((row) => ({ table: 'ad_impressions' as const, row })),
      ...botClicks.map((row) => ({ table: 'clicks' as const, row })),
    ]);

    // Act
    const a = await handler(kinesisEvent('impressions', botImpressions), lambdaContext());
    const b = await handler(kinesisEvent('clicks', botClicks), lambdaContext());

    // Assess
    expect(a.batchItemFailures).toEqual([]);
    expect(b.batchItemFailures).toEqual([]);
    expect(expected.length).toBeGreaterThan(0);
    expect(await storedFlags(kinesis, out)).toEqual(asStored(expected));
  });

  it('keeps its windows across invocations: clicks split over batches are judged together', async () => {
    // Prepare
    const { handler, out } = await consumer();
    await handler(kinesisEvent('impressions', botImpressions), lambdaContext());

    // Act
    for (const c of botClicks) await handler(kinesisEvent('clicks', [c]), lambdaContext());

    // Assess
    const flagged = (await storedFlags(kinesis, out)).map((f) => f.event_id);
    expect(new Set(flagged)).toEqual(new Set(botClicks.map((c) => c.click_id)));
  });

  it('flags nothing for honest users', async () => {
    // Prepare
    const { handler, out } = await consumer();
    const impressions = Array.from({ length: 20 }, (_, i) => impression(i));
    const clicks = Array.from({ length: 20 }, (_, i) => click(i)).filter((_, i) => i % 4 === 0);

    // Act
    await handler(kinesisEvent('impressions', impressions), lambdaContext());
    await handler(kinesisEvent('clicks', clicks), lambdaContext());

    // Assess
    expect(await storedFlags(kinesis, out)).toEqual([]);
  });

  it('skips a poison record without reporting it, and inspects the rest of the batch', async () => {
    // Prepare
    const { handler, out } = await consumer();
    await handler(kinesisEvent('impressions', botImpressions), lambdaContext());
    const event = kinesisEvent('clicks', botClicks);
    event.Records[2]!.kinesis.data = Buffer.from('not json').toString('base64');
    event.Records[4]!.kinesis.data = Buffer.from(JSON.stringify({ click_id: 'no-time' })).toString('base64');

    // Act
    const response = await handler(event, lambdaContext());

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const flagged = (await storedFlags(kinesis, out)).map((f) => f.event_id);
    expect(flagged).toHaveLength(6);
    expect(flagged).not.toContain('click-2');
  });

  it('reports the whole batch failed when the flags cannot be stored, and stores them once on the retry', async () => {
    // Prepare
    let down = true;
    const { handler, out } = await consumer((real) => ({
      append: (rows) => (down ? Promise.reject(new Error('Kinesis unavailable')) : real.append(rows)),
    }));
    await handler(kinesisEvent('impressions', botImpressions), lambdaContext());
    const clicks = kinesisEvent('clicks', botClicks);

    // Act
    const failed = await handler(clicks, lambdaContext());
    down = false;
    const retried = await handler(clicks, lambdaContext());

    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: clicks.Records[0]!.kinesis.sequenceNumber }]);
    expect(retried.batchItemFailures).toEqual([]);
    const flagged = (await storedFlags(kinesis, out)).map((f) => f.event_id);
    expect(flagged.sort()).toEqual(botClicks.map((c) => c.click_id).sort());
  });
});
