/**
 * The fraud benchmark: precision and recall of the click-fraud rules on simulated traffic with a
 * known truth (an honest hour from the project's simulator plus injected fraud patterns), and
 * what the rules cost on the event path against the same path with a detector that does nothing,
 * measured in the same run. The measurements run in one process pinned to core 0
 * (bench/fraud/measure.ts); this file prints them. See bench/README.md.
 */
import { join } from 'node:path';
import type { FraudMeasureResult, ScenarioResult } from './fraud/measure.js';
import type { Score } from './fraud/metrics.js';
import { PATTERN_LABELS, PATTERNS } from './fraud/traffic.js';
import type { Target } from './predict-http.js';
import {
  ADCLICK_NODE_FLAGS,
  fmtInt,
  fmtRatio,
  leastDisturbed,
  log,
  runPinned,
  SERVER_CORE,
  table,
  verdict,
} from './support.js';

export interface FraudBenchOptions {
  readonly seed: number;
  /** Honest impressions in the simulated hour. */
  readonly impressions: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly quietWaitS: number;
  readonly retries: number;
}

export interface FraudBenchResult {
  readonly measure: FraudMeasureResult;
  readonly otherLoad: number;
  readonly attempts: number[];
  readonly targets: Target[];
}

/** Precision and recall must each reach this, per pattern and overall (issue 4). */
const TARGET = 0.9;

const pct = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

function scenarioOf(m: FraudMeasureResult, name: ScenarioResult['name']): ScenarioResult {
  const s = m.scenarios.find((x) => x.name === name);
  if (!s) throw new Error(`scenario ${name} missing from the measurements`);
  return s;
}

function printQuality(m: FraudMeasureResult): Target[] {
  const honest = scenarioOf(m, 'honest');
  const all = scenarioOf(m, 'all');
  log(
    `traffic: ${fmtInt(honest.impressions)} honest impressions and ${fmtInt(honest.honestClicks)} honest clicks in one ` +
      `simulated hour (seed ${m.traffic.seed}); site inflation +${(m.traffic.inflation * 100).toFixed(0)} points of CTR`,
  );
  log(
    `honest traffic alone: ${honest.overall.flagged} clicks flagged ` +
      `(${((honest.overall.flagged / honest.honestClicks) * 100).toFixed(2)} % of honest clicks; by rule: ` +
      `${Object.entries(honest.byRule)
        .map(([r, v]) => `${r} ${v.flagged}`)
        .join(', ')})`,
  );
  log(
    '\nper pattern: precision from a run with honest traffic plus that pattern alone; recall also in the run with every pattern',
  );
  const rows = PATTERNS.map((p) => {
    const alone = scenarioOf(m, p).overall;
    const inAll = all.recallByPattern[p] as Score;
    return [
      PATTERN_LABELS[p],
      fmtInt(alone.fraud),
      fmtInt(alone.flagged),
      fmtInt(alone.falsePositives),
      pct(alone.precision),
      pct(alone.recall),
      pct(inAll.recall),
    ];
  });
  rows.push([
    'all patterns together',
    fmtInt(all.overall.fraud),
    fmtInt(all.overall.flagged),
    fmtInt(all.overall.falsePositives),
    pct(all.overall.precision),
    pct(all.overall.recall),
    pct(all.overall.recall),
  ]);
  log(indent(table(['pattern', 'injected', 'flagged', 'false pos.', 'precision', 'recall', 'recall (all)'], rows)));

  log('\nper rule, in the run with every pattern (a click can fire several rules)');
  log(
    indent(
      table(
        ['rule', 'flagged', 'fraud', 'precision'],
        Object.entries(all.byRule).map(([rule, v]) => [
          rule,
          fmtInt(v.flagged),
          fmtInt(v.fraud),
          pct(v.fraud / v.flagged),
        ]),
      ),
    ),
  );

  const site = scenarioOf(m, 'site_inflation');
  log(
    `\nsite rule: inflated ${site.inflatedSites.join(', ')}; flagged as outliers ${site.outlierSites.join(', ') || 'none'}. ` +
      'Its click precision is bounded by the honest clicks on an inflated site, which no rule can tell from the fake ones.',
  );
  log(
    indent(
      table(
        ['inflation (CTR points)', 'inflated sites flagged', 'honest sites flagged', 'click precision', 'click recall'],
        m.sweep.map((p) => [
          `+${(p.inflation * 100).toFixed(0)}`,
          `${p.inflatedSitesFlagged} of 2`,
          String(p.sitesFlagged - p.inflatedSitesFlagged),
          pct(p.clicks.precision),
          pct(p.clicks.recall),
        ]),
      ),
    ),
  );

  const targets: Target[] = [];
  const add = (name: string, value: number) =>
    targets.push({ name, value: pct(value), target: `≥ ${TARGET}`, met: value >= TARGET });
  add('fraud precision, all patterns', all.overall.precision);
  add('fraud recall, all patterns', all.overall.recall);
  for (const p of PATTERNS) {
    add(`fraud precision, ${PATTERN_LABELS[p]}`, scenarioOf(m, p).overall.precision);
    add(`fraud recall, ${PATTERN_LABELS[p]}`, (all.recallByPattern[p] as Score).recall);
  }
  return targets;
}

function printCost(m: FraudMeasureResult, otherLoad: number, attempts: readonly number[]): void {
  const { withRules, baseline, rulesAlone } = m;
  log(
    `\ncost: ${fmtInt(withRules.events)} events of the all-patterns stream, whole passes with fresh state ` +
      `(${withRules.passes} each, medians), in process on core ${SERVER_CORE}`,
  );
  log(
    indent(
      table(
        ['figure', 'with the rules', 'baseline', 'baseline is', 'ratio'],
        [
          [
            'event path events/s',
            fmtInt(withRules.eventsPerS),
            fmtInt(baseline.eventsPerS),
            'same path, detector that does nothing',
            fmtRatio(withRules.eventsPerS / baseline.eventsPerS),
          ],
          [
            'µs an event',
            (1e6 / withRules.eventsPerS).toFixed(2),
            (1e6 / baseline.eventsPerS).toFixed(2),
            'same path, detector that does nothing',
            fmtRatio(baseline.eventsPerS / withRules.eventsPerS),
          ],
        ],
      ),
    ),
  );
  log(
    `  inside the rules (their inspect, on that path): ${(1e6 / rulesAlone.eventsPerS).toFixed(2)} µs an event ` +
      `(${fmtInt(rulesAlone.eventsPerS)} events/s; ${((60_000 / rulesAlone.eventsPerS) * 100).toFixed(1)} % of a core at ` +
      `the server's 60 K events/s); their state after ` +
      `the whole stream: ${m.stateMb.toFixed(0)} MB (impressions remembered ${fmtInt(m.stats.impressionsRemembered)}, ` +
      `forgotten ${fmtInt(m.stats.impressionsForgotten)}, clicks unmatched ${fmtInt(m.stats.clicksUnmatched)})`,
  );
  log(
    `  other load on core ${SERVER_CORE}: ${(otherLoad * 100).toFixed(0)} % (attempts: ` +
      `${attempts.map((a) => `${(a * 100).toFixed(0)} %`).join(', ')})`,
  );
}

export async function runFraudBench(o: FraudBenchOptions): Promise<FraudBenchResult> {
  log('\n== fraud: click-fraud rules on simulated traffic with injected fraud ==');
  log(
    'quality: each scenario straight through the rules (RuleFraudDetector), the all-patterns one also through ' +
      'RecordEventsUseCase over in-memory ports, which must agree; cost: the event path (use case) with and without the rules',
  );
  const once = async () => {
    const run = await runPinned(SERVER_CORE, process.execPath, [
      ...ADCLICK_NODE_FLAGS,
      '--expose-gc',
      '--import',
      'tsx',
      join('bench', 'fraud', 'measure.ts'),
      '--seed',
      String(o.seed),
      '--impressions',
      String(o.impressions),
      '--duration',
      String(o.durationS),
      '--warmup',
      String(o.warmupS),
    ]);
    return { measure: JSON.parse(run.stdout) as FraudMeasureResult, otherLoad: run.otherLoad };
  };
  const { best, interference } = await leastDisturbed('fraud', once, (r) => r.otherLoad, o);
  const targets = printQuality(best.measure);
  printCost(best.measure, best.otherLoad, interference);
  log('');
  log(
    indent(
      table(
        ['target', 'measured', 'target', ''],
        targets.map((t) => [t.name, t.value, t.target, verdict(t.met)]),
      ),
    ),
  );
  return { measure: best.measure, otherLoad: best.otherLoad, attempts: interference, targets };
}
