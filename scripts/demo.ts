/**
 * `npm run demo`: the whole loop on one machine, in a few minutes. It starts the local server on
 * a fresh data dir, simulates a day of traffic whose truth drifts half-way, retrains on the hours
 * since the drift warm-started from the champion (the pipeline's steps; a few hours of new
 * traffic is the case warm starts are for, docs/retraining.md), starts an A/B experiment champion
 * vs challenger, simulates more traffic in real time, and prints the experiment's result, the
 * analytics and where to look.
 *
 * Each step is one of the commands a user runs (`adclick serve | simulate | retrain`, the
 * compiled ones under dist/), so the demo proves them, not a private shortcut.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'bin', 'adclick.js');
const DATA_DIR = resolve(process.env.ADCLICK_DEMO_DIR ?? join(ROOT, '.adclick-demo'));
const HOUR = 3_600_000;
/**
 * How far the truth drifts half-way (logit gained by the busiest ad category and lost by the
 * second; `adclick simulate --drift`): twice the simulator's default, so that the retrained model's
 * advantage stands out of the noise of a 6 h holdout with about a hundred clicks. At the default
 * 0.8 the retrained model won about half the runs by a hair, a coin flip on that holdout.
 */
const DRIFT_LOGIT = 1.6;
/** Simulated history before the retrain, its truth drifting half-way. */
const HISTORY_HOURS = 30;
const HISTORY_PAGES = Number(process.env.ADCLICK_DEMO_PAGES ?? 16_000);
const HOLDOUT_HOURS = 6;
/** Real seconds of traffic during the experiment, and its pages per second. */
const EXPERIMENT_SECONDS = Number(process.env.ADCLICK_DEMO_SECONDS ?? 90);
// Real-time traffic concentrates Zipf's heaviest users: much above this they click faster than the
// fraud rules' per-user limit (5 a minute) and honest clicks get flagged.
const EXPERIMENT_RATE = 100;

const say = (line: string) => process.stdout.write(`${line}\n`);
const step = (n: number, what: string) => say(`\n== ${n}. ${what}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const floorHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

/** Runs `adclick <args>`; resolves with its stdout, rejects with its stderr's tail on failure. */
function adclick(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('close', (code) =>
      code === 0 ? resolveRun(out) : reject(new Error(`adclick ${args[0]} exited ${code}: ${err.trim().slice(-1500)}`)),
    );
  });
}

async function api<T>(base: string, token: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Until the server answers /health, or its process ends. */
async function waitForHealth(base: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error('the server did not become healthy in 5 minutes');
}

interface AdPerformance {
  rows: { predicted_impressions: number; clicks: number }[];
}

/**
 * Until the lake holds (nearly) every impression sent in [from, to) joined with its prediction,
 * and its click count has stopped moving: events are compacted and predictions exported every
 * few seconds, and the last clicks arrive seconds after their impressions.
 */
async function waitForLake(base: string, token: string, from: number, to: number, expected: number): Promise<void> {
  const query = `from=${iso(floorHour(from))}&to=${iso(floorHour(to) + HOUR)}&granularity=day&limit=10000`;
  let lastClicks = -1;
  for (let i = 0; i < 60; i++) {
    const perf = await api<AdPerformance>(base, token, `/analytics/ad-performance?${query}`);
    const seen = perf.rows.reduce((s, r) => s + r.predicted_impressions, 0);
    const clicks = perf.rows.reduce((s, r) => s + r.clicks, 0);
    if (seen >= expected && clicks === lastClicks) return;
    lastClicks = clicks;
    await sleep(seen >= expected ? 6_000 : 1_000);
  }
  say('  (the lake still lacks some events; going on with what is there)');
}

interface SimulateSummary {
  seconds: number;
  requests: number;
  predictions: number;
  impressions: { accepted: number };
  clicks: { accepted?: number };
  honest: { observed_ctr: number | null; true_mean_probability: number | null; mean_predicted: number | null };
  server_errors: number;
}

function describeRun(s: SimulateSummary): string {
  return (
    `${s.requests} pages in ${s.seconds.toFixed(0)} s: ${s.predictions} predictions, ${s.impressions.accepted} impressions, ` +
    `${s.clicks.accepted ?? 0} clicks; honest CTR ${pct(s.honest.observed_ctr)} (truth ${pct(s.honest.true_mean_probability)}, ` +
    `predicted ${pct(s.honest.mean_predicted)}); server errors ${s.server_errors}`
  );
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)} %`);
const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? '—' : x.toFixed(digits));

async function main(): Promise<void> {
  const started = Date.now();
  rmSync(DATA_DIR, { recursive: true, force: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    ADCLICK_DATA_DIR: DATA_DIR,
    ADCLICK_LOG_LEVEL: 'warn',
    // The demo shows the loop by hand; the automatic jobs stay off so its story is its own.
    ADCLICK_DRIFT_CHECK_MINUTES: '0',
    ADCLICK_RETRAIN_INTERVAL_MINUTES: '0',
    ADCLICK_URL: base,
  };

  step(1, `start the server on ${base} (data in ${DATA_DIR}; the first start trains a bootstrap model)`);
  const server = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = () => {
    if (server.exitCode === null) server.kill('SIGTERM');
  };
  process.on('exit', stop);
  try {
    await waitForHealth(base, server);
    const token = readFileSync(join(DATA_DIR, 'admin-token'), 'utf8').trim();
    say(`  healthy after ${((Date.now() - started) / 1000).toFixed(0)} s`);

    const now = Date.now();
    const historyStart = floorHour(now - HISTORY_HOURS * HOUR);
    const driftAt = now - (HISTORY_HOURS / 2) * HOUR;
    step(2, `simulate ${HISTORY_HOURS} h of history (${HISTORY_PAGES} pages); the truth drifts from ${iso(driftAt)}`);
    const history = JSON.parse(
      await adclick(
        [
          'simulate',
          '--requests',
          String(HISTORY_PAGES),
          '--start',
          iso(historyStart),
          '--span',
          `${Math.floor((now - historyStart) / 1000) - 60}s`,
          '--drift',
          String(DRIFT_LOGIT),
          '--drift-at',
          iso(driftAt),
          '--concurrency',
          '16',
          '--json',
          '--no-progress',
        ],
        env,
      ),
    ) as SimulateSummary;
    say(`  ${describeRun(history)}`);
    await waitForLake(base, token, historyStart, now, Math.floor(history.impressions.accepted * 0.9));

    // Train on what is labelled (older than the attribution window) since the drift, warm-started
    // from the champion, which knows the rest; keep the last hours as holdout.
    const labelledUntil = floorHour(Date.now() - HOUR);
    const to = labelledUntil - HOLDOUT_HOURS * HOUR;
    const trainFrom = floorHour(driftAt) + HOUR;
    step(
      3,
      `retrain on the drifted [${iso(trainFrom)}, ${iso(to)}) from the champion, judge on the ${HOLDOUT_HOURS} h after it`,
    );
    const retrain = JSON.parse(
      await adclick(
        [
          'retrain',
          '--from',
          iso(trainFrom),
          '--to',
          iso(to),
          '--holdout-hours',
          String(HOLDOUT_HOURS),
          '--warm-start',
          '--experiment',
          '0.5',
          '--json',
        ],
        env,
      ),
    ) as {
      rows: { train: number; holdout: number; holdout_positives: number };
      training?: { warm_start?: boolean; fresh_reason?: string | null };
      candidate: { logloss: number; calibration: number; auc: number };
      champion: { logloss: number; calibration: number; auc: number } | null;
      gate: { passed: boolean; reasons: string[] };
      model: { model_id: string; version: string };
      experiment: { experiment_id: string; created_at: string } | null;
    };
    say(
      `  training rows ${retrain.rows.train}, holdout rows ${retrain.rows.holdout} (${retrain.rows.holdout_positives} clicks); ` +
        (retrain.training?.warm_start
          ? "warm-started from the champion's parameters"
          : `trained fresh${retrain.training?.fresh_reason ? ` (${retrain.training.fresh_reason})` : ''}`),
    );
    say(
      `  holdout log loss: challenger ${num(retrain.candidate.logloss)} vs champion ${num(retrain.champion?.logloss)}; ` +
        `calibration ${num(retrain.candidate.calibration, 3)} vs ${num(retrain.champion?.calibration, 3)}`,
    );
    say(`  gate: ${retrain.gate.passed ? 'passed' : `refused (${retrain.gate.reasons.join('; ')})`}`);
    if (!retrain.experiment) throw new Error('no experiment was started (the gate refused the challenger)');
    const experimentId = retrain.experiment.experiment_id;
    say(`  experiment ${experimentId}: champion 50 % vs challenger ${retrain.model.version} 50 %`);

    step(4, `simulate ${EXPERIMENT_SECONDS} s of live traffic under the experiment`);
    const createdAt = Date.parse(retrain.experiment.created_at);
    const live = JSON.parse(
      await adclick(
        [
          'simulate',
          '--duration',
          String(EXPERIMENT_SECONDS),
          '--speed',
          '1',
          '--rate',
          String(EXPERIMENT_RATE),
          '--start',
          iso(Math.max(createdAt, Date.now() - 1_000)),
          '--drift',
          String(DRIFT_LOGIT),
          '--drift-at',
          iso(driftAt),
          '--no-register',
          // The ad server shows the best of four candidates by predicted probability: the model
          // now decides what users see, so a better model earns more clicks (the lift measured).
          '--show',
          '1',
          '--concurrency',
          '16',
          '--seed',
          '2',
          '--json',
          '--no-progress',
        ],
        env,
      ),
    ) as SimulateSummary;
    say(`  ${describeRun(live)}`);
    await waitForLake(base, token, createdAt, Date.now(), Math.floor(live.impressions.accepted * 0.9));

    step(5, 'the experiment (GET /experiments/{id}): CTR of the ads each model chose, lift of the challenger');
    const experiment = await api<{
      results: {
        decision: string;
        winner: string | null;
        reasons: string[];
        variants: {
          variant: string;
          model_id: string;
          control: boolean;
          impressions: number;
          clicks: number;
          ctr: number | null;
          logloss: number | null;
          calibration: number | null;
          lift: { estimate: number; lower: number; upper: number } | null;
          p_value: number | null;
        }[];
      };
    }>(base, token, `/experiments/${experimentId}`);
    for (const v of experiment.results.variants) {
      const who = v.control ? 'champion  ' : 'challenger';
      const lift = v.lift
        ? `lift ${pct(v.lift.estimate)} [95 % CI ${pct(v.lift.lower)}, ${pct(v.lift.upper)}], p ${num(v.p_value, 3)}`
        : '(control)';
      say(
        `  ${who} ${v.impressions} impressions, ${v.clicks} clicks, CTR ${pct(v.ctr)}, log loss ${num(v.logloss)}, ` +
          `calibration ${num(v.calibration, 3)}; ${lift}`,
      );
    }
    say(
      `  decision: ${experiment.results.decision}${experiment.results.winner ? ` (${experiment.results.winner})` : ''}`,
    );
    for (const r of experiment.results.reasons) say(`    - ${r}`);

    step(6, 'analytics over the whole run');
    const range = `from=${iso(historyStart)}&to=${iso(floorHour(Date.now()) + HOUR)}`;
    const models = await api<{
      models: {
        model_version: string;
        variant: string;
        impressions: number;
        log_loss: number;
        calibration: number | null;
      }[];
    }>(base, token, `/analytics/models?${range}`);
    for (const m of models.models)
      say(
        `  ${m.model_version} (${m.variant}): ${m.impressions} impressions, log loss ${num(m.log_loss)}, calibration ${num(m.calibration, 3)}`,
      );
    const fraud = await api<{ rows: { rule: string; flagged_events: number }[] }>(
      base,
      token,
      `/analytics/fraud?${range}`,
    );
    const byRule = new Map<string, number>();
    for (const r of fraud.rows) byRule.set(r.rule, (byRule.get(r.rule) ?? 0) + r.flagged_events);
    say(`  fraud flags: ${[...byRule].map(([rule, n]) => `${rule} ${n}`).join(', ') || 'none'}`);

    step(7, 'where to look');
    say(`  the API:         ${base}/openapi.json (admin token in ${join(DATA_DIR, 'admin-token')})`);
    say(`  the lake:        ${join(DATA_DIR, 'lake')} (Parquet; docs/analytics.md has DuckDB queries)`);
    say(
      `  the experiment:  curl -H "authorization: Bearer $(cat ${join(DATA_DIR, 'admin-token')})" ${base}/experiments/${experimentId}`,
    );
    say(`  done in ${((Date.now() - started) / 1000).toFixed(0)} s; the data dir stays for a look.`);
  } finally {
    stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
