/**
 * The local server's interval retrain, run against a stand-in for `adclick` (a node script that
 * records how it was called and answers as the real command does), with the interval on fake
 * timers: what is run, with which flags, how the outcome is logged, and one run at a time.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RetrainSchedule, startRetrainSchedule } from '../../../lambdas/server/retrain-schedule.js';
import { RecordingLogger } from '../../support/memory-ports.js';

const SUMMARY = {
  model: { model_id: 'm_2', status: 'challenger' },
  gate: { passed: true, reasons: [] },
  candidate: { logloss: 0.0998 },
  champion: { logloss: 0.1006 },
  activation: null,
};

/** Records argv and the token it was given, then behaves as `MODE` says. */
const STAND_IN = `
const { appendFileSync } = require('node:fs');
appendFileSync(process.env.CALLS, JSON.stringify({ argv: process.argv.slice(2), token: process.env.ADCLICK_ADMIN_TOKEN }) + '\\n');
const mode = process.env.MODE;
if (mode === 'ok') process.stdout.write(process.env.SUMMARY);
if (mode === 'fail') { process.stderr.write('building the training set\\nno labelled impressions in the range\\n'); process.exit(2); }
if (mode === 'hang') setInterval(() => {}, 1000);
`;

describe('retraining on an interval', () => {
  let dir: string;
  let schedule: RetrainSchedule | undefined;
  const logger = new RecordingLogger();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adclick-retrain-schedule-'));
    await writeFile(join(dir, 'adclick.cjs'), STAND_IN);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    logger.entries.length = 0;
  });

  afterEach(async () => {
    await schedule?.stop();
    schedule = undefined;
    vi.useRealTimers();
    for (const name of ['CALLS', 'MODE', 'SUMMARY']) delete process.env[name];
    await rm(dir, { recursive: true, force: true });
  });

  const start = (mode: string, options: { activate?: boolean; warmStart?: boolean } = {}) => {
    process.env.CALLS = join(dir, 'calls.jsonl');
    process.env.MODE = mode;
    process.env.SUMMARY = JSON.stringify(SUMMARY);
    schedule = startRetrainSchedule({
      minutes: 30,
      activate: options.activate ?? false,
      ...(options.warmStart === undefined ? {} : { warmStart: options.warmStart }),
      url: 'http://127.0.0.1:3999',
      dataDir: '/srv/adclick',
      adminToken: 'admin-token-0123456789',
      logger,
      command: { executable: process.execPath, args: [join(dir, 'adclick.cjs')] },
    });
  };
  const calls = async () =>
    (await readFile(join(dir, 'calls.jsonl'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { argv: string[]; token: string });
  const logged = (message: string) => logger.entries.filter((e) => e.message === message);

  it('runs nothing before the first interval has passed', async () => {
    // Act
    start('ok');
    vi.advanceTimersByTime(29 * 60_000);

    // Assess
    expect(await calls()).toEqual([]);
  });

  it('runs `retrain --json` against the server each interval, the token in its environment only', async () => {
    // Prepare
    start('ok', { activate: true, warmStart: true });

    // Act
    vi.advanceTimersByTime(30 * 60_000);
    await vi.waitFor(() => expect(logged('retrain finished')).toHaveLength(1), { timeout: 10_000 });

    // Assess
    const [call] = await calls();
    expect(call!.argv).toEqual([
      'retrain',
      '--json',
      '--server',
      'http://127.0.0.1:3999',
      '--data-dir',
      '/srv/adclick',
      '--activate',
      '--warm-start',
    ]);
    expect(call!.token).toBe('admin-token-0123456789');
    expect(call!.argv.join(' ')).not.toContain('admin-token');
    expect(logged('retrain finished')[0]!.fields).toMatchObject({
      model_id: 'm_2',
      gate_passed: true,
      candidate_logloss: 0.0998,
      champion_logloss: 0.1006,
      activated: false,
    });
  });

  it('trains fresh and does not activate unless configured', async () => {
    // Prepare
    start('ok');

    // Act
    vi.advanceTimersByTime(30 * 60_000);
    await vi.waitFor(() => expect(logged('retrain finished')).toHaveLength(1), { timeout: 10_000 });

    // Assess
    const [call] = await calls();
    expect(call!.argv).not.toContain('--activate');
    expect(call!.argv).not.toContain('--warm-start');
  });

  it('logs a failed run with its exit code and the last line it wrote, and runs again next interval', async () => {
    // Prepare
    start('fail');

    // Act
    vi.advanceTimersByTime(30 * 60_000);
    await vi.waitFor(() => expect(logged('retrain failed')).toHaveLength(1), { timeout: 10_000 });
    vi.advanceTimersByTime(30 * 60_000);
    await vi.waitFor(() => expect(logged('retrain failed')).toHaveLength(2), { timeout: 10_000 });

    // Assess
    expect(logged('retrain failed')[0]!.fields).toEqual({
      exit_code: 2,
      reason: 'no labelled impressions in the range',
    });
  });

  it('skips a tick while the previous run is still going, and stop() ends the run', async () => {
    // Prepare
    start('hang');
    const idleBefore = schedule!.busy;
    vi.advanceTimersByTime(30 * 60_000);
    await vi.waitFor(async () => expect(await calls()).toHaveLength(1), { timeout: 10_000 });

    // Act
    vi.advanceTimersByTime(30 * 60_000);
    const busyDuring = schedule!.busy;
    const stopping = schedule!;
    await stopping.stop();
    schedule = undefined;

    // Assess
    expect([idleBefore, busyDuring, stopping.busy]).toEqual([false, true, false]);
    expect(await calls()).toHaveLength(1);
    expect(logged('retrain skipped: the previous run is still going')).toHaveLength(1);
    expect(logged('retrain failed')).toHaveLength(1);
  });
});
