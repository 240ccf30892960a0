/**
 * The fraud benchmark's measurements, in process, on whatever core this process is pinned to
 * (bench/fraud.ts runs it under `taskset -c 0`):
 *
 *   node --expose-gc --import tsx bench/fraud/measure.ts [--seed 1] [--impressions 500000] [--duration 10] [--warmup 3]
 *
 * 1. Quality: scenarios of the same honest hour with no fraud, with each pattern alone, and with
 *    all of them, each fed straight through a fresh RuleFraudDetector in batches of 500; the
 *    flags (as `suspicious_events` rows) are scored against the truth. The all-patterns scenario
 *    is also fed through RecordEventsUseCase (pseudonymisation, validation, the event log port):
 *    if its flags differ from the detector's, the benchmark stops, since then one of the two
 *    paths is not what is measured. Then the site pattern alone at several inflation levels, for
 *    the site rule's detection limit.
 * 2. Cost: the first `--cost-events` events of the all-patterns stream through the use case with
 *    the rules and with a detector that does nothing (the baseline), taking turns going first,
 *    whole passes with fresh state, for `--duration` seconds after `--warmup`; and the time spent
 *    inside the rules' `inspect` on that path (the rules alone).
 * 3. Memory: the rules' state after the whole all-patterns stream (heap after a full GC).
 *
 * Prints one JSON object on stdout.
 */
import { Command } from 'commander';
import { RuleFraudDetector } from '../../lambdas/core/fraud/detector.js';
import { fraudEventFromLakeRow, suspiciousEventRow } from '../../lambdas/core/fraud/lake-rows.js';
import type { FraudDetector, FraudEvent, FraudFlag, LakeRow } from '../../lambdas/core/ports.js';
import { nonNegativeInt, positiveInt } from '../args.js';
import { BATCH, ingest, NoFraudDetector } from './ingest.js';
import { byRule, fraudOf, readFlags, type Score, score } from './metrics.js';
import {
  buildTraffic,
  DEFAULT_TRAFFIC,
  PATTERNS,
  type Pattern,
  type TimedEvent,
  type TrafficOptions,
} from './traffic.js';

export interface ScenarioResult {
  readonly name: 'honest' | Pattern | 'all';
  readonly events: number;
  readonly impressions: number;
  readonly honestClicks: number;
  readonly rejected: number;
  readonly overall: Score;
  /** Recall of each injected pattern (all-patterns scenario). */
  readonly recallByPattern: Partial<Record<Pattern, Score>>;
  readonly byRule: Record<string, { flagged: number; fraud: number }>;
  readonly inflatedSites: readonly string[];
  readonly outlierSites: readonly string[];
}

export interface SweepPoint {
  readonly inflation: number;
  readonly clicks: Score;
  readonly sitesFlagged: number;
  readonly inflatedSitesFlagged: number;
}

export interface Throughput {
  readonly passes: number;
  readonly events: number;
  /** Median pass, events per second. */
  readonly eventsPerS: number;
  readonly passesEventsPerS: number[];
}

export interface FraudMeasureResult {
  readonly traffic: TrafficOptions;
  readonly scenarios: ScenarioResult[];
  readonly sweep: SweepPoint[];
  readonly withRules: Throughput;
  readonly baseline: Throughput;
  readonly rulesAlone: Throughput;
  readonly stateMb: number;
  readonly stats: ReturnType<RuleFraudDetector['stats']>;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};

/** The stream straight through a fresh detector, in the use case's batches; the flags as lake rows. */
function detect(events: readonly FraudEvent[]): LakeRow['row'][] {
  const d = new RuleFraudDetector();
  const rows: LakeRow['row'][] = [];
  for (let i = 0; i < events.length; i += BATCH) {
    for (const flag of d.inspectNow(events.slice(i, i + BATCH))) rows.push(suspiciousEventRow(flag).row);
  }
  return rows;
}

async function scenario(o: TrafficOptions, name: ScenarioResult['name']): Promise<ScenarioResult> {
  const patterns: readonly Pattern[] = name === 'honest' ? [] : name === 'all' ? PATTERNS : [name];
  const traffic = buildTraffic(o, patterns);
  const flagged = readFlags(detect(fraudEvents(traffic.events)));
  let rejected = 0;
  if (name === 'all') {
    const run = await ingest(traffic.events, new RuleFraudDetector());
    rejected = run.rejected;
    const through = readFlags(run.suspicious);
    const differ =
      [...through.ids].filter((id) => !flagged.ids.has(id)).length +
      [...flagged.ids].filter((id) => !through.ids.has(id)).length;
    if (differ > 0 || rejected > 0) {
      throw new Error(`the use case and the detector disagree on ${differ} flags (${rejected} events rejected)`);
    }
  }
  const recallByPattern: Partial<Record<Pattern, Score>> = {};
  if (name === 'all') for (const p of PATTERNS) recallByPattern[p] = score(flagged.ids, fraudOf(traffic.fraud, p));
  return {
    name,
    events: traffic.events.length,
    impressions: traffic.impressions,
    honestClicks: traffic.honestClicks,
    rejected,
    overall: score(flagged.ids, fraudOf(traffic.fraud)),
    recallByPattern,
    byRule: byRule(flagged, traffic.fraud),
    inflatedSites: traffic.inflatedSites,
    outlierSites: [...flagged.outlierSites].sort(),
  };
}

async function sweepPoint(o: TrafficOptions, inflation: number): Promise<SweepPoint> {
  const traffic = buildTraffic({ ...o, inflation }, ['site_inflation']);
  const flagged = readFlags(detect(fraudEvents(traffic.events)));
  return {
    inflation,
    clicks: score(flagged.ids, fraudOf(traffic.fraud)),
    sitesFlagged: flagged.outlierSites.size,
    inflatedSitesFlagged: traffic.inflatedSites.filter((s) => flagged.outlierSites.has(s)).length,
  };
}

/** The rules' own input for the same events (raw ids: hashing costs the same as for pseudonyms). */
function fraudEvents(events: readonly TimedEvent[]): FraudEvent[] {
  const out: FraudEvent[] = [];
  for (const { body } of events) {
    const table = body.type === 'impression' ? 'ad_impressions' : 'clicks';
    const row: Record<string, unknown> = {
      ...body,
      features: body.features === undefined ? null : JSON.stringify(body.features),
    };
    const e = fraudEventFromLakeRow({ table, row: row as never });
    if (e !== null) out.push(e);
  }
  return out;
}

/** A detector that times its calls (both paths wear it, so the wrapper costs them alike). */
class Timed implements FraudDetector {
  seconds = 0;

  constructor(private readonly inner: FraudDetector) {}

  async inspect(events: readonly FraudEvent[]): Promise<FraudFlag[]> {
    const t0 = performance.now();
    const flags = await this.inner.inspect(events);
    this.seconds += (performance.now() - t0) / 1000;
    return flags;
  }
}

async function throughput(
  o: { durationS: number; warmupS: number },
  events: readonly TimedEvent[],
): Promise<{ withRules: Throughput; baseline: Throughput; rulesAlone: Throughput }> {
  const rules: number[] = [];
  const none: number[] = [];
  const alone: number[] = [];
  // A full collection before each pass, so that no pass pays for the garbage of the one before,
  // and the two paths take turns going first.
  let turn = 0;
  const pass = async (record: boolean) => {
    const detector = new Timed(new RuleFraudDetector());
    const noop = new Timed(new NoFraudDetector());
    collect();
    const first = turn++ % 2 === 0;
    const a = first ? await ingest(events, detector) : undefined;
    const b = await ingest(events, noop);
    const c = first ? undefined : await ingest(events, detector);
    const withRules = (a ?? c)!;
    if (!record) return;
    rules.push(withRules.events / withRules.seconds);
    none.push(b.events / b.seconds);
    alone.push(withRules.events / detector.seconds);
  };
  const warmEnd = performance.now() + o.warmupS * 1000;
  do await pass(false);
  while (performance.now() < warmEnd);
  const end = performance.now() + o.durationS * 1000;
  do await pass(true);
  while (performance.now() < end);
  const figure = (xs: number[], n: number): Throughput => ({
    passes: xs.length,
    events: n,
    eventsPerS: median(xs),
    passesEventsPerS: xs.map((x) => Math.round(x)),
  });
  return {
    withRules: figure(rules, events.length),
    baseline: figure(none, events.length),
    rulesAlone: figure(alone, events.length),
  };
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
}

function heapMb(): number {
  collect();
  collect();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1024 / 1024;
}

async function main(): Promise<void> {
  const opts = new Command()
    .option('--seed <n>', 'seed of the traffic', nonNegativeInt, DEFAULT_TRAFFIC.seed)
    .option('--impressions <n>', 'honest impressions in the hour', positiveInt, DEFAULT_TRAFFIC.impressions)
    .option('--duration <s>', 'measured seconds of the cost loops', positiveInt, 10)
    .option('--warmup <s>', 'warm-up seconds of the cost loops', nonNegativeInt, 3)
    .option('--cost-events <n>', 'events of the stream the cost loops replay', positiveInt, 50_000)
    .parse()
    .opts<{ seed: number; impressions: number; duration: number; warmup: number; costEvents: number }>();
  const traffic: TrafficOptions = { ...DEFAULT_TRAFFIC, seed: opts.seed, impressions: opts.impressions };

  const scenarios: ScenarioResult[] = [];
  for (const name of ['honest', ...PATTERNS, 'all'] as const) scenarios.push(await scenario(traffic, name));
  const sweep: SweepPoint[] = [];
  for (const inflation of [0.02, 0.04, 0.08, 0.16]) sweep.push(await sweepPoint(traffic, inflation));

  const all = buildTraffic(traffic, PATTERNS);
  const plain = fraudEvents(all.events);
  const head = all.events.slice(0, opts.costEvents);
  const cost = await throughput({ durationS: opts.duration, warmupS: opts.warmup }, head);

  const before = heapMb();
  let detector: RuleFraudDetector | undefined = new RuleFraudDetector();
  for (let i = 0; i < plain.length; i += BATCH) detector.inspectNow(plain.slice(i, i + BATCH));
  const stateMb = heapMb() - before;
  const stats = detector.stats();
  detector = undefined;

  const result: FraudMeasureResult = { traffic, scenarios, sweep, ...cost, stateMb, stats };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
