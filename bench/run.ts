/**
 * `npm run bench`: runs the benchmarks, prints every figure next to its baseline measured in
 * the same run (as a ratio), prints a summary table, and writes the results as JSON to
 * bench/results/<timestamp>.json. See bench/README.md.
 *
 *   npm run bench -- [--duration 10] [--warmup 3] [--connections 32] [--only predict|ingest|model|fraud|analytics|lake-compaction|training-set|lambda-cold-start] [--cpu-prof]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type AnalyticsBenchResult, runAnalyticsBench } from './analytics.js';
import { nonNegativeInt, positiveInt } from './args.js';
import { type FraudBenchResult, runFraudBench } from './fraud.js';
import { type IngestBenchResult, runIngestBench } from './ingest.js';
import { type LakeCompactionBenchResult, runLakeCompactionBench } from './lake-compaction.js';
import { type LambdaColdStartResult, runLambdaColdStartBench } from './lambda-cold-start.js';
import { DATASETS, type DatasetName } from './model/datasets.js';
import { defaultPeersDir } from './model/peers.js';
import { fmtRatio3, type ModelBenchResult, modelBenchProblem, runModelBench } from './model.js';
import { type PredictBenchResult, runPredictBench, type Target } from './predict-http.js';
import {
  BENCH_DIR,
  cpuBusy,
  fmtInt,
  fmtMs,
  fmtRatio,
  hasTaskset,
  LOADGEN_CORE,
  log,
  REPO_ROOT,
  SERVER_CORE,
  table,
  verdict,
  wrkVersion,
} from './support.js';
import { runTrainingSetBench, type TrainingSetBenchResult } from './training-set.js';

const program = new Command()
  .name('bench')
  .description(
    'adclick benchmarks: /predict over HTTP, durable ingest and the model, each against its baseline in the same run',
  )
  .option('--duration <seconds>', 'measured seconds of each run', positiveInt, 10)
  .option('--warmup <seconds>', 'warm-up seconds before each run (not measured)', positiveInt, 3)
  .option('--connections <n>', 'wrk connections (and paced-load connection pool)', positiveInt, 32)
  .addOption(
    new Option('--only <bench>', 'run one benchmark only').choices([
      'predict',
      'ingest',
      'model',
      'fraud',
      'analytics',
      'lake-compaction',
      'training-set',
      'lambda-cold-start',
    ]),
  )
  .option('--bootstrap-rows <n>', 'ADCLICK_BOOTSTRAP_ROWS of the server under test', positiveInt, 200_000)
  .option('--batch-size <n>', 'events per POST /event/batch (≤ 500)', positiveInt, 500)
  .option('--users <n>', '/predict user pool', positiveInt, 10_000)
  .option('--ads <n>', '/predict ad pool', positiveInt, 200)
  .option('--cpu-prof', "profile adclick's main thread (node --cpu-prof) and print where the CPU went", false)
  .option('--retries <n>', 'measure a run again (at most n times) when other processes disturbed it', nonNegativeInt, 2)
  .option(
    '--ip-pool <n>',
    'distinct IPs in ingested events: -1 a random 10.x.y.z per event (default), 0 no ip field, N a pool of N',
    (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) throw new InvalidArgumentError('must be -1, 0 or a positive integer');
      return n;
    },
    -1,
  )
  .option('--quiet-wait <seconds>', 'wait up to this long for both cores to be idle before each run', positiveInt, 30)
  .option('--keep-data', "keep the servers' data directories (and the model benchmark's models and predictions)", false)
  .option('--model-rows <n>', 'model benchmark: synthetic rows, split 80 % train / 20 % test', positiveInt, 250_000)
  .option('--model-seed <n>', 'model benchmark: seed of the synthetic data', nonNegativeInt, 1)
  .option(
    '--model-datasets <list>',
    `model benchmark: comma-separated subset of ${DATASETS.join(',')} (criteo and avazu need the peers' data folder)`,
    (v: string) => {
      const names = v.split(',').map((s) => s.trim());
      for (const n of names) {
        if (!(DATASETS as readonly string[]).includes(n)) {
          throw new InvalidArgumentError(`unknown data set ${n}; choose from ${DATASETS.join(', ')}`);
        }
      }
      return names as DatasetName[];
    },
    [...DATASETS],
  )
  .option(
    '--model-data <dir>',
    'model benchmark: where data sets are generated (and reused) and models written',
    join(tmpdir(), 'adclick-bench-model'),
  )
  .option(
    '--peers <dir>',
    'model benchmark: folder of peers.py, score_preds.py, prepare_real.py (env ADCLICK_PEERS_DIR)',
    defaultPeersDir(),
  )
  .option('--score-batch <n>', 'model benchmark: candidate ads a request in the scoring-speed loops', positiveInt, 100)
  .option('--fraud-impressions <n>', 'fraud benchmark: honest impressions in the simulated hour', positiveInt, 500_000)
  .option('--fraud-seed <n>', 'fraud benchmark: seed of the simulated traffic', nonNegativeInt, 1)
  .option(
    '--analytics-impressions <n>',
    'analytics benchmark: impressions in the synthetic lake',
    positiveInt,
    10_000_000,
  )
  .option(
    '--lake-compaction-hours <n>',
    'lake compaction benchmark: hours of light traffic in its lake',
    positiveInt,
    6,
  )
  .option('--analytics-runs <n>', 'analytics benchmark: measured requests of each kind (median)', positiveInt, 5)
  .option('--analytics-plain-runs <n>', 'analytics benchmark: runs of the plain query (0: skip it)', nonNegativeInt, 1)
  .option(
    '--analytics-lake <dir>',
    'analytics benchmark: where the lake is generated (and reused)',
    join(tmpdir(), 'adclick-bench-lake'),
  )
  .option(
    '--training-set-impressions <n>',
    'training-set benchmark: impressions in the synthetic lake',
    positiveInt,
    10_000_000,
  )
  .option(
    '--training-set-negative-rate <r>',
    "training-set benchmark: the build's --negative-rate (1 writes every negative)",
    (v: string) => {
      const r = Number(v);
      if (!(r > 0 && r <= 1)) throw new InvalidArgumentError('must be in (0, 1]');
      return r;
    },
    1,
  )
  .option(
    '--training-set-lake <dir>',
    "training-set benchmark: where the lake is generated (and reused; the analytics benchmark's by default)",
    join(tmpdir(), 'adclick-bench-lake'),
  )
  .option('--lambda-init-runs <n>', 'lambda cold-start benchmark: fresh node processes per bundle', positiveInt, 15)
  .parse();

const opts = program.opts<{
  duration: number;
  warmup: number;
  connections: number;
  only?:
    | 'predict'
    | 'ingest'
    | 'model'
    | 'fraud'
    | 'analytics'
    | 'lake-compaction'
    | 'training-set'
    | 'lambda-cold-start';
  bootstrapRows: number;
  batchSize: number;
  users: number;
  ads: number;
  cpuProf: boolean;
  quietWait: number;
  retries: number;
  ipPool: number;
  keepData: boolean;
  modelRows: number;
  modelSeed: number;
  modelDatasets: DatasetName[];
  modelData: string;
  peers: string;
  scoreBatch: number;
  fraudImpressions: number;
  fraudSeed: number;
  analyticsImpressions: number;
  analyticsRuns: number;
  lakeCompactionHours: number;
  analyticsPlainRuns: number;
  analyticsLake: string;
  trainingSetImpressions: number;
  trainingSetNegativeRate: number;
  trainingSetLake: string;
  lambdaInitRuns: number;
}>();

const runs = {
  predict: opts.only === undefined || opts.only === 'predict',
  ingest: opts.only === undefined || opts.only === 'ingest',
  model: opts.only === undefined || opts.only === 'model',
  fraud: opts.only === undefined || opts.only === 'fraud',
  analytics: opts.only === undefined || opts.only === 'analytics',
  lakeCompaction: opts.only === undefined || opts.only === 'lake-compaction',
  trainingSet: opts.only === undefined || opts.only === 'training-set',
  lambdaColdStart: opts.only === undefined || opts.only === 'lambda-cold-start',
};
const http = runs.predict || runs.ingest;

if (runs.model) {
  const problem = modelBenchProblem({ peersDir: resolve(opts.peers) });
  if (problem) {
    process.stderr.write(`the model benchmark cannot run: ${problem}\n`);
    process.exit(1);
  }
}
const wrk = http ? wrkVersion() : 'not needed';
if (!wrk) {
  process.stderr.write(
    'wrk is not installed; the benchmarks need it.\n' +
      '  Debian/Ubuntu: sudo apt-get install -y wrk\n' +
      '  macOS:         brew install wrk\n',
  );
  process.exit(1);
}
if (!hasTaskset()) {
  process.stderr.write('taskset is not available (util-linux); the benchmarks pin processes to cores with it.\n');
  process.exit(1);
}
if (opts.batchSize > 500) {
  process.stderr.write('--batch-size must be at most 500 (the API limit).\n');
  process.exit(2);
}
const cores = cpus().length;
if (http && cores < 2) {
  process.stderr.write(
    `the benchmarks need 2 cores (server on core ${SERVER_CORE}, load on ${LOADGEN_CORE}); found ${cores}\n`,
  );
  process.exit(1);
}

if (http) {
  // The servers under test run what `npm start` runs: the compiled dist/, without a TS loader.
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const resultsDir = join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });
const profDir = opts.cpuProf ? join(resultsDir, `${stamp}-profiles`) : undefined;

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const busy = await cpuBusy(1000);
const machine = {
  node: process.version,
  wrk,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores,
  kernel: release(),
  commit: git(['rev-parse', '--short', 'HEAD']),
  dirty: git(['status', '--porcelain']) !== '',
  busyBeforeStart: busy,
};
log(`adclick benchmarks, ${new Date().toISOString()}`);
log(
  `node ${machine.node}, ${machine.wrk}, ${machine.cpu} × ${cores}, linux ${machine.kernel}, ` +
    `commit ${machine.commit}${machine.dirty ? ' (uncommitted changes)' : ''}`,
);
log(
  (http ? `servers pinned to core ${SERVER_CORE}, load generators (wrk, paced-load) to core ${LOADGEN_CORE}; ` : '') +
    `duration ${opts.duration} s, warm-up ${opts.warmup} s${http ? `, ${opts.connections} connections` : ''}`,
);
if (runs.model) {
  log(
    `model benchmark: ${opts.modelDatasets.join(', ')}; ${fmtInt(opts.modelRows)} synthetic rows (seed ${opts.modelSeed}); ` +
      `data in ${opts.modelData}`,
  );
}
if (opts.cpuProf) {
  log(
    'note: --cpu-prof slows adclick down (sampling profiler), so its figures in this run are not comparable ' +
      'with an unprofiled run; use it to see where the time goes, not for the numbers',
  );
}
log(`cores busy before start: ${busy.map((b) => `${(b * 100).toFixed(0)}%`).join(', ')}`);
if (busy.some((b) => b > 0.1)) {
  log(
    'warning: other processes are using the CPU; each run first waits for a quiet machine, and prints the load it saw',
  );
}

let predict: PredictBenchResult | undefined;
let ingest: IngestBenchResult | undefined;
let model: ModelBenchResult | undefined;
let fraud: FraudBenchResult | undefined;
let analytics: AnalyticsBenchResult | undefined;
let lakeCompaction: LakeCompactionBenchResult | undefined;
let trainingSet: TrainingSetBenchResult | undefined;
let lambdaColdStart: LambdaColdStartResult | undefined;
if (runs.predict) {
  predict = await runPredictBench({
    durationS: opts.duration,
    warmupS: opts.warmup,
    connections: opts.connections,
    bootstrapRows: opts.bootstrapRows,
    users: opts.users,
    ads: opts.ads,
    cpuProfDir: profDir,
    keepData: opts.keepData,
    quietWaitS: opts.quietWait,
    retries: opts.retries,
  });
}
if (runs.ingest) {
  ingest = await runIngestBench({
    durationS: opts.duration,
    warmupS: opts.warmup,
    connections: opts.connections,
    bootstrapRows: opts.bootstrapRows,
    batchSize: opts.batchSize,
    cpuProfDir: profDir,
    keepData: opts.keepData,
    quietWaitS: opts.quietWait,
    retries: opts.retries,
    ipPool: opts.ipPool,
  });
}
if (runs.model) {
  model = await runModelBench({
    syntheticRows: opts.modelRows,
    seed: opts.modelSeed,
    datasets: opts.modelDatasets,
    dataDir: resolve(opts.modelData),
    peersDir: resolve(opts.peers),
    durationS: opts.duration,
    warmupS: opts.warmup,
    batch: opts.scoreBatch,
    quietWaitS: opts.quietWait,
    retries: opts.retries,
    keepData: opts.keepData,
  });
}

// ---- summary
const rows: string[][] = [];
if (predict) {
  const p = predict;
  rows.push(
    ['/predict req/s (wrk)', fmtInt(p.ours.wrk.rps), fmtInt(p.hello.wrk.rps), 'hello-server', fmtRatio(p.ratios.rps)],
    [
      '/predict p99 (wrk)',
      fmtMs(p.ours.wrk.latencyMs.p99),
      fmtMs(p.hello.wrk.latencyMs.p99),
      'hello-server',
      fmtRatio(p.ratios.p99),
    ],
    [
      `/predict p99 at ${fmtInt(p.halfRate)} req/s`,
      fmtMs(p.ours.paced.latencyMs.p99),
      fmtMs(p.hello.paced.latencyMs.p99),
      'hello-server',
      fmtRatio(p.ratios.pacedP99),
    ],
    [
      `/predict p99.9 at ${fmtInt(p.halfRate)} req/s`,
      fmtMs(p.ours.paced.latencyMs.p999),
      fmtMs(p.hello.paced.latencyMs.p999),
      'hello-server',
      fmtRatio(p.ratios.pacedP999),
    ],
    [
      '/predict peak RSS',
      `${p.ours.rssPeakMb.toFixed(0)} MB`,
      `${p.hello.rssPeakMb.toFixed(0)} MB`,
      'hello-server',
      fmtRatio(p.ours.rssPeakMb / p.hello.rssPeakMb),
    ],
  );
}
for (const r of ingest?.routes ?? []) {
  rows.push(
    [
      `${r.path} events/s`,
      fmtInt(r.ours.eventsPerS),
      fmtInt(r.baseline.eventsPerS),
      'durable-baseline',
      fmtRatio(r.ratio),
    ],
    [
      `${r.path} p99`,
      fmtMs(r.ours.wrk.latencyMs.p99),
      fmtMs(r.baseline.wrk.latencyMs.p99),
      'durable-baseline',
      fmtRatio(r.ours.wrk.latencyMs.p99 / r.baseline.wrk.latencyMs.p99),
    ],
    [
      `${r.path} peak RSS`,
      `${r.ours.rssPeakMb.toFixed(0)} MB`,
      `${r.baseline.rssPeakMb.toFixed(0)} MB`,
      'durable-baseline',
      fmtRatio(r.ours.rssPeakMb / r.baseline.rssPeakMb),
    ],
  );
}
for (const d of model?.datasets ?? []) {
  rows.push(
    [
      `model logloss, ${d.name}`,
      d.metrics.adclick!.logloss.toFixed(5),
      d.metrics.xgb!.logloss.toFixed(5),
      'xgboost',
      fmtRatio3(d.ratios.logloss),
    ],
    [
      `model train s, ${d.name}`,
      d.ours.inProcessS.toFixed(1),
      (d.peers.trainS.xgb ?? Number.NaN).toFixed(1),
      'xgboost, 1 thread',
      fmtRatio(d.ratios.trainTime),
    ],
  );
  if (d.ratios.excess !== undefined) {
    rows.push([
      `model excess over oracle, ${d.name}`,
      (d.metrics.adclick!.excess_logloss_vs_oracle ?? Number.NaN).toFixed(5),
      (d.metrics.xgb!.excess_logloss_vs_oracle ?? Number.NaN).toFixed(5),
      'xgboost',
      fmtRatio(d.ratios.excess),
    ]);
  }
  if (d.cold && d.ratios.coldLogloss !== undefined) {
    rows.push([
      `model logloss, ${d.name} cold rows`,
      (d.cold.metrics.adclick?.logloss ?? Number.NaN).toFixed(5),
      (d.cold.metrics.const?.logloss ?? Number.NaN).toFixed(5),
      'constant CTR',
      fmtRatio3(d.ratios.coldLogloss),
    ]);
  }
}
if (model?.speed) {
  const s = model.speed;
  rows.push([
    'batch predictions/s (1 core)',
    fmtInt(s.ours.predictionsPerS),
    fmtInt(s.baseline.predictionsPerS),
    'dot product',
    fmtRatio(s.ours.predictionsPerS / s.baseline.predictionsPerS),
  ]);
}
if (runs.fraud) {
  fraud = await runFraudBench({
    seed: opts.fraudSeed,
    impressions: opts.fraudImpressions,
    durationS: opts.duration,
    warmupS: opts.warmup,
    quietWaitS: opts.quietWait,
    retries: opts.retries,
  });
  const f = fraud.measure;
  rows.push([
    'event path events/s with fraud rules',
    fmtInt(f.withRules.eventsPerS),
    fmtInt(f.baseline.eventsPerS),
    'no-op detector',
    fmtRatio(f.withRules.eventsPerS / f.baseline.eventsPerS),
  ]);
}
if (runs.lakeCompaction) {
  lakeCompaction = await runLakeCompactionBench({
    hours: opts.lakeCompactionHours,
    impressionsPerSecond: 30,
    runs: 5,
    keepData: opts.keepData,
    quietWaitS: opts.quietWait,
  });
  for (const q of lakeCompaction.queries) {
    rows.push([
      `${q.name}, ${fmtInt(lakeCompaction.filesAfter)} merged files`,
      fmtMs(q.afterMs),
      fmtMs(q.beforeMs),
      `${fmtInt(lakeCompaction.filesBefore)} small files`,
      fmtRatio(q.afterMs / q.beforeMs),
    ]);
  }
}
if (runs.analytics) {
  analytics = await runAnalyticsBench({
    impressions: opts.analyticsImpressions,
    days: 7,
    seed: 1,
    runs: opts.analyticsRuns,
    plainRuns: opts.analyticsPlainRuns,
    lakeDir: resolve(opts.analyticsLake),
    keepData: opts.keepData,
    quietWaitS: opts.quietWait,
  });
  if (analytics.plainMs !== null) {
    rows.push([
      `ad-performance, ${fmtInt(analytics.lake.impressions)} impressions, warm`,
      fmtMs(analytics.warmMs),
      fmtMs(analytics.plainMs),
      'plain query, no rollups',
      `${(analytics.warmMs / analytics.plainMs).toPrecision(2)}×`,
    ]);
  }
}
if (runs.trainingSet) {
  trainingSet = await runTrainingSetBench({
    impressions: opts.trainingSetImpressions,
    days: 7,
    seed: 1,
    negativeRate: opts.trainingSetNegativeRate,
    lakeDir: resolve(opts.trainingSetLake),
    keepData: opts.keepData,
    quietWaitS: opts.quietWait,
    retries: opts.retries,
  });
  rows.push([
    `training-set build s, ${fmtInt(trainingSet.lake.impressions)} impressions`,
    trainingSet.buildS.toFixed(1),
    trainingSet.scanS.toFixed(1),
    'bare scan of the columns',
    fmtRatio(trainingSet.buildS / trainingSet.scanS),
  ]);
}
if (runs.lambdaColdStart) {
  lambdaColdStart = await runLambdaColdStartBench({
    initRuns: opts.lambdaInitRuns,
    quietWaitS: opts.quietWait,
    keepData: opts.keepData,
  });
  rows.push(...lambdaColdStart.rows);
}
const targets: Target[] = [
  ...(predict?.targets ?? []),
  ...(ingest?.targets ?? []),
  ...(model?.targets ?? []),
  ...(fraud?.targets ?? []),
  ...(analytics?.targets ?? []),
  ...(trainingSet?.targets ?? []),
  ...(lambdaColdStart?.targets ?? []),
];
log('\n== summary ==');
log(table(['figure', 'adclick', 'baseline', 'baseline is', 'ratio (ours/baseline)'], rows));
log('');
log(
  targets.length > 0
    ? table(
        ['target', 'measured', 'target', ''],
        targets.map((t) => [t.name, t.value, t.target, verdict(t.met)]),
      )
    : '(the benchmarks run have no targets)',
);

const file = join(resultsDir, `${stamp}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ startedAt: stamp, options: opts, machine, predict, ingest, model, fraud, analytics, lakeCompaction, trainingSet, lambdaColdStart, targets }, null, 2)}\n`,
);
log(`\nresults: ${file}${profDir ? `\nprofiles: ${profDir}` : ''}`);
