import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadScorer } from '../../../sagemaker/index.js';
import type { HoldoutEvaluator, ModelRef } from '../../core/ports.js';
import { type HoldoutEvaluation, scoreHoldout } from '../shared/holdout-metrics.js';
import { unpackedDir } from './artifact-store.js';

export { SEGMENT_FIELD } from '../shared/holdout-metrics.js';
export const HOLDOUT_FILE = 'holdout.jsonl';

export interface LocalHoldoutEvaluatorOptions {
  /** Rows read at most (default 2 M, shared/holdout-metrics.ts). */
  readonly maxRows?: number;
}

/**
 * Scores models on the local holdout: `<dir>/holdout.jsonl` (the format and the metrics are
 * shared with the S3 evaluator: shared/holdout-metrics.ts), drawn from a time later than any
 * model's training data. Every model sees the same rows, so the gate compares like with like.
 * No file means no holdout (the gate then needs `force`).
 */
export class LocalHoldoutEvaluator implements HoldoutEvaluator {
  constructor(
    private readonly dir: string,
    private readonly options: LocalHoldoutEvaluatorOptions = {},
  ) {}

  get file(): string {
    return join(this.dir, HOLDOUT_FILE);
  }

  async evaluate(models: readonly ModelRef[]): Promise<HoldoutEvaluation | null> {
    if (!existsSync(this.file)) return null;
    const scorers = await Promise.all(models.map((m) => loadScorer(unpackedDir(fileURLToPath(m.artifact_uri)))));
    const input = createReadStream(this.file);
    try {
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      return await scoreHoldout(lines, scorers, { source: this.file, maxRows: this.options.maxRows });
    } finally {
      input.destroy();
    }
  }
}
