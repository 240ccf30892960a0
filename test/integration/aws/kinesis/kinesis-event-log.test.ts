import { PutRecordsCommand, type PutRecordsCommandOutput, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KinesisUnavailableError } from '../../../../lambdas/adapters/aws/kinesis/errors.js';
import {
  KinesisEventLog,
  type KinesisEventLogConfig,
  type PutRecordsClient,
} from '../../../../lambdas/adapters/aws/kinesis/kinesis-event-log.js';
import { EventLogRowError } from '../../../../lambdas/adapters/shared/event-log-errors.js';
import { LAKE_TABLES } from '../../../../lambdas/core/lake/tables.js';
import type { LakeRow } from '../../../../lambdas/core/ports.js';
import { fakeTiming } from '../../../support/fake-timing.js';
import { type Kinesalite, startKinesalite } from '../../../support/kinesalite.js';
import { click, impression } from '../../event-log/rows.js';

const AT = '2024-05-01T10:00:00.000Z';

/** A clock that only moves when the adapter sleeps, so retry budgets are spent without waiting. */
/** Wraps a client's send so a test sees each PutRecords request and may answer it itself. */
function recordingClient(
  inner: PutRecordsClient,
  answer?: (call: number, command: PutRecordsCommand) => Promise<PutRecordsCommandOutput> | undefined,
): PutRecordsClient & { calls: PutRecordsRequestEntry[][] } {
  const calls: PutRecordsRequestEntry[][] = [];
  return {
    calls,
    send(command) {
      calls.push(command.input.Records ?? []);
      return answer?.(calls.length, command) ?? inner.send(command);
    },
  };
}

const keys = (entries: readonly PutRecordsRequestEntry[]): string[] => entries.map((e) => e.PartitionKey!);

describe('KinesisEventLog against kinesalite', () => {
  let kinesis: Kinesalite;
  let streamCounter = 0;

  beforeAll(async () => {
    kinesis = await startKinesalite();
  });

  afterAll(async () => {
    await kinesis?.stop();
  });

  /** Fresh streams for the event tables, so tests do not see each other's records. */
  async function freshStreams(shards = 2): Promise<{ impressions: string; clicks: string }> {
    streamCounter++;
    const streams = { impressions: `impressions-${streamCounter}`, clicks: `clicks-${streamCounter}` };
    await kinesis.createStream(streams.impressions, shards);
    await kinesis.createStream(streams.clicks, shards);
    return streams;
  }

  function logOn(
    client: PutRecordsClient,
    streams: { impressions: string; clicks: string },
    extra: Partial<KinesisEventLogConfig> = {},
  ): KinesisEventLog {
    return new KinesisEventLog(client, {
      streams: { ad_impressions: streams.impressions, clicks: streams.clicks },
      timing: fakeTiming(),
      ...extra,
    });
  }

  it('delivers every appended row once to its table stream as a JSON object of the lake columns', async () => {
    // Prepare
    const streams = await freshStreams();
    const log = logOn(kinesis.client, streams);
    const rows: LakeRow[] = [
      impression('imp-1', AT, { ip: 'ip_pseudo_9' }),
      click('clk-1', AT),
      impression('imp-2', AT),
      click('clk-2', AT, false),
    ];

    // Act
    const result = await log.append(rows);

    // Assess
    expect(result.duplicates).toEqual([]);
    const impressions = await kinesis.readRecords(streams.impressions);
    const clicks = await kinesis.readRecords(streams.clicks);
    expect(impressions.map((r) => r.partitionKey).sort()).toEqual(['imp-1', 'imp-2']);
    expect(clicks.map((r) => r.partitionKey).sort()).toEqual(['clk-1', 'clk-2']);
    const imp1 = JSON.parse(impressions.find((r) => r.partitionKey === 'imp-1')!.data);
    expect(Object.keys(imp1)).toEqual(LAKE_TABLES.ad_impressions.columns.map((c) => c.name));
    expect(imp1).toEqual({
      impression_id: 'imp-1',
      prediction_id: null,
      user_id: 'u_pseudo_1',
      ad_id: 'ad-7',
      timestamp: Date.parse(AT),
      device_type: 'mobile',
      location: 'US-CA',
      ip: 'ip_pseudo_9',
      features: '{"site_id":"s-1"}',
      received_at: Date.parse(AT) + 250,
    });
    const clk2 = JSON.parse(clicks.find((r) => r.partitionKey === 'clk-2')!.data);
    expect(Object.keys(clk2)).toEqual(LAKE_TABLES.clicks.columns.map((c) => c.name));
    expect(clk2.clicked).toBe(false);
  });

  it('splits a 1,200-row append into PutRecords requests of at most 500 records', async () => {
    // Prepare
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client);
    const log = logOn(client, streams);
    const rows = Array.from({ length: 1_200 }, (_, i) => impression(`imp-${i}`, AT));

    // Act
    await log.append(rows);

    // Assess
    expect(client.calls.map((c) => c.length).sort((a, b) => b - a)).toEqual([500, 500, 200]);
    const stored = await kinesis.readRecords(streams.impressions);
    expect(stored).toHaveLength(1_200);
    expect(new Set(stored.map((r) => r.partitionKey)).size).toBe(1_200);
  });

  it('splits an append of more than 5 MiB into requests of at most 5 MiB', async () => {
    // Prepare
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client);
    const log = logOn(client, streams);
    const features = JSON.stringify({ blob: 'x'.repeat(100_000) });
    const rows = Array.from({ length: 120 }, (_, i) => impression(`big-${i}`, AT, { features }));

    // Act
    await log.append(rows);

    // Assess
    expect(client.calls.length).toBeGreaterThan(2);
    for (const call of client.calls) {
      const bytes = call.reduce((n, e) => n + e.Data!.length + Buffer.byteLength(e.PartitionKey!), 0);
      expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    expect(await kinesis.readRecords(streams.impressions)).toHaveLength(120);
  });

  it('re-sends only the records a PutRecords response reported failed', async () => {
    // Prepare: the first response accepts the even rows and reports the odd ones throttled.
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client, (call, command) => {
      if (call !== 1) return undefined;
      return partiallyFailed(kinesis.client, command, (i) => i % 2 === 1);
    });
    const log = logOn(client, streams);
    const rows = Array.from({ length: 10 }, (_, i) => impression(`imp-${i}`, AT));

    // Act
    const result = await log.append(rows);

    // Assess
    expect(result.duplicates).toEqual([]);
    expect(client.calls).toHaveLength(2);
    expect(keys(client.calls[1]!)).toEqual(['imp-1', 'imp-3', 'imp-5', 'imp-7', 'imp-9']);
    const stored = await kinesis.readRecords(streams.impressions);
    expect(stored.map((r) => r.partitionKey).sort()).toEqual(rows.map((r) => r.row.impression_id).sort());
    expect(log.stats()).toMatchObject({ recordsAccepted: 10, recordsRetried: 5 });
  });

  it('rejects, within the retry budget, when the stream keeps failing records', async () => {
    // Prepare
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client, (_call, command) =>
      partiallyFailed(kinesis.client, command, () => true),
    );
    const timing = fakeTiming();
    const log = logOn(client, streams, { timing, retry: { baseDelayMs: 50, maxDelayMs: 400, maxTotalMs: 2_000 } });

    // Act
    const refused = await log.append([impression('imp-1', AT), click('clk-1', AT)]).catch((err: unknown) => err);

    // Assess
    expect(refused).toBeInstanceOf(KinesisUnavailableError);
    expect((refused as KinesisUnavailableError).message).toMatch(/ProvisionedThroughputExceededException/);
    expect(client.calls.length).toBeGreaterThan(2);
    expect(timing.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2_000);
    expect(Math.max(...timing.slept)).toBeLessThanOrEqual(400);
    expect(await kinesis.readRecords(streams.impressions)).toEqual([]);
  });

  it('sends a row again after its append was rejected, rather than calling it a duplicate', async () => {
    // Prepare: the stream fails everything, then recovers.
    const streams = await freshStreams();
    let failing = true;
    const client = recordingClient(kinesis.client, (_call, command) =>
      failing ? partiallyFailed(kinesis.client, command, () => true) : undefined,
    );
    const log = logOn(client, streams, { retry: { maxTotalMs: 500 } });
    await expect(log.append([impression('imp-1', AT)])).rejects.toBeInstanceOf(KinesisUnavailableError);
    failing = false;

    // Act
    const retried = await log.append([impression('imp-1', AT)]);

    // Assess
    expect(retried.duplicates).toEqual([]);
    expect((await kinesis.readRecords(streams.impressions)).map((r) => r.partitionKey)).toEqual(['imp-1']);
  });

  it('rejects at once when Kinesis refuses the request for good (a missing stream)', async () => {
    // Prepare
    const client = recordingClient(kinesis.client);
    const log = logOn(client, { impressions: 'no-such-stream', clicks: 'no-such-stream' });

    // Act
    const refused = await log.append([impression('imp-1', AT)]).catch((err: unknown) => err);

    // Assess
    expect(refused).toBeInstanceOf(KinesisUnavailableError);
    expect((refused as Error).message).toMatch(/ResourceNotFoundException/);
    expect(client.calls).toHaveLength(1);
  });

  it('refuses a row over the 1 MiB record limit before sending anything', async () => {
    // Prepare
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client);
    const log = logOn(client, streams);
    const huge = JSON.stringify({ blob: 'x'.repeat(1024 * 1024) });

    // Act
    const refused = await log
      .append([click('clk-1', AT), impression('imp-huge', AT, { features: huge })])
      .catch((err: unknown) => err);

    // Assess
    expect(refused).toBeInstanceOf(EventLogRowError);
    expect((refused as EventLogRowError).index).toBe(1);
    expect((refused as Error).message).toMatch(/row 1: ad_impressions record is \d+ bytes, over the Kinesis limit/);
    expect(client.calls).toHaveLength(0);
    expect(await kinesis.readRecords(streams.clicks)).toEqual([]);
  });

  it('refuses a row that does not fit its table with the local log error message, sending nothing', async () => {
    // Prepare
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client);
    const log = logOn(client, streams);
    const bad: LakeRow = { table: 'ad_impressions', row: { ...impression('imp-2', AT).row, ad_id: 7 } };

    // Act
    const refused = await log.append([impression('imp-1', AT), bad]).catch((err: unknown) => err);

    // Assess: the same error, with the same text, as the local DurableEventLog gives.
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as EventLogRowError).index).toBe(1);
    expect((refused as Error).message).toBe('row 1: ad_impressions.ad_id expected a string, got number');
    expect(client.calls).toHaveLength(0);
  });

  it('refuses a row of a table that has no stream configured', async () => {
    // Prepare
    const streams = await freshStreams();
    const log = logOn(kinesis.client, streams);
    const flag: LakeRow = {
      table: 'suspicious_events',
      row: { event_id: 'e-1', event_type: 'click', rule: 'click_too_fast', score: 0.9, timestamp: new Date(AT) },
    };

    // Act
    const refused = log.append([flag]);

    // Assess
    await expect(refused).rejects.toThrow('row 0: no stream configured for suspicious_events');
  });

  it('reports a replayed id as a duplicate and does not send it again', async () => {
    // Prepare
    const streams = await freshStreams();
    const client = recordingClient(kinesis.client);
    const log = logOn(client, streams);
    await log.append([impression('imp-1', AT), click('clk-1', AT)]);
    const callsBefore = client.calls.length;

    // Act
    const replay = await log.append([click('clk-2', AT), impression('imp-1', AT), click('clk-2', AT)]);

    // Assess
    expect(replay.duplicates).toEqual([1, 2]);
    expect(client.calls.slice(callsBefore).map(keys)).toEqual([['clk-2']]);
    expect(await kinesis.readRecords(streams.impressions)).toHaveLength(1);
  });

  it('acknowledges a duplicate only once the append carrying its original is accepted', async () => {
    // Prepare: hold the first PutRecords until the test releases it.
    const streams = await freshStreams();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const client = recordingClient(kinesis.client, (call, command) =>
      call === 1 ? held.then(() => kinesis.client.send(command)) : undefined,
    );
    const log = logOn(client, streams);
    const original = log.append([impression('imp-1', AT)]);
    let replayDone = false;

    // Act
    const replay = log.append([impression('imp-1', AT)]).then((r) => {
      replayDone = true;
      return r;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const doneWhileHeld = replayDone;
    release();

    // Assess
    expect(doneWhileHeld).toBe(false);
    expect((await replay).duplicates).toEqual([0]);
    expect((await original).duplicates).toEqual([]);
    expect(client.calls).toHaveLength(1);
  });

  it('rejects a duplicate when the append carrying its original fails', async () => {
    // Prepare
    const streams = await freshStreams();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const client = recordingClient(kinesis.client, (_call, command) =>
      held.then(() => partiallyFailed(kinesis.client, command, () => true)),
    );
    const log = logOn(client, streams, { retry: { maxTotalMs: 200 } });
    const original = log.append([impression('imp-1', AT)]).catch((err: unknown) => err);

    // Act
    const replay = log.append([impression('imp-1', AT)]).catch((err: unknown) => err);
    release();

    // Assess
    expect(await original).toBeInstanceOf(KinesisUnavailableError);
    expect(await replay).toBeInstanceOf(KinesisUnavailableError);
  });
});

/**
 * Forwards the records `fails` does not pick to the real stream and answers as Kinesis does when
 * some records of a PutRecords are throttled: those get an ErrorCode, in request order.
 */
async function partiallyFailed(
  inner: PutRecordsClient,
  command: PutRecordsCommand,
  fails: (index: number) => boolean,
): Promise<PutRecordsCommandOutput> {
  const records = command.input.Records ?? [];
  const passing = records.filter((_, i) => !fails(i));
  const forwarded =
    passing.length > 0
      ? ((await inner.send(new PutRecordsCommand({ ...command.input, Records: passing }))).Records ?? [])
      : [];
  let next = 0;
  const results = records.map((_, i) =>
    fails(i)
      ? {
          ErrorCode: 'ProvisionedThroughputExceededException',
          ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream s under account 111122223333.',
        }
      : forwarded[next++]!,
  );
  return { $metadata: { httpStatusCode: 200 }, FailedRecordCount: records.length - passing.length, Records: results };
}
