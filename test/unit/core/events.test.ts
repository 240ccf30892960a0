import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.js';
import { RuleFraudDetector } from '../../../lambdas/core/fraud/detector.js';
import { hmacPseudonym, makeApp, T0 } from '../../support/memory-ports.js';

const USER = 'alice@example.com';
const IP = '203.0.113.7';
const MINUTE = 60_000;
const DAY = 86_400_000;

const at = (offsetMs: number) => new Date(T0.getTime() + offsetMs).toISOString();

const impression = (id: string, patch: Record<string, unknown> = {}) => ({
  impression_id: id,
  user_id: USER,
  ad_id: 'ad-1',
  timestamp: at(-MINUTE),
  ...patch,
});

const click = (id: string, impressionId: string, patch: Record<string, unknown> = {}) => ({
  click_id: id,
  impression_id: impressionId,
  user_id: USER,
  clicked: true,
  timestamp: at(-MINUTE),
  ...patch,
});

describe('impression and click events', () => {
  it('appends an impression with the pseudonymised user and ip, and counts it', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const result = await app.events.impression({
      ...impression('i-1'),
      prediction_id: 'p-1',
      device_type: 'mobile',
      location: 'FR',
      ip: IP,
      features: { site_id: 's42' },
    });

    // Assess
    expect(result).toEqual({ status: 'accepted', id: 'i-1' });
    expect(ports.events.table('ad_impressions')).toEqual([
      {
        impression_id: 'i-1',
        prediction_id: 'p-1',
        user_id: hmacPseudonym('user', USER),
        ad_id: 'ad-1',
        timestamp: new Date(at(-MINUTE)),
        device_type: 'mobile',
        location: 'FR',
        ip: hmacPseudonym('ip', IP),
        features: JSON.stringify({ site_id: 's42' }),
        received_at: T0,
      },
    ]);
    expect(JSON.stringify(ports.events.rows)).not.toContain(USER);
    expect(JSON.stringify(ports.events.rows)).not.toContain(IP);
    expect(ports.features.ads.get('ad-1')).toEqual({ impressions: 1, clicks: 0 });
  });

  it('appends a click with the pseudonymised user and ip, and counts it on the impression', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-1'));

    // Act
    const result = await app.events.click({ ...click('c-1', 'i-1'), ip: '2001:db8::1' });

    // Assess
    expect(result).toEqual({ status: 'accepted', id: 'c-1' });
    expect(ports.events.table('clicks')).toEqual([
      {
        click_id: 'c-1',
        impression_id: 'i-1',
        user_id: hmacPseudonym('user', USER),
        ip: hmacPseudonym('ip', '2001:db8::1'),
        clicked: true,
        timestamp: new Date(at(-MINUTE)),
        received_at: T0,
      },
    ]);
    expect(ports.features.ads.get('ad-1')).toEqual({ impressions: 1, clicks: 1 });
    expect(ports.features.users.get(hmacPseudonym('user', USER))).toEqual({ impressions: 1, clicks: 1 });
  });

  it('stores null user and ip for a click without them', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    await app.events.click({ click_id: 'c-1', impression_id: 'i-1', clicked: true, timestamp: at(0) });

    // Assess
    expect(ports.events.table('clicks')[0]).toMatchObject({ user_id: null, ip: null });
  });

  it('records an explicit non-click without counting a click', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-1'));

    // Act
    const result = await app.events.click(click('c-1', 'i-1', { clicked: false }));

    // Assess
    expect(result.status).toBe('accepted');
    expect(ports.events.table('clicks')).toHaveLength(1);
    expect(ports.features.clickCalls).toEqual([]);
  });

  it('reports a replayed impression as duplicate and counts it once', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-1'));

    // Act
    const replay = await app.events.impression(impression('i-1'));

    // Assess
    expect(replay).toEqual({ status: 'duplicate', id: 'i-1' });
    expect(ports.events.table('ad_impressions')).toHaveLength(1);
    expect(ports.features.impressionCalls).toHaveLength(1);
    expect(ports.features.ads.get('ad-1')!.impressions).toBe(1);
  });

  it('reports a replayed click as duplicate and counts it once', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-1'));
    await app.events.click(click('c-1', 'i-1'));

    // Act
    const replay = await app.events.click(click('c-1', 'i-1'));

    // Assess
    expect(replay.status).toBe('duplicate');
    expect(ports.features.clickCalls).toHaveLength(1);
    expect(ports.features.ads.get('ad-1')!.clicks).toBe(1);
  });

  it('does not confuse an impression and a click that share an id', async () => {
    // Prepare
    const { app } = makeApp();
    await app.events.impression(impression('x-1'));

    // Act
    const result = await app.events.click(click('x-1', 'x-1'));

    // Assess
    expect(result.status).toBe('accepted');
  });

  it('accepts an event exactly 5 minutes in the future and refuses one a millisecond later, saying so', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const ok = await app.events.impression(impression('i-1', { timestamp: at(5 * MINUTE) }));
    const act = app.events.impression(impression('i-2', { timestamp: at(5 * MINUTE + 1) }));

    // Assess
    expect(ok.status).toBe('accepted');
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({
      message: expect.stringContaining('more than 5 minutes in the future'),
      errors: [{ path: 'timestamp', message: 'is more than 5 minutes in the future' }],
    });
    expect(ports.events.rows).toHaveLength(1);
  });

  it('refuses a click older than the 400 days of retention, saying so', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const act = app.events.click(click('c-1', 'i-1', { timestamp: at(-400 * DAY - 1) }));

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({
      message: expect.stringContaining("older than the lake's retention of 400 days"),
      errors: [{ path: 'timestamp' }],
    });
    expect(ports.events.rows).toEqual([]);
  });

  it('accepts an event exactly 400 days old', async () => {
    // Prepare
    const { app } = makeApp();

    // Act
    const result = await app.events.impression(impression('i-1', { timestamp: at(-400 * DAY) }));

    // Assess
    expect(result.status).toBe('accepted');
  });

  it('judges the skew against the event time in UTC, whatever its zone', async () => {
    // Prepare
    const { app } = makeApp();

    // Act: 10:04 at T0 (10:00Z) written as 11:04+01:00 is 4 minutes ahead.
    const ok = await app.events.impression(impression('i-1', { timestamp: '2026-12-04T11:04:00+01:00' }));
    const act = app.events.impression(impression('i-2', { timestamp: '2026-12-04T10:06:00-00:00' }));

    // Assess
    expect(ok.status).toBe('accepted');
    await expect(act).rejects.toBeInstanceOf(ValidationError);
  });

  it('still acknowledges a durable event when the feature counters fail, and logs a warning', async () => {
    // Prepare
    const { app, ports } = makeApp();
    ports.features.failWith = new Error('redis down');

    // Act
    const result = await app.events.impression(impression('i-1'));

    // Assess
    expect(result.status).toBe('accepted');
    expect(ports.events.rows).toHaveLength(1);
    expect(ports.logger.entries.map((e) => e.level)).toContain('warn');
  });
});

describe('event batch', () => {
  it('records mixed impressions and clicks and reports each in order', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const events = [
      { type: 'impression', ...impression('i-1') },
      { type: 'click', ...click('c-1', 'i-1') },
      { type: 'impression', ...impression('i-2', { ad_id: 'ad-2' }) },
    ];

    // Act
    const results = await app.events.batch(events);

    // Assess
    expect(results).toEqual([
      { index: 0, status: 'accepted' },
      { index: 1, status: 'accepted' },
      { index: 2, status: 'accepted' },
    ]);
    expect(ports.events.table('ad_impressions').map((r) => r.impression_id)).toEqual(['i-1', 'i-2']);
    expect(ports.events.table('clicks').map((r) => r.click_id)).toEqual(['c-1']);
    expect(ports.events.rows.some((r) => 'type' in r.row)).toBe(false);
    expect(ports.events.appendCalls).toEqual([3]);
  });

  it('counts a batch in one feature-store call, leaving out duplicates and non-clicks', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-0'));
    const events = [
      { type: 'impression', ...impression('i-0') },
      { type: 'impression', ...impression('i-1') },
      { type: 'click', ...click('c-1', 'i-1') },
      { type: 'click', ...click('c-2', 'i-1', { clicked: false }) },
    ];

    // Act
    await app.events.batch(events);

    // Assess
    expect(ports.features.recordCalls).toEqual([1, 2]);
  });

  it('rejects one bad event with its error path and records the others', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const events = [
      { type: 'impression', ...impression('i-1') },
      { type: 'click', ...click('c-1', 'i-1') },
      { type: 'impression', ...impression('i-2', { timestamp: '2026-12-04T10:00:00' }) },
      { type: 'click', ...click('c-2', 'i-1') },
    ];

    // Act
    const results = await app.events.batch(events);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'rejected', 'accepted']);
    expect(results[2]).toEqual({
      index: 2,
      status: 'rejected',
      error: {
        detail: expect.stringContaining('events.2.timestamp'),
        errors: [{ path: 'events.2.timestamp', message: expect.any(String) }],
      },
    });
    expect(ports.events.rows).toHaveLength(3);
  });

  it('rejects an event in the future or too old with its own timestamp path', async () => {
    // Prepare
    const { app, ports } = makeApp();
    const events = [
      { type: 'impression', ...impression('i-1', { timestamp: at(6 * MINUTE) }) },
      { type: 'impression', ...impression('i-2') },
      { type: 'click', ...click('c-1', 'i-2', { timestamp: at(-401 * DAY) }) },
    ];

    // Act
    const results = await app.events.batch(events);

    // Assess
    expect(results[0]!.error!.errors).toEqual([
      { path: 'events.0.timestamp', message: 'is more than 5 minutes in the future' },
    ]);
    expect(results[1]).toEqual({ index: 1, status: 'accepted' });
    expect(results[2]!.error!.errors).toEqual([
      { path: 'events.2.timestamp', message: "is older than the lake's retention of 400 days" },
    ]);
    expect(ports.events.rows).toHaveLength(1);
  });

  it('rejects events with an unknown type, unknown fields or that are not objects', async () => {
    // Prepare
    const { app } = makeApp();
    const events = [{ type: 'view' }, { type: 'impression', ...impression('i-1'), bid: 1 }, 'text', null];

    // Act
    const results = await app.events.batch(events);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(results[0]!.error!.errors.map((e) => e.path)).toEqual(['events.0.type']);
    expect(results[1]!.error!.errors).toEqual([{ path: 'events.1.bid', message: 'is not a known field' }]);
  });

  it('reports a replayed event as duplicate, also inside one batch, and counts it once', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-1'));
    const events = [
      { type: 'impression', ...impression('i-1') },
      { type: 'impression', ...impression('i-2') },
      { type: 'impression', ...impression('i-2') },
    ];

    // Act
    const results = await app.events.batch(events);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['duplicate', 'accepted', 'duplicate']);
    expect(ports.features.ads.get('ad-1')!.impressions).toBe(2);
  });

  it('does not append anything when every event is rejected', async () => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const results = await app.events.batch([{ type: 'click' }]);

    // Assess
    expect(results[0]!.status).toBe('rejected');
    expect(ports.events.appendCalls).toEqual([]);
  });
});

describe('fraud checks on recorded events', () => {
  it('appends a suspicious_events row for a flagged click before answering, and does not count the click', async () => {
    // Prepare
    const { app, ports } = makeApp({ fraud: new RuleFraudDetector() });
    await app.events.impression(impression('i-1', { ip: IP, features: { site_id: 's42' } }));

    // Act
    const result = await app.events.click(click('c-1', 'i-1', { timestamp: at(-MINUTE + 200) }));

    // Assess
    expect(result).toEqual({ status: 'accepted', id: 'c-1' });
    const rows = ports.events.table('suspicious_events');
    expect(rows).toEqual([
      {
        event_id: 'c-1',
        event_type: 'click',
        rule: 'click_too_fast',
        score: expect.any(Number),
        user_id: hmacPseudonym('user', USER),
        ip: null,
        site_id: 's42',
        detail: expect.stringContaining('"delay_ms":200'),
        timestamp: new Date(at(-MINUTE + 200)),
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(USER);
    expect(ports.features.clickCalls).toEqual([]);
    expect(ports.features.ads.get('ad-1')).toEqual({ impressions: 1, clicks: 0 });
  });

  it('counts a click the rules do not flag', async () => {
    // Prepare
    const { app, ports } = makeApp({ fraud: new RuleFraudDetector() });
    await app.events.impression(impression('i-1'));

    // Act
    await app.events.click(click('c-1', 'i-1', { timestamp: at(-MINUTE + 8_000) }));

    // Assess
    expect(ports.events.table('suspicious_events')).toEqual([]);
    expect(ports.features.ads.get('ad-1')).toEqual({ impressions: 1, clicks: 1 });
  });

  it('shows the rules only fresh events, with pseudonyms and the site of the impression', async () => {
    // Prepare
    const { app, ports } = makeApp();
    await app.events.impression(impression('i-1', { ip: IP, features: { site_id: 's42' } }));

    // Act
    await app.events.batch([
      { type: 'impression', ...impression('i-1', { ip: IP, features: { site_id: 's42' } }) },
      { type: 'click', ...click('c-1', 'i-1') },
    ]);

    // Assess
    expect(ports.fraud.inspected).toEqual([
      [
        {
          kind: 'impression',
          id: 'i-1',
          userId: hmacPseudonym('user', USER),
          ip: hmacPseudonym('ip', IP),
          siteId: 's42',
          atMs: T0.getTime() - MINUTE,
        },
      ],
      [
        {
          kind: 'click',
          id: 'c-1',
          impressionId: 'i-1',
          userId: hmacPseudonym('user', USER),
          ip: null,
          clicked: true,
          atMs: T0.getTime() - MINUTE,
        },
      ],
    ]);
  });

  it('appends flags for earlier events too, leaving the counters of this batch alone', async () => {
    // Prepare
    const { app, ports } = makeApp();
    ports.fraud.flagWith = () => [
      {
        eventId: 'c-0',
        eventType: 'click',
        rule: 'site_ctr_outlier',
        rules: ['site_ctr_outlier'],
        score: 0.8,
        userId: null,
        ip: null,
        siteId: 's42',
        atMs: T0.getTime() - 2 * MINUTE,
        detail: {},
      },
    ];
    await app.events.impression(impression('i-1'));

    // Act
    await app.events.click(click('c-1', 'i-1'));

    // Assess
    expect(ports.events.table('suspicious_events').map((r) => r.event_id)).toEqual(['c-0']);
    expect(ports.features.ads.get('ad-1')).toEqual({ impressions: 1, clicks: 1 });
  });

  it('still acknowledges durable events when the fraud rules fail, and logs a warning', async () => {
    // Prepare
    const { app, ports } = makeApp();
    ports.fraud.failWith = new Error('detector broke');
    await app.events.impression(impression('i-1'));

    // Act
    const result = await app.events.click(click('c-1', 'i-1'));

    // Assess
    expect(result.status).toBe('accepted');
    expect(ports.events.table('clicks')).toHaveLength(1);
    expect(ports.features.ads.get('ad-1')).toEqual({ impressions: 1, clicks: 1 });
    expect(ports.logger.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'fraud detection failed' }),
    );
  });

  it('still acknowledges durable events when their flags cannot be appended, and logs an error', async () => {
    // Prepare
    const { app, ports } = makeApp({ fraud: new RuleFraudDetector() });
    const append = ports.events.append.bind(ports.events);
    ports.events.append = async (rows) => {
      if (rows.some((r) => r.table === 'suspicious_events')) throw new Error('disk full');
      return append(rows);
    };
    await app.events.impression(impression('i-1'));

    // Act
    const result = await app.events.click(click('c-1', 'i-1', { timestamp: at(-MINUTE + 10) }));

    // Assess
    expect(result.status).toBe('accepted');
    expect(ports.events.table('clicks')).toHaveLength(1);
    expect(ports.features.clickCalls).toEqual([]);
    expect(ports.logger.entries).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'suspicious events could not be appended' }),
    );
  });
});
