import { fileURLToPath } from 'node:url';
import { loadScorer, type Scorer } from '../../../sagemaker/index.js';
import type { ModelEndpoint, ModelRef, ScoreOptions, ScoreResult, ScoreRow } from '../../core/ports.js';
import { unpackedDir } from './artifact-store.js';

/**
 * The model in process: the same scorer the SageMaker container serves, loaded once per model
 * from its unpacked artifact and kept while the process lives (models are immutable).
 */
export class InProcessModelEndpoint implements ModelEndpoint {
  private readonly scorers = new Map<string, Promise<Scorer>>();

  private scorer(model: ModelRef): Promise<Scorer> {
    let s = this.scorers.get(model.model_id);
    if (!s) {
      s = loadScorer(unpackedDir(fileURLToPath(model.artifact_uri)));
      // A failed load is not cached: the next request retries (e.g. after a repaired artifact).
      s.catch(() => this.scorers.delete(model.model_id));
      this.scorers.set(model.model_id, s);
    }
    return s;
  }

  async score(model: ModelRef, rows: readonly ScoreRow[], options: ScoreOptions): Promise<ScoreResult[]> {
    const scorer = await this.scorer(model);
    const uncertainty = options.uncertainty === true;
    return rows.map((row) => {
      const s = scorer.score(row.features, { explain: options.explain, uncertainty });
      const result: { -readonly [K in keyof ScoreResult]: ScoreResult[K] } = { probability: s.probability };
      if (s.explanation) result.explanation = s.explanation;
      if (uncertainty) result.uncertainty = s.uncertainty ?? null;
      return result;
    });
  }
}
