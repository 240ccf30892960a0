import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAUD_RULES, resolveFraudRules } from '../../../lambdas/core/fraud/config.js';
import { fraudEventFromLakeRow, siteIdOf, suspiciousEventRow } from '../../../lambdas/core/fraud/lake-rows.js';
import { LAKE_TABLES } from '../../../lambdas/core/lake/tables.js';
import type { FraudFlag } from '../../../lambdas/core/ports.js';

const AT = new Date('2026-12-04T10:00:00Z');

const flag: FraudFlag = {
  eventId: 'c-1',
  eventType: 'click',
  rule: 'click_too_fast',
  rules: ['duplicate_click', 'click_too_fast'],
  score: 0.92,
  userId: 'u_pseudonym',
  ip: null,
  siteId: 'site-7',
  atMs: AT.getTime(),
  detail: { delay_ms: 120, clicks_on_impression: 2 },
};

describe('flags and lake rows', () => {
  it('turns a flag into a suspicious_events row with every column of the table', () => {
    // Act
    const { table, row } = suspiciousEventRow(flag);

    // Assess
    expect(table).toBe('suspicious_events');
    expect(Object.keys(row).sort()).toEqual(LAKE_TABLES.suspicious_events.columns.map((c) => c.name).sort());
    expect(row).toMatchObject({ event_id: 'c-1', event_type: 'click', rule: 'click_too_fast', score: 0.92 });
    expect(row.timestamp).toEqual(AT);
    expect(JSON.parse(row.detail as string)).toEqual({
      rules: ['duplicate_click', 'click_too_fast'],
      delay_ms: 120,
      clicks_on_impression: 2,
    });
  });

  it('reads the fraud event of an impression row, with the site from its features JSON', () => {
    // Act
    const event = fraudEventFromLakeRow({
      table: 'ad_impressions',
      row: {
        impression_id: 'i-1',
        user_id: 'u_x',
        ad_id: 'ad-1',
        ip: 'ip_y',
        features: '{"site_id":"s42","position":1}',
        timestamp: '2026-12-04T10:00:00Z',
      },
    });

    // Assess
    expect(event).toEqual({
      kind: 'impression',
      id: 'i-1',
      userId: 'u_x',
      ip: 'ip_y',
      siteId: 's42',
      atMs: AT.getTime(),
    });
  });

  it('reads the fraud event of a click row and refuses rows it cannot use', () => {
    // Act
    const clickEvent = fraudEventFromLakeRow({
      table: 'clicks',
      row: { click_id: 'c-1', impression_id: 'i-1', user_id: null, ip: null, clicked: true, timestamp: AT },
    });
    const noTime = fraudEventFromLakeRow({ table: 'clicks', row: { click_id: 'c-1', impression_id: 'i-1' } });
    const otherTable = fraudEventFromLakeRow({ table: 'model_predictions', row: { timestamp: AT } });
    const badFeatures = fraudEventFromLakeRow({
      table: 'ad_impressions',
      row: { impression_id: 'i-1', user_id: 'u', features: '{not json', timestamp: AT },
    });

    // Assess
    expect(clickEvent).toEqual({
      kind: 'click',
      id: 'c-1',
      impressionId: 'i-1',
      userId: null,
      ip: null,
      clicked: true,
      atMs: AT.getTime(),
    });
    expect(noTime).toBeNull();
    expect(otherTable).toBeNull();
    expect(badFeatures).toMatchObject({ siteId: null });
  });

  it('takes a numeric site id as text and ignores other types', () => {
    // Assess
    expect(siteIdOf({ site_id: 17 })).toBe('17');
    expect(siteIdOf({ site_id: true })).toBeNull();
    expect(siteIdOf(undefined)).toBeNull();
  });
});

describe('the rules configuration', () => {
  it('takes overrides over the defaults', () => {
    // Act
    const config = resolveFraudRules({ maxIpClicksPerWindow: 50 });

    // Assess
    expect(config).toEqual({ ...DEFAULT_FRAUD_RULES, maxIpClicksPerWindow: 50 });
  });

  it('refuses a value outside its range, naming it', () => {
    // Assess
    expect(() => resolveFraudRules({ maxUserClicksPerWindow: 0 })).toThrow(/maxUserClicksPerWindow/);
    expect(() => resolveFraudRules({ rateWindowMs: 1.5 })).toThrow(RangeError);
    expect(() => resolveFraudRules({ siteFamilyAlpha: 1 })).toThrow(/siteFamilyAlpha/);
  });
});
