import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allFiles,
  CLI,
  call,
  lakeTable,
  lakeTablesWithFiles,
  queryDuckDb,
  type ServerProcess,
  spawnServer,
  stopHard,
  type TempDir,
  TSX,
  tempDir,
  timestampIn,
} from '../support/e2e-server.js';

const USERS = Array.from({ length: 12 }, (_, n) => `raw-user-7f3a9c-${n}`);
const USER_MARKER = 'raw-user-7f3a9c';
const IPV4 = '203.0.113.199';
const IPV6 = '2001:db8:7f3a:9c::beef';
/** Every raw value that must never be stored or logged. */
const RAW = [...USERS, USER_MARKER, IPV4, IPV6];
/**
 * The raw ids `adclick simulate` sends (sagemaker/traffic: users `u_000123`, bots `bot_7`, IPs
 * `10.x.y.z`); pseudonyms are `u_` + 22 base64url characters and `ip_…`, so a match is a raw id.
 */
const SIMULATED_RAW = [/u_\d{6}(?![A-Za-z0-9_-])/, /bot_\d+/, /(?<![\d.])10\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])/];

/** `adclick simulate` against `base` through the CLI: a realistic mix on /predict/batch and /event/batch. */
function simulate(base: string, token: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(
      TSX,
      [
        CLI,
        'simulate',
        '--server',
        base,
        '--token',
        token,
        '--requests',
        '150',
        '--fraud',
        '0.1',
        '--json',
        '--no-progress',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      output += d;
    });
    child.once('close', (code) => done({ code, output }));
  });
}

describe('pseudonymisation: no raw user id or IP anywhere', () => {
  let dir: TempDir;
  let server: ServerProcess | undefined;
  let stderr = '';
  let exitCode: number | null = null;
  let simulation: { code: number | null; output: string } = { code: null, output: '' };

  beforeAll(async () => {
    // Prepare: a server (logging at info) that sees traffic from distinctive users and an IP
    dir = await tempDir('privacy');
    server = await spawnServer(dir.path, { ADCLICK_LOG_LEVEL: 'info' });
    const base = server.url;
    for (const [n, user] of USERS.entries()) {
      const ip = n % 2 === 0 ? IPV4 : IPV6;
      const predicted = await call(base, 'POST', '/predict', {
        body: {
          user_id: user,
          ad_id: `ad-${n % 3}`,
          request_id: `priv-req-${n}`,
          explain: true,
          consent: n % 4 !== 3,
          features: { device_type: 'mobile', position: n % 5 },
        },
      });
      const batch = await call(base, 'POST', '/predict/batch', {
        body: { user_id: user, explain: true, ads: [{ ad_id: 'ad-a' }, { ad_id: 'ad-b' }] },
      });
      const imp = await call(base, 'POST', '/event/impression', {
        body: {
          impression_id: `priv-imp-${n}`,
          prediction_id: predicted.json.prediction_id,
          user_id: user,
          ad_id: `ad-${n % 3}`,
          timestamp: timestampIn(0),
          device_type: 'mobile',
          ip,
        },
      });
      const click = await call(base, 'POST', '/event/click', {
        body: {
          click_id: `priv-clk-${n}`,
          impression_id: `priv-imp-${n}`,
          user_id: user,
          ip,
          clicked: n % 2 === 0,
          timestamp: timestampIn(0),
        },
      });
      const events = await call(base, 'POST', '/event/batch', {
        body: {
          events: [
            {
              type: 'impression',
              impression_id: `priv-bimp-${n}`,
              user_id: user,
              ad_id: 'ad-b',
              ip,
              timestamp: timestampIn(0),
            },
            {
              type: 'click',
              click_id: `priv-bclk-${n}`,
              impression_id: `priv-bimp-${n}`,
              user_id: user,
              ip,
              clicked: true,
              timestamp: timestampIn(0),
            },
            // refused events carry raw ids too: they must not reach the log either
            {
              type: 'impression',
              impression_id: `priv-bad-${n}`,
              user_id: user,
              ad_id: 'ad-b',
              ip,
              timestamp: timestampIn(3_600_000),
            },
          ],
        },
      });
      // refused requests with raw ids: a reused request_id (409), an unknown key (400)
      const conflict = await call(base, 'POST', '/predict', {
        body: { user_id: `${user}-other`, ad_id: `ad-${n % 3}`, request_id: `priv-req-${n}` },
      });
      const invalid = await call(base, 'POST', '/event/impression', {
        body: { impression_id: `priv-inv-${n}`, user_id: user, ad_id: 'a', ip, timestamp: timestampIn(0), extra: user },
      });
      const statuses = [predicted, batch, imp, click, events, conflict, invalid].map((r) => r.status);
      expect(statuses).toEqual([200, 200, 202, 202, 200, 409, 400]);
    }
    // ... then simulated traffic (bots and injected fraud included) through the CLI
    simulation = await simulate(base, (await readFile(join(dir.path, 'admin-token'), 'utf8')).trim());
    // ... then a graceful stop, which exports the prediction log and compacts the event log
    server.terminate();
    exitCode = (await server.exited).code;
    stderr = server.stderr();
  });

  afterAll(async () => {
    await stopHard(server);
    await dir?.cleanup();
  });

  it('stopped gracefully after the traffic', () => {
    // Assess
    expect(exitCode).toBe(0);
  });

  it('ran the simulation without a failed request', () => {
    // Assess
    expect(simulation.code, simulation.output).toBe(0);
    expect(JSON.parse(simulation.output)).toMatchObject({ requests: 150, failed_requests: 0, server_errors: 0 });
  });

  it("stores none of the simulation's raw user ids or IPs in any file of the data dir", async () => {
    // Prepare
    const files = await allFiles(dir.path);

    // Act
    const hits: string[] = [];
    let controlFound = false;
    for (const file of files) {
      const text = (await readFile(file)).toString('latin1');
      // a control: the simulation's impression ids (not personal) are found by the same read
      controlFound ||= text.includes('sim-');
      for (const pattern of SIMULATED_RAW) {
        const m = pattern.exec(text);
        if (m) hits.push(`${file.slice(dir.path.length)}: ${m[0]}`);
      }
    }

    // Assess
    expect(controlFound).toBe(true);
    expect(SIMULATED_RAW.map((p) => p.test('{"user_id":"u_000123","ip":"10.0.1.2"} bot_7'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(hits).toEqual([]);
  });

  it('stores no raw user id or IP in any byte of any file of the data dir', async () => {
    // Prepare
    const files = await allFiles(dir.path);

    // Act
    const hits: string[] = [];
    let controlFound = false;
    for (const file of files) {
      const bytes = await readFile(file);
      // a control: non-personal ids sent alongside are found by the same scan
      controlFound ||= bytes.includes(Buffer.from('priv-req-'));
      for (const raw of RAW) {
        for (const encoding of ['utf8', 'utf16le'] as const) {
          if (bytes.includes(Buffer.from(raw, encoding)))
            hits.push(`${file.slice(dir.path.length)}: ${raw} (${encoding})`);
        }
      }
    }

    // Assess
    expect(files.some((f) => f.endsWith('adclick.sqlite'))).toBe(true);
    expect(files.some((f) => f.endsWith('.parquet'))).toBe(true);
    expect(controlFound).toBe(true);
    expect(hits).toEqual([]);
  });

  it('holds no raw id in any string column of any lake table (Parquet pages may be compressed)', async () => {
    // Prepare
    const tables = await lakeTablesWithFiles(dir.path);

    // Act
    const hits: string[] = [];
    for (const table of tables) {
      const source = lakeTable(dir.path, table);
      const columns = await queryDuckDb(`DESCRIBE SELECT * FROM ${source}`);
      const strings = columns.filter((c) => c.column_type === 'VARCHAR').map((c) => c.column_name as string);
      for (const column of strings) {
        const rows = await queryDuckDb(
          `SELECT CAST(count(*) AS INTEGER) AS n FROM ${source} WHERE ${[
            ...RAW.map((raw) => `contains("${column}", '${raw}')`),
            `regexp_matches("${column}", '(^|[^A-Za-z0-9_-])(u_[0-9]{6}|bot_[0-9]+)($|[^A-Za-z0-9_-])')`,
            `regexp_matches("${column}", '^10[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$')`,
          ].join(' OR ')}`,
        );
        if ((rows[0]?.n as number) > 0) hits.push(`${table}.${column}: ${rows[0]?.n} rows`);
      }
    }

    // Assess
    expect(tables).toEqual(expect.arrayContaining(['ad_impressions', 'clicks', 'model_predictions']));
    expect(hits).toEqual([]);
  });

  it('stores user ids and IPs as keyed pseudonyms in the lake', async () => {
    // Act
    const impressions = await queryDuckDb(
      `SELECT user_id, ip FROM ${lakeTable(dir.path, 'ad_impressions')} WHERE impression_id LIKE 'priv-%'`,
    );
    const predictions = await queryDuckDb(
      `SELECT user_id, consent FROM ${lakeTable(dir.path, 'model_predictions')} WHERE request_id LIKE 'priv-req-%'`,
    );

    // Assess
    expect(impressions).toHaveLength(USERS.length * 2);
    for (const row of impressions) {
      expect(row.user_id).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
      expect(row.ip).toMatch(/^ip_[A-Za-z0-9_-]{22}$/);
    }
    expect(predictions).toHaveLength(USERS.length);
    for (const row of predictions) {
      if (row.consent) expect(row.user_id).toMatch(/^u_/);
      else expect(row.user_id).toBeNull();
    }
  });

  it('keeps the key file and the admin token file private to the owner (0600)', async () => {
    // Act
    const key = await stat(join(dir.path, 'pseudonymisation.key'));
    const token = await stat(join(dir.path, 'admin-token'));

    // Assess
    expect((key.mode & 0o777).toString(8)).toBe('600');
    expect((token.mode & 0o777).toString(8)).toBe('600');
  });

  it('writes no raw user id or IP to its log on stderr', () => {
    // Assess
    expect(stderr).toContain('adclick listening on');
    expect(RAW.filter((raw) => stderr.includes(raw))).toEqual([]);
    expect(SIMULATED_RAW.filter((pattern) => pattern.test(stderr))).toEqual([]);
  });
});
