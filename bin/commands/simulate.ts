/**
 * `adclick simulate`: drives a running server with the simulated world's traffic (docs/simulate.md).
 *
 * Event time is simulated: the run covers a window of event time that ends now by default (or
 * starts at --start), compressed into the real time the run takes. Impressions are labelled for
 * training only once their one-hour attribution window has passed, so a window that reaches an
 * hour or more into the past leaves labelled examples for `adclick retrain` at once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { MAX_SLOTS } from '../../sagemaker/traffic/index.js';
import { TrafficRun } from './simulate-run.js';
import { type Plan, Stats, summaryJson, summaryText } from './simulate-summary.js';

/** The server refuses events more than 5 minutes ahead of its clock; clicks come up to 2 minutes after the window. */
const MAX_END_AHEAD_MS = 2 * 60_000;
/** Raw event tables are kept 400 days: stay inside with a day to spare. */
const MAX_AGE_MS = 399 * 86_400_000;
const MAX_REQUESTS = 100_000_000;
/** Drift in logit units when --drift is given without a value (the odds of a category × e^±0.8). */
export const DEFAULT_DRIFT = 0.8;
const DEFAULT_RATE = 5;
const DEFAULT_REQUESTS = 1000;
const DEFAULT_SPEED_WITH_DURATION = 60;

// ---------------------------------------------------------------- argument parsers

function ranged(kind: 'integer' | 'number', min: number, max: number, exclusiveMin = false) {
  return (value: string): number => {
    const x = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(x) &&
      (kind === 'number' || Number.isInteger(x)) &&
      (exclusiveMin ? x > min : x >= min) &&
      x <= max;
    if (!ok)
      throw new InvalidArgumentError(
        `expected ${kind === 'integer' ? 'an integer' : 'a number'} in ${exclusiveMin ? '(' : '['}${min}, ${max}]`,
      );
    return x;
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A span of event time: `90m`, `3h`, `45s`, `2d`, or plain seconds. */
export function parseSpan(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] ?? 's']! : Number.NaN;
  if (!(ms >= 1000 && ms <= MAX_AGE_MS)) {
    throw new InvalidArgumentError('expected a span like 90s, 45m, 3h or 2d, between 1 s and 399 days');
  }
  return ms;
}

function parseTime(value: string): number {
  const ms = Date.parse(value);
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('expected an RFC 3339 time with a zone, e.g. 2026-12-04T10:00:00Z');
  }
  return ms;
}

function parseSpeed(value: string): number | null {
  if (value === 'max') return null;
  return ranged('number', 0, 1_000_000, true)(value);
}

// ---------------------------------------------------------------- the plan

export interface SimulateOptions {
  readonly server: string;
  readonly url?: string;
  readonly token?: string;
  readonly dataDir: string;
  readonly apiKey?: string;
  readonly requests?: number;
  readonly duration?: number;
  readonly span?: number;
  readonly rate?: number;
  readonly speed?: number | null;
  readonly start?: number;
  readonly concurrency: number;
  readonly seed: number;
  readonly worldSeed: number;
  readonly users: number;
  readonly ads: number;
  readonly sites: number;
  readonly candidates: number;
  readonly show?: number;
  readonly fraud: number;
  readonly drift?: number | boolean;
  readonly driftAt?: number;
  readonly runId?: string;
  readonly register: boolean;
  readonly json: boolean;
  readonly progress: boolean;
}

/** Resolves the options into a plan, or throws an Error whose message is one line saying what is wrong. */
export function planRun(o: SimulateOptions, nowMs: number): Plan {
  if (o.requests !== undefined && o.duration !== undefined) throw new Error('give --requests or --duration, not both');
  if (o.duration !== undefined && o.span !== undefined) {
    throw new Error('--span is --duration × --speed with --duration; give --speed instead');
  }
  if (o.span !== undefined && o.rate !== undefined && o.requests !== undefined) {
    throw new Error('give two of --requests, --span and --rate, not all three');
  }
  if (o.duration !== undefined && o.speed === null) throw new Error('--duration needs a finite --speed');
  const rate = o.rate ?? DEFAULT_RATE;
  let requests: number;
  let spanMs: number;
  if (o.duration !== undefined) {
    spanMs = o.duration * 1000 * (o.speed ?? DEFAULT_SPEED_WITH_DURATION);
    requests = Math.max(1, Math.round((rate * spanMs) / 1000));
  } else if (o.span !== undefined && o.requests === undefined) {
    spanMs = o.span;
    requests = Math.max(1, Math.round((rate * spanMs) / 1000));
  } else {
    requests = o.requests ?? DEFAULT_REQUESTS;
    spanMs = o.span ?? Math.max(1000, (requests / rate) * 1000);
  }
  if (requests > MAX_REQUESTS) throw new Error(`that is ${requests} requests; at most ${MAX_REQUESTS} a run`);
  if (spanMs > MAX_AGE_MS) throw new Error('the simulated window is longer than the lake keeps events (399 days)');
  const startMs = Math.round(o.start ?? nowMs - spanMs);
  const endMs = Math.round(startMs + spanMs);
  if (endMs > nowMs + MAX_END_AHEAD_MS) {
    throw new Error(
      `the simulated window would end at ${new Date(endMs).toISOString()}, more than 2 minutes from now: the server refuses events over 5 minutes ahead`,
    );
  }
  if (startMs < nowMs - MAX_AGE_MS) throw new Error('--start is older than the lake keeps events (399 days)');
  const show = o.show ?? o.candidates;
  if (show > o.candidates) throw new Error(`--show ${show} is more than --candidates ${o.candidates}`);
  const drift = o.drift === true ? DEFAULT_DRIFT : typeof o.drift === 'number' ? o.drift : 0;
  const runId = o.runId ?? randomBytes(4).toString('hex');
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(runId)) throw new Error('--run-id must be 1-40 letters, digits, _ or -');
  return {
    server: (o.url ?? o.server).replace(/\/+$/, ''),
    runId,
    requests,
    startMs,
    endMs,
    speed: o.duration !== undefined ? (o.speed ?? DEFAULT_SPEED_WITH_DURATION) : (o.speed ?? null),
    durationSeconds: o.duration ?? null,
    concurrency: o.concurrency,
    seed: o.seed,
    worldSeed: o.worldSeed,
    users: o.users,
    ads: o.ads,
    sites: o.sites,
    candidates: o.candidates,
    show,
    fraud: o.fraud,
    drift,
    driftAtMs: o.driftAt ?? null,
    register: o.register,
  };
}

function adminToken(o: SimulateOptions): string | undefined {
  if (o.token) return o.token;
  if (process.env.ADCLICK_ADMIN_TOKEN) return process.env.ADCLICK_ADMIN_TOKEN;
  const file = join(o.dataDir, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

function apiKey(o: SimulateOptions): string | undefined {
  if (o.apiKey) return o.apiKey;
  if (process.env.ADCLICK_API_KEY) return process.env.ADCLICK_API_KEY;
  // The server's own list: on the machine that runs it, any of its keys will do.
  return process.env.ADCLICK_API_KEYS?.split(',')
    .map((k) => k.trim())
    .find((k) => k !== '');
}

// ---------------------------------------------------------------- the command

export async function simulate(o: SimulateOptions): Promise<number> {
  const plan = planRun(o, Date.now());
  const token = plan.register ? adminToken(o) : undefined;
  if (plan.register && !token) {
    throw new Error(
      'no admin token to register the ads: pass --token, set ADCLICK_ADMIN_TOKEN, point --data-dir at the server data dir, or pass --no-register',
    );
  }
  const stats = new Stats();
  const bar =
    o.progress && process.stderr.isTTY === true
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: true,
            format:
              'simulate [{bar}] {value}/{total} requests | {impressions} impressions | {clicks} clicks | errors {errors} | {duration_formatted} eta {eta_formatted}',
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const run = new TrafficRun(plan, stats, { apiKey: apiKey(o), token }, () =>
    bar?.update(stats.requests, {
      impressions: stats.impressions.accepted,
      clicks: stats.clicks.accepted,
      errors: [...stats.errors.values()].reduce((a, b) => a + b, 0),
    }),
  );

  const print = () => {
    bar?.stop();
    const truth = run.generator.truth;
    process.stdout.write(
      o.json ? `${JSON.stringify(summaryJson(plan, stats, truth), null, 2)}\n` : summaryText(plan, stats, truth),
    );
  };
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    stats.interrupted = true;
    if (interrupts > 1) {
      print();
      process.exit(130);
    }
    process.stderr.write(
      '\nstopping: finishing the requests in flight and sending the waiting clicks (Ctrl-C again to quit now)\n',
    );
    run.stop();
  };
  process.on('SIGINT', onInterrupt);
  try {
    if (plan.register) await run.registerAds();
    bar?.start(plan.requests, 0, { impressions: 0, clicks: 0, errors: 0 });
    await run.run();
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  print();
  if (stats.serverErrors > 0) {
    process.stderr.write(`adclick simulate: the server answered ${stats.serverErrors} requests with a 5xx\n`);
  }
  return stats.interrupted ? 130 : 0;
}

export function defineSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .summary('drive a running server with simulated traffic whose true click probability is known')
    .description(
      [
        "Drive a running server with simulated traffic (docs/simulate.md): register the ads of the bootstrap model's simulated world, then for each page view predict its candidate ads, report the impressions of the ads shown and, later, the clicks drawn from their true probability.",
        'Event time is simulated: the run covers a window that ends now (or starts at --start), of --requests / --rate seconds, or --span, or --duration × --speed. Impressions become training examples once their one-hour attribution window has passed: for `adclick retrain` right after the run, make the window reach back more than an hour (e.g. --span 3h).',
      ].join('\n\n'),
    )
    .option('--server <url>', 'server base URL (env ADCLICK_URL)', process.env.ADCLICK_URL ?? 'http://127.0.0.1:3000')
    .addOption(new Option('--url <url>', 'same as --server').hideHelp())
    .option('--token <token>', 'admin bearer token, to register the ads (env ADCLICK_ADMIN_TOKEN; default: --data-dir)')
    .option(
      '--data-dir <dir>',
      'local data dir to read the admin token from (env ADCLICK_DATA_DIR)',
      process.env.ADCLICK_DATA_DIR ?? './.adclick',
    )
    .option(
      '--api-key <key>',
      'x-api-key for /predict and /event (env ADCLICK_API_KEY, or the first of ADCLICK_API_KEYS)',
    )
    .option('--requests <n>', `page views to send (default ${DEFAULT_REQUESTS})`, ranged('integer', 1, MAX_REQUESTS))
    .option(
      '--duration <seconds>',
      'run for this long in real time instead (window = duration × speed)',
      ranged('number', 0, 86_400, true),
    )
    .option('--span <span>', 'length of the simulated window: 90s, 45m, 3h, 2d (default: requests / rate)', parseSpan)
    .option(
      '--rate <r>',
      `page views per simulated second, on average over the day (default ${DEFAULT_RATE})`,
      ranged('number', 0, 100_000, true),
    )
    .option(
      '--speed <x>',
      `simulated seconds per real second, or max (default ${DEFAULT_SPEED_WITH_DURATION} with --duration, max with --requests)`,
      parseSpeed,
    )
    .option('--start <time>', 'start of the simulated window, RFC 3339 (default: so that it ends now)', parseTime)
    .option('--concurrency <c>', 'requests in flight at once', ranged('integer', 1, 256), 8)
    .option(
      '--seed <s>',
      'seed of the traffic: users, sites, candidates, clicks, fraud',
      ranged('integer', 0, 2 ** 32 - 1),
      1,
    )
    .option('--world-seed <s>', "seed of the world (1 is the bootstrap model's)", ranged('integer', 0, 2 ** 32 - 1), 1)
    .option(
      '--users <n>',
      "users in the world (the bootstrap model's: 20000)",
      ranged('integer', 1, 10_000_000),
      20_000,
    )
    .option('--ads <n>', "ads in the world (the bootstrap model's: 300)", ranged('integer', 1, 100_000), 300)
    .option('--sites <n>', "sites in the world (the bootstrap model's: 60)", ranged('integer', 1, 100_000), 60)
    .option(
      '--candidates <k>',
      `candidate ads a page, in slots 1..k (at most ${MAX_SLOTS})`,
      ranged('integer', 1, MAX_SLOTS),
      4,
    )
    .option(
      '--show <k>',
      'ads shown a page: the k best by predicted probability (default: all candidates)',
      ranged('integer', 1, MAX_SLOTS),
    )
    .option(
      '--fraud <rate>',
      'share of fraudulent traffic: bots, injected clicks, a site inflating its CTR',
      ranged('number', 0, 0.5),
      0,
    )
    .option(
      '--drift [logit]',
      `after the window's midpoint the busiest ad category gains, the next loses, this much logit (default ${DEFAULT_DRIFT})`,
      ranged('number', 0, 5),
    )
    .option('--drift-at <time>', "when the drift begins, RFC 3339 (default: the window's midpoint)", parseTime)
    .option('--run-id <id>', 'prefix of the event ids (default: random, so runs never collide)')
    .option('--no-register', 'do not register the ads in the catalogue (they must be there already)')
    .option('--json', 'print the summary as JSON', false)
    .option('--no-progress', 'no progress bar, even on a terminal')
    .action(async (options: SimulateOptions) => {
      process.exitCode = await simulate(options);
    });
}
