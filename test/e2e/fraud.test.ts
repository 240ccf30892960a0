import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import {
  call,
  lakeTable,
  queryDuckDb,
  startInProcess,
  type TempDir,
  tempDir,
  timestampIn,
} from '../support/e2e-server.js';

const BOT_IP = '198.51.100.23';
const HONEST_IP = '198.51.100.77';
const BURST = 40;

describe('click fraud through the local server', () => {
  let dir: TempDir;
  let server: LocalRuntime | undefined;
  const statuses: number[] = [];

  beforeAll(async () => {
    // Prepare: one honest click, then a burst of clicks from one IP, each on its own impression
    dir = await tempDir('fraud');
    server = await startInProcess(dir.path);
    const base = server.url;
    const impressions = Array.from({ length: BURST + 1 }, (_, n) => ({
      type: 'impression',
      impression_id: `fraud-imp-${n}`,
      user_id: `fraud-user-${n}`,
      ad_id: `ad-${n % 3}`,
      timestamp: timestampIn(-60_000),
      ip: n === BURST ? HONEST_IP : BOT_IP,
      features: { site_id: 'site-e2e' },
    }));
    statuses.push((await call(base, 'POST', '/event/batch', { body: { events: impressions } })).status);
    const honest = await call(base, 'POST', '/event/click', {
      body: {
        click_id: 'fraud-clk-honest',
        impression_id: `fraud-imp-${BURST}`,
        user_id: `fraud-user-${BURST}`,
        ip: HONEST_IP,
        clicked: true,
        timestamp: timestampIn(-50_000),
      },
    });
    statuses.push(honest.status);
    for (let n = 0; n < BURST; n++) {
      const res = await call(base, 'POST', '/event/click', {
        body: {
          click_id: `fraud-clk-${n}`,
          impression_id: `fraud-imp-${n}`,
          user_id: `fraud-user-${n}`,
          ip: BOT_IP,
          clicked: true,
          timestamp: timestampIn(-50_000 + n * 100),
        },
      });
      statuses.push(res.status);
    }
    // Closing flushes the event log and compacts it into the Parquet lake.
    await server.close();
  });

  afterAll(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('acknowledges every event, flagged or not', () => {
    // Assess
    expect(statuses).toEqual([200, ...Array.from({ length: BURST + 1 }, () => 202)]);
  });

  it('holds a suspicious_events row for every click of the burst, and none for the honest click', async () => {
    // Act
    const rows = await queryDuckDb(
      `SELECT event_id, event_type, rule, score, ip, site_id, detail FROM ${lakeTable(dir.path, 'suspicious_events')} ORDER BY event_id`,
    );

    // Assess
    expect(rows.map((r) => r.event_id)).toEqual(Array.from({ length: BURST }, (_, n) => `fraud-clk-${n}`).sort());
    for (const row of rows) {
      expect(row).toMatchObject({ event_type: 'click', rule: 'ip_click_rate', site_id: 'site-e2e' });
      expect(row.score).toBeGreaterThanOrEqual(0.5);
      expect(row.ip).toMatch(/^ip_/);
      expect(JSON.parse(row.detail as string)).toMatchObject({ rules: ['ip_click_rate'], ip_limit: 30 });
    }
    expect(JSON.stringify(rows)).not.toContain(BOT_IP);
  });

  it('keeps the flagged clicks in the clicks table too', async () => {
    // Act
    const rows = await queryDuckDb(
      `SELECT CAST(count(*) AS INTEGER) AS n FROM ${lakeTable(dir.path, 'clicks')} WHERE click_id LIKE 'fraud-clk-%'`,
    );

    // Assess
    expect(rows[0]!.n).toBe(BURST + 1);
  });
});
