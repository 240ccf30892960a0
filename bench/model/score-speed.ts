/**
 * Batch scoring speed, in process, on whatever core this process is pinned to (bench/model.ts
 * runs it under `taskset -c 0`):
 *
 *   node --import tsx bench/model/score-speed.ts --model MODEL_DIR --data SYNTHETIC_DIR [--batch 100] [--duration 3]
 *
 * Requests are built from the synthetic test rows (SYNTHETIC_DIR/meta.json's options replay
 * them): request r is the user and context of test row r with `--batch` candidate ads taken
 * from the following test rows, the shape of a POST /predict/batch. Three loops over the same
 * requests, each for `--duration` seconds after a warm-up:
 *
 *   batch      the scorer's batch API: the shared fields once per request, then each candidate
 *   single     scorer.score() on each candidate's full feature map (merged beforehand)
 *   baseline   a plain dot product: for each prediction, the sum of as many float32 weights as
 *              the model has fields, at slots drawn beforehand (no hashing, no factors), and a
 *              sigmoid: the floor of any hashed linear scorer
 *
 * Prints one JSON object on stdout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { type FeatureMap, loadScorer } from '../../sagemaker/index.js';
import { createRandom } from '../../sagemaker/model/prng.js';
import {
  SYNTHETIC_FILES,
  SYNTHETIC_FORMAT,
  type SyntheticSummary,
  syntheticExamples,
} from '../../sagemaker/synthetic/index.js';
import { positive, positiveInt } from '../args.js';

/** The synthetic columns that describe the ad: a candidate's own fields. */
export const AD_FIELDS = ['ad_id', 'campaign_id', 'advertiser_id', 'ad_category', 'ad_price', 'ad_age_days'];

export interface SpeedFigure {
  readonly predictions: number;
  readonly seconds: number;
  readonly predictionsPerS: number;
}

export interface ScoreSpeedResult {
  readonly fields: number;
  readonly candidateFields: readonly string[];
  readonly bits: number;
  readonly factorDim: number;
  readonly batch: number;
  readonly requests: number;
  readonly ours: SpeedFigure;
  readonly single: SpeedFigure;
  readonly baseline: SpeedFigure;
  /** Sum of every probability computed, printed so that no loop can be optimised away. */
  readonly checksum: number;
}

/** Runs `round` (which returns the predictions it made) for `seconds` after `warmupS`. */
function timed(round: () => number, seconds: number, warmupS: number): SpeedFigure {
  const warmEnd = performance.now() + warmupS * 1000;
  while (performance.now() < warmEnd) round();
  let predictions = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let now = t0;
  while (now < end) {
    predictions += round();
    now = performance.now();
  }
  const elapsed = (now - t0) / 1000;
  return { predictions, seconds: elapsed, predictionsPerS: predictions / elapsed };
}

const program = new Command()
  .name('score-speed')
  .requiredOption('--model <dir>', 'model folder (adclick train --out)')
  .requiredOption(
    '--data <dir>',
    'synthetic data folder (bench/model/generate.ts --out): its test rows become requests',
  )
  .option('--batch <n>', 'candidate ads per request', positiveInt, 100)
  .option('--requests <n>', 'distinct requests cycled through', positiveInt, 1_000)
  .option('--duration <s>', 'measured seconds of each loop', positive, 3)
  .option('--warmup <s>', 'unmeasured seconds before each loop', positive, 1)
  .parse();
const o = program.opts<{
  model: string;
  data: string;
  batch: number;
  requests: number;
  duration: number;
  warmup: number;
}>();

function readMeta(dir: string): SyntheticSummary {
  const file = join(dir, SYNTHETIC_FILES.meta);
  let meta: Partial<SyntheticSummary>;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as Partial<SyntheticSummary>;
  } catch (e) {
    throw new Error(`--data ${dir}: cannot read ${file} (${(e as Error).message}); is it a synthetic data folder?`);
  }
  if (meta.format !== SYNTHETIC_FORMAT || typeof meta.options !== 'object') {
    throw new Error(`--data ${dir}: ${file} is not the meta.json of a ${SYNTHETIC_FORMAT} data set`);
  }
  return meta as SyntheticSummary;
}

let meta: SyntheticSummary;
try {
  meta = readMeta(o.data);
} catch (e) {
  process.stderr.write(`score-speed: ${(e as Error).message}\n`);
  process.exit(2);
}
const scorer = await loadScorer(o.model);
const manifest = scorer.manifest;
const modelFields: readonly string[] = manifest.fields;
const candidateFields = AD_FIELDS.filter((f) => modelFields.includes(f));

// Requests from the test rows: shared = everything but the ad, candidates = the next rows' ads.
const needed = o.requests + o.batch;
const rows: FeatureMap[] = [];
for (const e of syntheticExamples(meta.options)) {
  if (!e.test) continue;
  rows.push(e.features as FeatureMap);
  if (rows.length >= needed) break;
}
const requests = Math.min(o.requests, Math.max(1, rows.length - o.batch));
const shared: FeatureMap[] = [];
const candidates: FeatureMap[][] = [];
const merged: FeatureMap[][] = [];
for (let r = 0; r < requests; r++) {
  const row = rows[r]!;
  const s: Record<string, FeatureMap[string]> = {};
  for (const [k, v] of Object.entries(row)) if (!AD_FIELDS.includes(k)) s[k] = v;
  shared.push(s);
  const ads: FeatureMap[] = [];
  const full: FeatureMap[] = [];
  for (let c = 0; c < o.batch; c++) {
    const source = rows[(r + 1 + c) % rows.length]!;
    const ad: Record<string, FeatureMap[string]> = {};
    for (const f of AD_FIELDS) ad[f] = source[f] ?? null;
    ads.push(ad);
    full.push({ ...s, ...ad });
  }
  candidates.push(ads);
  merged.push(full);
}

let checksum = 0;
const out = new Float64Array(o.batch);
const batch = scorer.batch(candidateFields);
let next = 0;
const ours = timed(
  () => {
    const r = next++ % requests;
    batch.score(shared[r]!, candidates[r]!, out);
    checksum += out[0]!;
    return o.batch;
  },
  o.duration,
  o.warmup,
);

next = 0;
const single = timed(
  () => {
    const r = next++ % requests;
    const full = merged[r]!;
    for (let c = 0; c < full.length; c++) checksum += scorer.score(full[c]!).probability;
    return o.batch;
  },
  o.duration,
  o.warmup,
);

// The baseline reads as many weights per prediction as the model has fields, from a table of the
// model's size, at slots drawn beforehand so that it pays for no hashing.
const bits = manifest.hashing.bits;
const weights = new Float32Array(2 ** bits);
const rng = createRandom(7);
for (let i = 0; i < weights.length; i++) weights[i] = 0.01 * rng.normal();
const fields = modelFields.length;
const slots = new Uint32Array(requests * o.batch * fields);
for (let i = 0; i < slots.length; i++) slots[i] = rng.int(weights.length);
next = 0;
const baseline = timed(
  () => {
    const r = next++ % requests;
    let at = r * o.batch * fields;
    for (let c = 0; c < o.batch; c++) {
      let logit = 0;
      for (let f = 0; f < fields; f++) logit += weights[slots[at++]!]!;
      out[c] = 1 / (1 + Math.exp(-logit));
    }
    checksum += out[0]!;
    return o.batch;
  },
  o.duration,
  o.warmup,
);

const result: ScoreSpeedResult = {
  fields,
  candidateFields,
  bits,
  factorDim: 'factor_dim' in manifest && typeof manifest.factor_dim === 'number' ? manifest.factor_dim : 0,
  batch: o.batch,
  requests,
  ours,
  single,
  baseline,
  checksum,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
