import { fileURLToPath } from 'node:url';
import { InvalidModelError, loadScorer, type Scorer } from '../../../sagemaker/index.js';
import { ConflictError, DependencyUnavailableError } from '../../core/errors.js';
import type {
  ModelDeployment,
  ModelEndpoint,
  ModelRef,
  ScoreOptions,
  ScoreResult,
  ScoreRow,
} from '../../core/ports.js';
import { unpackedDir } from './artifact-store.js';

/** How long a loaded model may go unscored before it is dropped. */
export const DEFAULT_IDLE_MODEL_MS = 30 * 60_000;

export interface InProcessModelEndpointOptions {
  /**
   * A loaded model that scored nothing for this long is dropped (and loaded again if a request
   * names it later).
   * @default DEFAULT_IDLE_MODEL_MS (30 minutes)
   */
  readonly idleMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Loaded {
  readonly scorer: Promise<Scorer>;
  lastUsed: number;
}

/**
 * The model in process: the same scorer the SageMaker container serves, loaded from its unpacked
 * artifact.
 *
 * It is also the local ModelDeployment: activation and experiments `prepare` their models, so a
 * model is loaded (and a broken artifact refused) before routing names it, and the first request
 * to a new champion does not wait out the load (~30 ms for the bootstrap model, with the event
 * loop blocked for part of it). Models are dropped after `idleMs` without a request, so a server
 * that retrains and activates every hour does not keep every model it ever served.
 */
export class InProcessModelEndpoint implements ModelEndpoint, ModelDeployment {
  private readonly loaded = new Map<string, Loaded>();
  private readonly idleMs: number;
  private readonly now: () => number;

  constructor(options: InProcessModelEndpointOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MODEL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Ids of the models held in memory. */
  get loadedModels(): string[] {
    return [...this.loaded.keys()];
  }

  private entry(model: ModelRef): Loaded {
    let entry = this.loaded.get(model.model_id);
    if (!entry) {
      const scorer = loadScorer(unpackedDir(fileURLToPath(model.artifact_uri)));
      const created: Loaded = { scorer, lastUsed: this.now() };
      // A failed load is not kept: the next request retries (e.g. after a repaired artifact).
      scorer.catch(() => {
        if (this.loaded.get(model.model_id) === created) this.loaded.delete(model.model_id);
      });
      this.loaded.set(model.model_id, created);
      entry = created;
    }
    return entry;
  }

  async prepare(models: readonly ModelRef[]): Promise<void> {
    await Promise.all(
      models.map(async (model) => {
        try {
          await this.entry(model).scorer;
        } catch (err) {
          // Loading again will not mend a bad artifact: the operator must upload another.
          if (err instanceof InvalidModelError) {
            throw new ConflictError(`Model ${model.model_id} cannot be served: ${err.message}`);
          }
          throw err;
        }
      }),
    );
  }

  async score(model: ModelRef, rows: readonly ScoreRow[], options: ScoreOptions): Promise<ScoreResult[]> {
    const entry = this.entry(model);
    entry.lastUsed = this.now();
    let scorer: Scorer;
    try {
      scorer = await entry.scorer;
    } catch (err) {
      // A 503 naming the model, not a bare 500: the operator activates another, or repairs it.
      throw new DependencyUnavailableError(`Model ${model.model_id} cannot be loaded: ${(err as Error).message}`);
    }
    const uncertainty = options.uncertainty === true;
    return rows.map((row) => {
      const s = scorer.score(row.features, { explain: options.explain, uncertainty });
      const result: { -readonly [K in keyof ScoreResult]: ScoreResult[K] } = { probability: s.probability };
      if (s.explanation) result.explanation = s.explanation;
      if (uncertainty) result.uncertainty = s.uncertainty ?? null;
      return result;
    });
  }

  /**
   * Drops the models that scored nothing in the last `idleMs`; returns their ids. A request
   * already holding a dropped model's scorer finishes with it.
   */
  evictIdle(): string[] {
    const cutoff = this.now() - this.idleMs;
    const dropped: string[] = [];
    for (const [id, entry] of this.loaded) {
      if (entry.lastUsed < cutoff) {
        this.loaded.delete(id);
        dropped.push(id);
      }
    }
    return dropped;
  }
}
