/**
 * The holdout gate's numbers, for every HoldoutEvaluator (local file or S3 object): the holdout
 * is JSON Lines, one `{"features": {...}, "label": 0|1}` a line, drawn from a time later than any
 * model's training data. Each line is scored by every model as it is read, so only the scores,
 * the labels and a segment index per row are kept, never the rows: a holdout is read once
 * however many models it judges, and its size in memory is ~(8 · models + 5) bytes a row.
 *
 * A holdout longer than `maxRows` is read up to that many rows and said to be (the `holdout`
 * text names "the first N rows"): the gate's figures then come from a prefix, never from an
 * unbounded read.
 */
import { evaluate, type FeatureMap, type Scorer } from '../../../sagemaker/index.js';
import type { HoldoutMetrics, SegmentMetrics } from '../../core/schemas/models.js';

/** The segments the gate checks calibration on. */
export const SEGMENT_FIELD = 'device_type';
/** What a row without the segment field is filed under. */
export const MISSING_SEGMENT = '(missing)';
/** Rows read at most: 2 M rows of 2 models hold ~42 MB of scores. */
export const DEFAULT_MAX_HOLDOUT_ROWS = 2_000_000;

export interface HoldoutRow {
  readonly features: FeatureMap;
  readonly label: 0 | 1;
}

export interface HoldoutResult {
  overall: HoldoutMetrics;
  segments: SegmentMetrics[];
}

/** One result per model, in the models' order, and what they were scored on. */
export interface HoldoutEvaluation {
  holdout: string;
  results: HoldoutResult[];
}

/** A holdout line that is not a `{"features", "label"}` row: the file is broken, not the request. */
export class InvalidHoldoutRowError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`holdout line ${line}: ${reason}`);
    this.name = 'InvalidHoldoutRowError';
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** One line as a row (undefined for a blank line), checked field by field; `line` is 1-based. */
export function parseHoldoutLine(text: string, line: number): HoldoutRow | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidHoldoutRowError(line, 'not JSON');
  }
  if (!isPlainObject(value)) throw new InvalidHoldoutRowError(line, 'not a JSON object');
  const { features, label } = value;
  if (!isPlainObject(features)) throw new InvalidHoldoutRowError(line, '"features" is not an object');
  for (const [name, v] of Object.entries(features)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new InvalidHoldoutRowError(line, `feature "${name}" is not a string, number, boolean or null`);
    }
  }
  // The bootstrap writes the trainer's labels, which may be booleans.
  if (label === 1 || label === true) return { features: features as FeatureMap, label: 1 };
  if (label === 0 || label === false) return { features: features as FeatureMap, label: 0 };
  throw new InvalidHoldoutRowError(line, '"label" is not 0, 1, true or false');
}

const segmentOf = (features: FeatureMap): string => String(features[SEGMENT_FIELD] ?? MISSING_SEGMENT);

function metrics(p: ArrayLike<number>, y: ArrayLike<number>): HoldoutMetrics {
  const e = evaluate(p, y);
  return { rows: e.rows, positives: e.positives, logloss: e.logloss, calibration: e.calibration, auc: e.auc };
}

/** A growable Float64Array / Uint8Array / Int32Array: doubling, then trimmed by `view`. */
class Column<A extends Float64Array | Uint8Array | Int32Array> {
  private data: A;
  length = 0;

  constructor(private readonly make: (n: number) => A) {
    this.data = make(1024);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = this.make(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  view(): A {
    return this.data.subarray(0, this.length) as A;
  }
}

/**
 * Reads holdout lines, scoring each row with every scorer, and returns each model's metrics
 * overall and per segment (segments in order of first appearance), or null for a holdout with no
 * rows. `source` names the holdout in the result. Stops reading after `maxRows` rows: the caller
 * closes its stream when the iteration ends early (a `for await` break calls `return`).
 */
export async function scoreHoldout(
  lines: AsyncIterable<string>,
  scorers: readonly Pick<Scorer, 'score'>[],
  options: { source: string; maxRows?: number },
): Promise<HoldoutEvaluation | null> {
  const maxRows = options.maxRows ?? DEFAULT_MAX_HOLDOUT_ROWS;
  const scores = scorers.map(() => new Column((n) => new Float64Array(n)));
  const labels = new Column((n) => new Uint8Array(n));
  const segmentIndex = new Column((n) => new Int32Array(n));
  const segments = new Map<string, number>();
  let lineNo = 0;
  let truncated = false;
  for await (const line of lines) {
    lineNo++;
    const row = parseHoldoutLine(line, lineNo);
    if (row === undefined) continue;
    if (labels.length === maxRows) {
      truncated = true;
      break;
    }
    labels.push(row.label);
    const segment = segmentOf(row.features);
    let index = segments.get(segment);
    if (index === undefined) {
      index = segments.size;
      segments.set(segment, index);
    }
    segmentIndex.push(index);
    scorers.forEach((scorer, m) => {
      scores[m]!.push(scorer.score(row.features).probability);
    });
  }
  const n = labels.length;
  if (n === 0) return null;
  const y = labels.view();
  const seg = segmentIndex.view();
  // Row positions per segment, once for all models.
  const members = [...segments.keys()].map(() => new Column((k) => new Int32Array(k)));
  for (let i = 0; i < n; i++) members[seg[i]!]!.push(i);
  const names = [...segments.keys()];
  const results = scores.map((column) => {
    const p = column.view();
    const perSegment: SegmentMetrics[] = names.map((name, s) => {
      const idx = members[s]!.view();
      const ps = new Float64Array(idx.length);
      const ys = new Uint8Array(idx.length);
      for (let j = 0; j < idx.length; j++) {
        ps[j] = p[idx[j]!]!;
        ys[j] = y[idx[j]!]!;
      }
      return { segment: `${SEGMENT_FIELD}=${name}`, ...metrics(ps, ys) };
    });
    return { overall: metrics(p, y), segments: perSegment };
  });
  const holdout = truncated ? `the first ${n} rows of ${options.source}` : `${n} rows of ${options.source}`;
  return { holdout, results };
}
