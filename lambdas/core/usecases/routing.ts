import type { Clock, Experiment, ExperimentStore, ModelRegistry } from '../ports.js';
import type { Ad } from '../schemas/ads.js';
import type { ModelRecord } from '../schemas/models.js';

export interface Assignment {
  readonly model: ModelRecord;
  readonly variant: string;
  readonly experiment_id: string | null;
}

/** 32-bit FNV-1a then a murmur3 finaliser: fast, stable across runtimes, well mixed. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Sticky bucket in [0, 1) for a user in an experiment: the same pair always lands the same. */
export function stickyBucket(experimentId: string, userKey: string): number {
  return hash32(`${experimentId}\u0000${userKey}`) / 2 ** 32;
}

export function pickVariant(experiment: Experiment, userKey: string): number {
  const total = experiment.variants.reduce((s, v) => s + v.weight, 0);
  const point = stickyBucket(experiment.experiment_id, userKey) * total;
  let acc = 0;
  for (let i = 0; i < experiment.variants.length; i++) {
    acc += experiment.variants[i]!.weight;
    if (point < acc) return i;
  }
  return experiment.variants.length - 1;
}

/**
 * Decides which model scores each request. The champion and the running experiments are read
 * from the registry at most once per `cacheMs`, because the predict path must not pay a
 * registry round trip per request; activation calls `invalidate()` so the local server switches
 * at once, and other containers follow within `cacheMs`.
 */
export class ModelRouting {
  private cached:
    | { at: number; champion: ModelRecord | undefined; experiments: Experiment[]; models: Map<string, ModelRecord> }
    | undefined;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly experimentStore: ExperimentStore,
    private readonly clock: Clock,
    private readonly cacheMs: number,
  ) {}

  invalidate(): void {
    this.cached = undefined;
  }

  private async state() {
    const now = this.clock.now().getTime();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached;
    const [champion, experiments] = await Promise.all([this.registry.champion(), this.experimentStore.running()]);
    const models = new Map<string, ModelRecord>();
    for (const e of experiments) {
      for (const v of e.variants) {
        if (!models.has(v.model_id)) {
          const m = await this.registry.get(v.model_id);
          if (m) models.set(v.model_id, m);
        }
      }
    }
    this.cached = { at: now, champion, experiments, models };
    return this.cached;
  }

  async champion(): Promise<ModelRecord | undefined> {
    return (await this.state()).champion;
  }

  /** Every model routing can name now: the champion and the running experiments' variants, once each. */
  async serving(): Promise<ModelRecord[]> {
    const { champion, models } = await this.state();
    const out = new Map<string, ModelRecord>(champion ? [[champion.model_id, champion]] : []);
    for (const [id, model] of models) out.set(id, model);
    return [...out.values()];
  }

  /**
   * The model for one ad and user. Users without consent are not assigned to experiments:
   * a sticky split needs a stable identifier that they did not agree to have processed.
   */
  async assign(userKey: string | null, ad: Ad | undefined): Promise<Assignment | undefined> {
    const { champion, experiments, models } = await this.state();
    if (userKey !== null) {
      for (const experiment of experiments) {
        if (experiment.campaign_ids && !(ad && experiment.campaign_ids.includes(ad.campaign_id))) continue;
        const index = pickVariant(experiment, userKey);
        const model = models.get(experiment.variants[index]!.model_id);
        if (model)
          return { model, variant: `${experiment.experiment_id}:${index}`, experiment_id: experiment.experiment_id };
      }
    }
    return champion ? { model: champion, variant: 'champion', experiment_id: null } : undefined;
  }
}
