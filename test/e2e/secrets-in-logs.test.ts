/**
 * Secrets never reach the logs: the local server runs with a known admin token, known API keys
 * and a known pseudonymisation key file, takes traffic on every ingest route (by hand and through
 * `adclick simulate`), admin calls, refused and failed attempts at authentication, and a graceful
 * stop; then everything it wrote on stdout and stderr (and what the simulator printed) is searched
 * for each secret in every encoding it exists in. Configuration refusals that concern a secret
 * (a Redis URL with a password, a short token, a short key) are checked for echoes too.
 * The Lambda side: test/integration/handlers/secrets-in-logs.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, call, serverEnv, type TempDir, TSX, tempDir, timestampIn } from '../support/e2e-server.js';

const ADMIN_TOKEN = 'SeCrEt-admin-token-4f1c9a7e2b6d8053';
const API_KEYS = ['SeCrEt-api-key-one-7d2e91c4a0b3', 'SeCrEt-api-key-two-0b5f6a83d1c7'];
/** 32 bytes, written as the local key file holds them (hex). */
const KEY_HEX = '5ec2e7000b5e55ed5ec2e7000b5e55ed0123456789abcdeffedcba9876543210';
const REDIS_PASSWORD = 'SeCrEt-redis-pass-93ab17c0e2d4';

/** Every form in which a secret could leak: as given, and the key also as base64 and base64url. */
const SECRET_FORMS: Record<string, string> = {
  'admin token': ADMIN_TOKEN,
  'admin token (url-encoded)': encodeURIComponent(ADMIN_TOKEN),
  'first API key': API_KEYS[0]!,
  'second API key': API_KEYS[1]!,
  'pseudonymisation key (hex)': KEY_HEX,
  'pseudonymisation key (HEX)': KEY_HEX.toUpperCase(),
  'pseudonymisation key (base64)': Buffer.from(KEY_HEX, 'hex').toString('base64'),
  'pseudonymisation key (base64url)': Buffer.from(KEY_HEX, 'hex').toString('base64url'),
  'Redis password': REDIS_PASSWORD,
};

const leaks = (output: string) => Object.entries(SECRET_FORMS).filter(([, value]) => output.includes(value));

interface Run {
  readonly proc: ChildProcess;
  /** stdout and stderr, interleaved as they came. */
  output(): string;
  readonly exited: Promise<number | null>;
}

/** `tsx bin/adclick.ts ...args` in its own process group, stdout and stderr both captured. */
function run(args: string[], env: Record<string, string>): Run {
  const proc = spawn(TSX, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    output += d;
  });
  const exited = new Promise<number | null>((done) => proc.once('close', (code) => done(code)));
  return { proc, output: () => output, exited };
}

function killGroup(proc: ChildProcess | undefined): void {
  try {
    if (proc?.pid !== undefined && proc.exitCode === null) process.kill(-proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitForListening(server: Run): Promise<string> {
  for (let i = 0; i < 900; i++) {
    const m = /adclick listening on (http:\/\/\S+) /.exec(server.output());
    if (m?.[1]) return m[1];
    if (server.proc.exitCode !== null) throw new Error(`server exited:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready:\n${server.output()}`);
}

describe('the local server with known secrets, after traffic and failed authentication', () => {
  let dir: TempDir;
  let server: Run | undefined;
  let serverOutput = '';
  let simulatorOutput = '';
  let exitCode: number | null = null;
  const statuses: Record<string, number> = {};

  beforeAll(async () => {
    // Prepare: the key file in place before the first start, secrets in the environment
    dir = await tempDir('secrets');
    mkdirSync(dir.path, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir.path, 'pseudonymisation.key'), KEY_HEX, { mode: 0o600 });
    server = run(
      ['serve'],
      serverEnv(dir.path, {
        ADCLICK_LOG_LEVEL: 'info',
        ADCLICK_ADMIN_TOKEN: ADMIN_TOKEN,
        ADCLICK_API_KEYS: API_KEYS.join(','),
      }),
    );
    const base = await waitForListening(server);
    const [key] = API_KEYS;
    const ts = timestampIn(0);

    // Act: every ingest route with a key, admin calls with the token...
    const predicted = await call(base, 'POST', '/predict', {
      apiKey: key,
      body: { user_id: 'secret-scan-user', ad_id: 'ad-1', request_id: 'secret-scan-1', explain: true },
    });
    statuses.predict = predicted.status;
    statuses.batch = (
      await call(base, 'POST', '/predict/batch', {
        apiKey: API_KEYS[1],
        body: { user_id: 'secret-scan-user', ads: [{ ad_id: 'ad-1' }, { ad_id: 'ad-2' }] },
      })
    ).status;
    statuses.impression = (
      await call(base, 'POST', '/event/impression', {
        apiKey: key,
        body: {
          impression_id: 'secret-imp-1',
          prediction_id: predicted.json?.prediction_id,
          user_id: 'secret-scan-user',
          ad_id: 'ad-1',
          ip: '198.51.100.7',
          timestamp: ts,
        },
      })
    ).status;
    statuses.click = (
      await call(base, 'POST', '/event/click', {
        apiKey: key,
        body: { click_id: 'secret-clk-1', impression_id: 'secret-imp-1', clicked: true, timestamp: ts },
      })
    ).status;
    statuses.eventBatch = (
      await call(base, 'POST', '/event/batch', {
        apiKey: key,
        body: {
          events: [
            {
              type: 'impression',
              impression_id: 'secret-imp-2',
              user_id: 'secret-scan-user',
              ad_id: 'ad-2',
              timestamp: ts,
            },
            { type: 'click', click_id: 'secret-clk-2', impression_id: 'secret-imp-2', clicked: true, timestamp: ts },
          ],
        },
      })
    ).status;
    statuses.models = (await call(base, 'GET', '/models', { token: ADMIN_TOKEN })).status;
    statuses.badAd = (await call(base, 'PUT', '/ads/ad-1', { token: ADMIN_TOKEN, body: { bad: true } })).status;

    // ... failed authentication with near-misses of every secret (a logged attempt would show it)
    const refused = [
      await call(base, 'POST', '/predict', { apiKey: `${key}x`, body: { user_id: 'u', ad_id: 'a' } }),
      await call(base, 'POST', '/predict', { apiKey: KEY_HEX, body: { user_id: 'u', ad_id: 'a' } }),
      await call(base, 'POST', '/event/batch', { apiKey: ADMIN_TOKEN, body: { events: [] } }),
      await call(base, 'GET', '/models', { token: `${ADMIN_TOKEN}x` }),
      await call(base, 'GET', '/models', { token: key }),
      await call(base, 'GET', '/models', { token: KEY_HEX }),
      await call(base, 'GET', '/models', { headers: { authorization: `Basic ${ADMIN_TOKEN}` } }),
      await call(base, 'GET', `/models/${encodeURIComponent(REDIS_PASSWORD)}`, { token: `${REDIS_PASSWORD}` }),
    ];
    statuses.refused = refused.filter((r) => r.status === 401).length;

    // ... and the simulator, which holds the token and a key too
    const simulator = run(
      [
        'simulate',
        '--server',
        base,
        '--token',
        ADMIN_TOKEN,
        '--api-key',
        key!,
        '--requests',
        '60',
        '--fraud',
        '0.05',
        '--run-id',
        'secrets',
        '--json',
        '--no-progress',
      ],
      { ADCLICK_DATA_DIR: dir.path },
    );
    statuses.simulator = (await simulator.exited) ?? -1;
    simulatorOutput = simulator.output();

    // a graceful stop: shutdown and flush messages are in the output too
    server.proc.kill('SIGTERM');
    exitCode = await server.exited;
    serverOutput = server.output();
  }, 180_000);

  afterAll(async () => {
    killGroup(server?.proc);
    await dir?.cleanup();
  });

  it('served the traffic, refused every bad credential and stopped gracefully', () => {
    // Assess
    expect(statuses).toEqual({
      predict: 200,
      batch: 200,
      impression: 202,
      click: 202,
      eventBatch: 200,
      models: 200,
      badAd: 400,
      refused: 8,
      simulator: 0,
    });
    expect(exitCode).toBe(0);
  });

  it('logged at info level (a control: the scan reads real log lines)', () => {
    // Assess
    expect(serverOutput).toContain('adclick listening on');
    expect(serverOutput).toMatch(/"level":"INFO"/);
    expect(simulatorOutput).toContain('"requests"');
  });

  it('writes none of the secrets, in any encoding, on stdout or stderr', () => {
    // Assess
    expect(leaks(serverOutput).map(([name]) => name)).toEqual([]);
    expect(leaks(simulatorOutput).map(([name]) => name)).toEqual([]);
  });
});

describe('configuration refusals that concern a secret', () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir('secrets-config');
  });

  afterAll(async () => {
    await dir?.cleanup();
  });

  it.each([
    ['a Redis URL with a password', { REDIS_URL: `redis://default:${REDIS_PASSWORD}@127.0.0.1:6379/0` }],
    ['an admin token shorter than 16 characters', { ADCLICK_ADMIN_TOKEN: 'SeCrEt-short' }],
    ['an API key shorter than 16 characters', { ADCLICK_API_KEYS: `${API_KEYS[0]},SeCrEt-short` }],
  ])('refuses %s (exit 2) without echoing the value', async (_, extra) => {
    // Act
    const refused = run(['serve'], serverEnv(join(dir.path, 'data'), { ADCLICK_LOG_LEVEL: 'info', ...extra }));
    const code = await refused.exited;

    // Assess
    expect(code, refused.output()).toBe(2);
    expect(refused.output()).toContain('Invalid configuration');
    expect(refused.output()).not.toContain('SeCrEt');
  });
});
