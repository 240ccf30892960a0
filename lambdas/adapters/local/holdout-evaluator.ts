import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { evaluate, type FeatureMap, loadScorer } from '../../../sagemaker/index.js';
import type { HoldoutEvaluator, ModelRef } from '../../core/ports.js';
import type { HoldoutMetrics, SegmentMetrics } from '../../core/schemas/models.js';
import { unpackedDir } from './artifact-store.js';

export const HOLDOUT_FILE = 'holdout.jsonl';
/** The segments the gate checks calibration on, largest first. */
export const SEGMENT_FIELD = 'device_type';

interface HoldoutRow {
  features: FeatureMap;
  label: 0 | 1;
}

function metrics(p: number[], y: (0 | 1)[]): HoldoutMetrics {
  const e = evaluate(p, y);
  return { rows: e.rows, positives: e.positives, logloss: e.logloss, calibration: e.calibration, auc: e.auc };
}

/**
 * Scores models on the local holdout: `<dir>/holdout.jsonl`, one `{"features", "label"}` a line,
 * drawn from a time later than any model's training data. Every model sees the same rows, so
 * the gate compares like with like. No file means no holdout (the gate then needs `force`).
 */
export class LocalHoldoutEvaluator implements HoldoutEvaluator {
  constructor(private readonly dir: string) {}

  get file(): string {
    return join(this.dir, HOLDOUT_FILE);
  }

  private async rows(): Promise<HoldoutRow[]> {
    const rows: HoldoutRow[] = [];
    const lines = createInterface({ input: createReadStream(this.file), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const row = JSON.parse(line) as HoldoutRow;
      rows.push(row);
    }
    return rows;
  }

  async evaluate(models: readonly ModelRef[]) {
    if (!existsSync(this.file)) return null;
    const rows = await this.rows();
    if (rows.length === 0) return null;
    const labels = rows.map((r) => r.label);
    const segmentOf = rows.map((r) => String(r.features[SEGMENT_FIELD] ?? '(missing)'));
    const segments = [...new Set(segmentOf)];
    const results = await Promise.all(
      models.map(async (m) => {
        const scorer = await loadScorer(unpackedDir(fileURLToPath(m.artifact_uri)));
        const p = rows.map((r) => scorer.score(r.features).probability);
        const perSegment: SegmentMetrics[] = segments.map((segment) => {
          const idx = segmentOf.flatMap((s, i) => (s === segment ? [i] : []));
          return {
            segment: `${SEGMENT_FIELD}=${segment}`,
            ...metrics(
              idx.map((i) => p[i]!),
              idx.map((i) => labels[i]!),
            ),
          };
        });
        return { overall: metrics(p, labels), segments: perSegment };
      }),
    );
    return { holdout: `${rows.length} rows of ${this.file}`, results };
  }
}
