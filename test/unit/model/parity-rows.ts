import { logLoss } from '../../../sagemaker/model/metrics.js';
import { createRandom, type Random } from '../../../sagemaker/model/prng.js';
import { createScorer, sigmoid } from '../../../sagemaker/model/scorer.js';
import type { Example, trainModel } from '../../../sagemaker/model/train.js';

/** A generated row with its true click probability. */
export interface TrueExample extends Example {
  readonly p: number;
}

export interface ParityOptions {
  /** Logit shift when the group's and the category's parities agree (minus it when not); default 1.2. */
  readonly interaction?: number;
  /** Weight of each field's own effect (group % 3 up, category % 4 down); default 0: no signal alone. */
  readonly main?: number;
  /** More fields of the row, drawn after group and category and before the label. */
  readonly extra: (rng: Random) => Record<string, string>;
}

/**
 * Rows whose click rate depends on whether the user's group (10 values) and the ad's category
 * (10 values) agree in parity: a rank-1 interaction a factorization machine represents exactly and
 * a cross of the two fields learns as a weight per value pair, while a linear model cannot.
 */
export function parityRows(seed: number, count: number, o: ParityOptions): TrueExample[] {
  const interaction = o.interaction ?? 1.2;
  const main = o.main ?? 0;
  const rng = createRandom(seed);
  const out: TrueExample[] = [];
  for (let i = 0; i < count; i++) {
    const group = rng.int(10);
    const category = rng.int(10);
    const p = sigmoid(
      -1.5 + (group % 2 === category % 2 ? interaction : -interaction) + main * (group % 3) - main * (category % 4),
    );
    const features = { group: `g${group}`, category: `c${category}`, ...o.extra(rng) };
    out.push({ features, label: rng.next() < p ? 1 : 0, p });
  }
  return out;
}

/** The model's log loss on the rows. */
export function holdoutLoss(model: Awaited<ReturnType<typeof trainModel>>, rows: readonly TrueExample[]): number {
  const scorer = createScorer(model);
  return logLoss(
    rows.map((r) => scorer.score(r.features).probability),
    rows.map((r) => r.label as number),
  );
}

/** The log loss of the true probabilities on the rows: the floor no model can beat on average. */
export function oracleLoss(rows: readonly TrueExample[]): number {
  return logLoss(
    rows.map((r) => r.p),
    rows.map((r) => r.label as number),
  );
}
