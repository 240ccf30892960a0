/**
 * The model benchmark: adclick's model (`adclick train`, `adclick score`) against XGBoost, a
 * hashed logistic regression and the constant click rate (the Python peers), on the synthetic
 * data set (known true probabilities, cold-start rows) and on the Criteo and Avazu samples when
 * they are present. Every process runs pinned to core 0, XGBoost with one thread, so the time
 * comparison is one core against one core; every metric comes from the same scorer
 * (score_preds.py). Then batch scoring speed in process, against a plain dot product measured
 * in the same run. See bench/README.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatPairedGain } from '../sagemaker/model/cross-selection.js';
import { writeWithCrosses } from './model/crosses.js';
import { coldSubset, type Dataset, type DatasetName, realDatasets, syntheticDataset } from './model/datasets.js';
import {
  type Metrics,
  type PeersOutput,
  peersProblem,
  runPeers,
  scorePredictions,
  xgboostVersion,
} from './model/peers.js';
import type { ScoreSpeedResult } from './model/score-speed.js';
import type { Target } from './predict-http.js';
import {
  ADCLICK_NODE_FLAGS,
  fmtInt,
  fmtRatio,
  leastDisturbed,
  log,
  type PinnedRun,
  ratio,
  runPinned,
  SERVER_CORE,
  table,
  verdict,
  waitQuiet,
} from './support.js';

export interface ModelBenchOptions {
  /** Synthetic rows, train + test (split 80 / 20). */
  readonly syntheticRows: number;
  readonly seed: number;
  readonly datasets: readonly DatasetName[];
  /** Data sets are generated (and cached) here; each run's models and predictions go in a subfolder. */
  readonly dataDir: string;
  readonly peersDir: string;
  /** Measured seconds (and warm-up) of each scoring-speed loop. */
  readonly durationS: number;
  readonly warmupS: number;
  /** Candidate ads per batch request in the scoring-speed loops. */
  readonly batch: number;
  readonly quietWaitS: number;
  /** Scoring-speed loops: measure again (at most this many times) when other processes disturbed them. */
  readonly retries: number;
  readonly keepData: boolean;
}

const MODELS = ['adclick', 'xgb', 'lr', 'const'] as const;
/** The reference on synthetic data: lr given the true interacting pairs as extra columns. */
const CROSSES = 'lr_crosses';

function label(name: string): string {
  if (name === 'adclick') return 'adclick (ours)';
  if (name === CROSSES) return 'lr + true crosses (reference)';
  return name;
}

/** What `adclick train --json` reports of itself (in process, after start-up). */
export interface TrainSummary {
  readonly passes?: number;
  readonly best_pass?: number;
  readonly seconds?: number;
  readonly train_seconds?: number;
  readonly rows_read?: number;
  readonly examples_per_second?: number;
  /** The model's metrics.crosses (sagemaker/model/cross-selection.ts). */
  readonly crosses?: {
    readonly screened?: readonly { readonly cross: string }[];
    readonly decision?: {
      readonly held_out: { readonly rows: number; readonly gain: number; readonly se: number };
      readonly kept: boolean;
    } | null;
  } | null;
}

/** One line on what cross selection chose and what the held-out rows decided. */
export function describeCrosses(c: TrainSummary['crosses']): string {
  const chosen = c?.screened?.map((s) => s.cross.replace('&', ' × ')) ?? [];
  if (chosen.length === 0) return 'none chosen';
  const d = c?.decision;
  if (!d) return `chose ${chosen.join(', ')}; no decision`;
  const { rows, gain, se } = d.held_out;
  return (
    `chose ${chosen.join(', ')}; ${d.kept ? 'kept' : 'refused'} on ${fmtInt(rows)} held-out rows ` +
    `(gain ${formatPairedGain(gain, se)})`
  );
}

export interface OursFigures {
  /** Wall seconds of the whole `adclick train` process. */
  readonly trainS: number;
  /**
   * `adclick train`'s own seconds from opening the CSV to the saved model (its --json `seconds`):
   * what compares with xgb's train_s, which starts after pandas has loaded the CSV. Ours still
   * includes reading the CSV (once to scan it, once per pass), so the comparison leans against us.
   */
  readonly inProcessS: number;
  /** Train rows / trainS. */
  readonly trainExamplesPerS: number;
  readonly trainSummary: TrainSummary;
  readonly trainRssPeakMb: number;
  readonly trainOtherLoad: number;
  readonly scoreS: number;
  /** `adclick evaluate`'s own log loss on the test file: must agree with score_preds.py on the predictions. */
  readonly evaluateLogloss: number;
  /** model.json of the trained model, without its weights' descriptors. */
  readonly manifest: Record<string, unknown>;
}

export interface DatasetResult {
  readonly name: DatasetName;
  readonly trainRows: number;
  readonly testRows: number;
  readonly testCtr: number;
  readonly ours: OursFigures;
  readonly peers: { readonly trainS: Record<string, number>; readonly otherLoad: number; readonly wallS: number };
  /** score_preds.py's metrics of adclick, xgb, lr, const (and oracle with the truth). */
  readonly metrics: Record<string, Metrics>;
  /** On the test rows whose user or ad is not in train (synthetic only). */
  readonly cold?: { readonly rows: number; readonly metrics: Record<string, Metrics> };
  readonly ratios: {
    /** adclick logloss / xgb logloss (lower is better). */
    readonly logloss: number;
    /** adclick train's in-process seconds (CSV reading included) / xgb train_s. */
    readonly trainTime: number;
    /** adclick's excess logloss over the oracle / xgb's (synthetic only). */
    readonly excess?: number;
    /** adclick logloss / constant CTR's logloss on the cold-start rows (synthetic only). */
    readonly coldLogloss?: number;
    /** The reference's (lr + true crosses) excess over the oracle / xgb's (synthetic only). */
    readonly referenceExcess?: number;
  };
}

export interface ModelBenchResult {
  readonly xgboost: string;
  readonly datasets: DatasetResult[];
  readonly skipped: string[];
  readonly speed?: ScoreSpeedResult & { readonly otherLoad: number; readonly attempts: readonly number[] };
  readonly targets: Target[];
}

/** Why the model benchmark cannot run here, or null. */
export function modelBenchProblem(o: Pick<ModelBenchOptions, 'peersDir'>): string | null {
  return peersProblem(o.peersDir);
}

function adclick(args: readonly string[]): Promise<PinnedRun> {
  return runPinned(SERVER_CORE, process.execPath, [...ADCLICK_NODE_FLAGS, 'bin/adclick.js', ...args]);
}

function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** Log-loss ratios differ in the third decimal: "0.998×". */
export function fmtRatio3(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(3)}×` : 'n/a';
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}

async function quiet(o: ModelBenchOptions): Promise<void> {
  const q = await waitQuiet(o.quietWaitS);
  if (q.busy.some((b) => b >= 0.1)) log(`  note: cores still busy before the run (${q.busy.map(pct).join(', ')})`);
}

async function runDataset(d: Dataset, runDir: string, o: ModelBenchOptions): Promise<DatasetResult> {
  const dir = join(runDir, d.name);
  const modelDir = join(dir, 'model');
  const preds = join(dir, 'preds');
  mkdirSync(preds, { recursive: true });
  const ourPreds = join(preds, 'adclick.pred.txt');

  await quiet(o);
  log('  adclick train …');
  const train = await adclick([
    'train',
    '--data',
    d.train,
    '--format',
    'csv',
    '--out',
    modelDir,
    '--json',
    '--no-progress',
  ]);
  let trainSummary: TrainSummary = {};
  try {
    trainSummary = JSON.parse(train.stdout) as TrainSummary;
  } catch {
    log('  note: adclick train printed no JSON summary');
  }
  log('  adclick score …');
  const score = await adclick(['score', '--model', modelDir, '--data', d.test, '--format', 'csv', '--out', ourPreds]);
  const evaluated = await adclick(['evaluate', '--model', modelDir, '--data', d.test, '--format', 'csv']);
  const evaluateLogloss = (JSON.parse(evaluated.stdout) as { logloss: number }).logloss;

  await quiet(o);
  log('  peers (xgb, lr, const; one thread) …');
  const peers = await runPeers(o.peersDir, SERVER_CORE, { train: d.train, test: d.test, predsDir: preds });
  const p: PeersOutput = peers.output;
  const models: string[] = [...MODELS];
  const peerTrainS: Record<string, number> = Object.fromEntries(
    Object.entries(p.models).map(([k, v]) => [k, v.train_s]),
  );
  if (d.synthetic) {
    // The reference: the same logistic regression, given the world's interacting pairs as columns.
    log('  reference: lr with the true crosses …');
    const crosses = join(dir, 'crosses');
    mkdirSync(crosses, { recursive: true });
    await writeWithCrosses(d.train, join(crosses, 'train.csv'));
    await writeWithCrosses(d.test, join(crosses, 'test.csv'));
    const ref = await runPeers(o.peersDir, SERVER_CORE, {
      train: join(crosses, 'train.csv'),
      test: join(crosses, 'test.csv'),
      predsDir: crosses,
      models: ['lr'],
    });
    renameSync(join(crosses, 'lr.pred.txt'), join(preds, `${CROSSES}.pred.txt`));
    peerTrainS[CROSSES] = ref.output.models.lr!.train_s;
    models.push(CROSSES);
  }
  const files = models.map((m) => join(preds, `${m}.pred.txt`));
  const scored = scorePredictions(o.peersDir, d.test, files, d.truth);

  let cold: DatasetResult['cold'];
  if (d.cold && d.truth) {
    const coldDir = join(dir, 'cold');
    mkdirSync(coldDir, { recursive: true });
    const subset = coldSubset(coldDir, d, files);
    if (subset.rows > 0) {
      cold = {
        rows: subset.rows,
        metrics: scorePredictions(o.peersDir, subset.test, subset.predictions, subset.truth).models,
      };
    }
  }

  const manifest = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as Record<string, unknown>;
  const m = scored.models;
  const ours = m.adclick!;
  // Two implementations of the same metric over the same model and rows: a disagreement means a
  // bug in the CLI (score or evaluate) or in this harness, and every figure below would be suspect.
  if (!(Math.abs(evaluateLogloss - ours.logloss) <= 1e-6 * Math.max(1, ours.logloss))) {
    throw new Error(
      `adclick evaluate says logloss ${evaluateLogloss} but score_preds.py scores adclick score's predictions ` +
        `${ours.logloss} on ${d.test}`,
    );
  }
  const xgb = m.xgb!;
  const xgbTrainS = p.models.xgb!.train_s;
  return {
    name: d.name,
    trainRows: p.train_rows,
    testRows: p.test_rows,
    testCtr: p.test_ctr,
    ours: {
      trainS: train.seconds,
      inProcessS: trainSummary.seconds ?? train.seconds,
      trainExamplesPerS: p.train_rows / train.seconds,
      trainSummary,
      trainRssPeakMb: train.rssPeakMb,
      trainOtherLoad: train.otherLoad,
      scoreS: score.seconds,
      evaluateLogloss,
      manifest,
    },
    peers: {
      trainS: peerTrainS,
      otherLoad: peers.run.otherLoad,
      wallS: peers.run.seconds,
    },
    metrics: m,
    ...(cold ? { cold } : {}),
    ratios: {
      logloss: ratio(ours.logloss, xgb.logloss),
      trainTime: ratio(trainSummary.seconds ?? train.seconds, xgbTrainS),
      ...(ours.excess_logloss_vs_oracle !== undefined && xgb.excess_logloss_vs_oracle !== undefined
        ? { excess: ratio(ours.excess_logloss_vs_oracle, xgb.excess_logloss_vs_oracle) }
        : {}),
      ...(m[CROSSES]?.excess_logloss_vs_oracle !== undefined && xgb.excess_logloss_vs_oracle !== undefined
        ? { referenceExcess: ratio(m[CROSSES].excess_logloss_vs_oracle, xgb.excess_logloss_vs_oracle) }
        : {}),
      ...(cold?.metrics.adclick && cold.metrics.const
        ? { coldLogloss: ratio(cold.metrics.adclick.logloss, cold.metrics.const.logloss) }
        : {}),
    },
  };
}

function printDataset(r: DatasetResult): void {
  const truth = r.metrics.oracle !== undefined;
  const header = ['model', 'logloss', 'AUC', 'NE', 'calibration', ...(truth ? ['excess vs oracle'] : []), 'train s'];
  // score_preds.py lists the oracle first; it reads better last, under the models.
  const ordered = (metrics: Record<string, Metrics>) => [
    ...Object.keys(metrics).filter((n) => n !== 'oracle'),
    ...(metrics.oracle ? ['oracle'] : []),
  ];
  const rows = ordered(r.metrics).map((name) => {
    const x = r.metrics[name];
    const trainS =
      name === 'adclick' ? r.ours.inProcessS : name === 'oracle' ? Number.NaN : (r.peers.trainS[name] ?? Number.NaN);
    return [
      label(name),
      fmt(x?.logloss, 5),
      fmt(x?.auc, 4),
      fmt(x?.ne, 4),
      fmt(x?.calibration, 3),
      ...(truth ? [fmt(x?.excess_logloss_vs_oracle, 5)] : []),
      fmt(trainS, 1),
    ];
  });
  log(table(header, rows));
  const t = r.ours.trainSummary;
  log(
    `  adclick train: ${r.ours.inProcessS.toFixed(1)} s in process, reading the CSV included (xgb's train_s ` +
      `excludes loading it), ${r.ours.trainS.toFixed(1)} s for the whole process with Node's start-up ` +
      `= ${fmtInt(r.ours.trainExamplesPerS)} train rows/s; ` +
      `in process ${fmt(t.train_seconds, 1)} s training, ${t.passes ?? '?'} passes (best ${t.best_pass ?? '?'}), ` +
      `${fmtInt(t.examples_per_second ?? Number.NaN)} examples/s over all passes; ` +
      `peak RSS ${r.ours.trainRssPeakMb.toFixed(0)} MB; adclick score ${r.ours.scoreS.toFixed(1)} s`,
  );
  log(`  crosses: ${describeCrosses(t.crosses)}`);
  log(
    `  other load on core ${SERVER_CORE}: ${pct(r.ours.trainOtherLoad)} during adclick train, ` +
      `${pct(r.peers.otherLoad)} during the peers`,
  );
  log(`  logloss adclick / xgb: ${fmtRatio3(r.ratios.logloss)}, target < 1 ${verdict(r.ratios.logloss < 1)}`);
  log(`  train time adclick / xgb: ${fmtRatio(r.ratios.trainTime)}, target < 1 ${verdict(r.ratios.trainTime < 1)}`);
  if (r.ratios.excess !== undefined) {
    log(
      `  excess logloss over the oracle adclick / xgb: ${fmtRatio(r.ratios.excess)}, ` +
        `target ≤ 0.50 ${verdict(r.ratios.excess <= 0.5)}`,
    );
  }
  if (r.ratios.referenceExcess !== undefined) {
    log(
      `  excess logloss over the oracle, lr + true crosses / xgb: ${fmtRatio(r.ratios.referenceExcess)} ` +
        '(the reference: what learning the pairwise interactions can win)',
    );
  }
  if (r.cold) {
    log(`  cold-start test rows (user or ad not in train): ${fmtInt(r.cold.rows)} of ${fmtInt(r.testRows)}`);
    log(
      table(
        ['model', 'logloss', 'AUC', 'calibration'],
        ordered(r.cold.metrics).map((name) => {
          const x = r.cold!.metrics[name];
          return [label(name), fmt(x?.logloss, 5), fmt(x?.auc, 4), fmt(x?.calibration, 3)];
        }),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    const cold = r.ratios.coldLogloss ?? Number.NaN;
    log(`  cold rows, logloss adclick / const: ${fmtRatio3(cold)}, target < 1 ${verdict(cold < 1)}`);
  }
}

async function runSpeed(
  modelDir: string,
  dataDir: string,
  o: ModelBenchOptions,
): Promise<ScoreSpeedResult & { otherLoad: number; attempts: number[] }> {
  const once = async (): Promise<ScoreSpeedResult & { otherLoad: number }> => {
    const run = await runPinned(SERVER_CORE, process.execPath, [
      ...ADCLICK_NODE_FLAGS,
      '--import',
      'tsx',
      join('bench', 'model', 'score-speed.ts'),
      '--model',
      modelDir,
      '--data',
      dataDir,
      '--batch',
      String(o.batch),
      '--duration',
      String(o.durationS),
      '--warmup',
      String(o.warmupS),
    ]);
    return { ...(JSON.parse(run.stdout) as ScoreSpeedResult), otherLoad: run.otherLoad };
  };
  const { best, interference } = await leastDisturbed('scoring speed', once, (r) => r.otherLoad, o);
  return { ...best, attempts: interference };
}

export async function runModelBench(o: ModelBenchOptions): Promise<ModelBenchResult> {
  log('\n== model: adclick train/score vs XGBoost, logistic regression, constant CTR ==');
  const problem = modelBenchProblem(o);
  if (problem) throw new Error(problem);
  const xgboost = xgboostVersion();
  log(
    `peers: ${o.peersDir} (xgboost ${xgboost}, one thread); every process pinned to core ${SERVER_CORE}; ` +
      `metrics by score_preds.py`,
  );
  mkdirSync(o.dataDir, { recursive: true });
  const datasets: Dataset[] = [];
  const skipped: string[] = [];
  if (o.datasets.includes('synthetic')) {
    const trainRows = Math.round(o.syntheticRows * 0.8);
    datasets.push(
      syntheticDataset(o.dataDir, { seed: o.seed, trainRows, testRows: Math.max(1, o.syntheticRows - trainRows) }),
    );
  }
  const real = realDatasets(o.dataDir, o.peersDir, o.datasets);
  datasets.push(...real.datasets);
  if (real.skipped) {
    skipped.push(real.skipped);
    log(real.skipped);
  }

  const runDir = mkdtempSync(join(o.dataDir, 'run-'));
  const results: DatasetResult[] = [];
  let speed: ModelBenchResult['speed'];
  try {
    for (const d of datasets) {
      log(`\n-- ${d.name}: ${d.train}`);
      const r = await runDataset(d, runDir, o);
      printDataset(r);
      results.push(r);
    }
    const synthetic = datasets.find((d) => d.name === 'synthetic');
    if (synthetic) {
      log(`\n-- batch scoring on one core (${o.batch} candidate ads a request, in process)`);
      speed = await runSpeed(join(runDir, 'synthetic', 'model'), synthetic.dir, o);
      log(
        table(
          ['loop', 'predictions/s', 'ratio (ours/baseline)', 'target'],
          [
            [
              'adclick batch API',
              fmtInt(speed.ours.predictionsPerS),
              fmtRatio(ratio(speed.ours.predictionsPerS, speed.baseline.predictionsPerS)),
              `≥ 1,000,000 ${verdict(speed.ours.predictionsPerS >= 1_000_000)}`,
            ],
            [
              'adclick score() per row',
              fmtInt(speed.single.predictionsPerS),
              fmtRatio(ratio(speed.single.predictionsPerS, speed.baseline.predictionsPerS)),
              '',
            ],
            [`baseline: dot product of ${speed.fields} weights`, fmtInt(speed.baseline.predictionsPerS), '1.00×', ''],
          ],
        ),
      );
      log(
        `  model: ${speed.fields} fields (${speed.candidateFields.length} per candidate), 2^${speed.bits} slots, ` +
          `factor dim ${speed.factorDim}; other load on core ${SERVER_CORE}: ${pct(speed.otherLoad)} ` +
          `(attempts: ${speed.attempts.map(pct).join(', ')})`,
      );
    }
  } finally {
    if (o.keepData) log(`\nmodels and predictions kept in ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  }

  const targets: Target[] = [];
  for (const r of results) {
    const ours = r.metrics.adclick!.logloss;
    const xgb = r.metrics.xgb!.logloss;
    targets.push({
      name: `${r.name}: logloss below xgb's`,
      value: `${ours.toFixed(5)} vs ${xgb.toFixed(5)} (${fmtRatio3(r.ratios.logloss)})`,
      target: '< 1.00×',
      met: r.ratios.logloss < 1,
    });
  }
  for (const r of results) {
    targets.push({
      name: `${r.name}: train time below xgb's (one core each)`,
      value: `${r.ours.inProcessS.toFixed(1)} s vs ${(r.peers.trainS.xgb ?? Number.NaN).toFixed(1)} s (${fmtRatio(r.ratios.trainTime)})`,
      target: '< 1.00×',
      met: r.ratios.trainTime < 1,
    });
  }
  for (const r of results) {
    if (r.ratios.excess !== undefined) {
      targets.push({
        name: `${r.name}: excess logloss over the oracle vs xgb's`,
        value: fmtRatio(r.ratios.excess),
        target: '≤ 0.50×',
        met: r.ratios.excess <= 0.5,
      });
    }
    if (r.ratios.coldLogloss !== undefined) {
      targets.push({
        name: `${r.name} cold-start rows: logloss below the constant CTR's`,
        value: fmtRatio3(r.ratios.coldLogloss),
        target: '< 1.00×',
        met: r.ratios.coldLogloss < 1,
      });
    }
  }
  if (speed) {
    targets.push({
      name: 'batch scoring on one core',
      value: `${fmtInt(speed.ours.predictionsPerS)} predictions/s`,
      target: '≥ 1,000,000',
      met: speed.ours.predictionsPerS >= 1_000_000,
    });
  }
  return { xgboost, datasets: results, skipped, ...(speed ? { speed } : {}), targets };
}
