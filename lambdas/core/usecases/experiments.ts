import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { evaluateExperiment, type VariantCounts } from '../experiments/statistics.js';
import { DEFAULT_ATTRIBUTION_WINDOW_SECONDS } from '../lake/attribution.js';
import type { Experiment } from '../ports.js';
import { MAX_ANALYTICS_RANGE_DAYS, type ModelBinCounts } from '../schemas/analytics.js';
import type {
  CreateExperimentRequest,
  ExperimentResults,
  ExperimentWithResults,
  ListExperimentsParams,
} from '../schemas/experiments.js';
import type { ModelStatus } from '../schemas/models.js';
import type { Deps } from './deps.js';
import { prepareDeployment } from './models.js';
import type { ModelRouting } from './routing.js';

const DAY_MS = 86_400_000;
/** (model_version, variant) pairs the results query may return: the analytics schema's most. */
const RESULTS_PAIR_LIMIT = 1_000;

/** Models that cannot serve: no artifact yet, or refused by the registry. */
const UNSERVABLE: ReadonlySet<ModelStatus> = new Set<ModelStatus>(['uploading', 'rejected']);

/**
 * Two running experiments overlap when some request could match both: routing takes the first
 * (oldest) that matches, so the second would get none of that traffic. An experiment without
 * campaigns takes all traffic, so it overlaps every other one.
 */
function overlaps(a: Experiment, b: { campaign_ids: readonly string[] | null }): boolean {
  if (a.campaign_ids === null || b.campaign_ids === null) return true;
  return a.campaign_ids.some((c) => b.campaign_ids!.includes(c));
}

/**
 * Per-variant counts of an experiment from the analytics rows (one per model_version, variant
 * and reliability bin, the pair's totals repeated on each): the bins summed per variant, the
 * pair's mean log loss turned back into a sum, its predictions and fallbacks added up. Variants
 * without rows count zeros. A p99 cannot be added up: a variant served by several model versions
 * (re-versioned mid-experiment) takes the p99 of the version with the most timed predictions.
 */
export function variantCounts(experiment: Experiment, rows: readonly ModelBinCounts[]): VariantCounts[] {
  const counts = experiment.variants.map((v, index) => ({
    variant: `${experiment.experiment_id}:${index}`,
    model_id: v.model_id,
    impressions: 0,
    clicks: 0,
    sumPredicted: 0,
    sumLogLoss: 0,
    predictions: 0,
    fallbacks: 0,
    latencyPredictions: 0,
    latencyP99Ms: null as number | null,
    mostTimed: 0,
  }));
  const byLabel = new Map(counts.map((c) => [c.variant, c]));
  const pairsSeen = new Set<string>();
  for (const r of rows) {
    const c = byLabel.get(r.variant);
    if (!c) continue;
    c.impressions += r.bin_impressions;
    c.clicks += r.bin_clicks;
    c.sumPredicted += r.bin_sum_probability;
    // Log loss comes per pair, not per bin; a variant has one pair unless its model was re-versioned.
    const pair = `${r.model_version}\u0000${r.variant}`;
    if (!pairsSeen.has(pair)) {
      pairsSeen.add(pair);
      c.sumLogLoss += r.log_loss * r.impressions;
      const s = r.serving;
      if (s) {
        c.predictions += s.predictions;
        c.fallbacks += s.fallback_predictions;
        c.latencyPredictions += s.timed_predictions;
        if (s.latency_p99_ms !== null && s.timed_predictions > c.mostTimed) {
          c.mostTimed = s.timed_predictions;
          c.latencyP99Ms = s.latency_p99_ms;
        }
      }
    }
  }
  // Float sums of probabilities can drift a hair past the count; the statistics refuse that.
  return counts.map(({ mostTimed: _, ...c }) => ({ ...c, sumPredicted: Math.min(c.sumPredicted, c.impressions) }));
}

/**
 * The experiment routes. Experiments own every traffic split (DESIGN.md): creating or stopping
 * one changes routing, so this process's routing cache is dropped at once; other processes
 * follow within the routing cache's lifetime.
 */
export class ExperimentsUseCase {
  constructor(
    private readonly deps: Deps,
    private readonly routing: ModelRouting,
    private readonly attributionWindowSeconds = DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
  ) {}

  async create(input: CreateExperimentRequest): Promise<Experiment> {
    const { experiments, models, ids, clock, logger } = this.deps;
    const found = await Promise.all(input.variants.map((v) => models.get(v.model_id)));
    const errors = found.flatMap((m, i) => {
      const id = input.variants[i]!.model_id;
      if (!m) return [{ path: `variants.${i}.model_id`, message: `model ${id} does not exist` }];
      if (UNSERVABLE.has(m.status)) {
        return [{ path: `variants.${i}.model_id`, message: `model ${id} is ${m.status} and cannot serve` }];
      }
      return [];
    });
    if (errors.length > 0) {
      throw new ValidationError(
        `Every variant must name a servable model: ${errors.map((e) => e.message).join('; ')}.`,
        errors,
      );
    }
    const campaignIds = input.campaign_ids ?? null;
    // Checked here, not in the store: a race between two creates can slip past, which an
    // operator sees in GET /experiments and settles by stopping one.
    const clash = (await experiments.running()).find((e) => overlaps(e, { campaign_ids: campaignIds }));
    if (clash) {
      throw new ConflictError(
        `Experiment ${clash.experiment_id} (${clash.name}) is running on ${
          clash.campaign_ids === null ? 'all traffic' : `campaigns ${listSome(clash.campaign_ids)}`
        }; it would take this one's traffic. Stop it first.`,
        [{ path: 'campaign_ids', message: `overlaps running experiment ${clash.experiment_id}` }],
        { running_experiment_id: clash.experiment_id },
      );
    }
    // Before storing: routing follows a stored experiment, so each variant must be servable first.
    await prepareDeployment(
      this.deps,
      found.map((m) => ({ model_id: m!.model_id, version: m!.version, artifact_uri: m!.artifact_uri })),
    );
    const experiment: Experiment = {
      experiment_id: ids.next('exp'),
      name: input.name,
      status: 'running',
      variants: input.variants.map((v) => ({ model_id: v.model_id, weight: v.weight })),
      campaign_ids: campaignIds,
      created_at: clock.now().toISOString(),
      stopped_at: null,
    };
    await experiments.create(experiment);
    this.routing.invalidate();
    logger.info('experiment started', { experiment_id: experiment.experiment_id, variants: experiment.variants });
    return experiment;
  }

  async list(params: ListExperimentsParams = {}): Promise<Experiment[]> {
    const all = await this.deps.experiments.list();
    return params.status ? all.filter((e) => e.status === params.status) : all;
  }

  async get(id: string): Promise<ExperimentWithResults> {
    const experiment = await this.find(id);
    return {
      ...experiment,
      variants: [...experiment.variants],
      campaign_ids: copy(experiment.campaign_ids),
      results: await this.results(experiment),
    };
  }

  /** Idempotent: a stopped experiment is returned as it is, with its first stopped_at. */
  async stop(id: string): Promise<Experiment> {
    const stopped = await this.deps.experiments.stop(id, this.deps.clock.now());
    if (!stopped) throw new NotFoundError(`Experiment ${id} does not exist.`);
    this.routing.invalidate();
    this.deps.logger.info('experiment stopped', { experiment_id: id, stopped_at: stopped.stopped_at });
    return stopped;
  }

  private async find(id: string): Promise<Experiment> {
    const experiment = await this.deps.experiments.get(id);
    if (!experiment) throw new NotFoundError(`Experiment ${id} does not exist.`);
    return experiment;
  }

  /**
   * Results over [created_at, stopped_at or now), from the same lake query as
   * GET /analytics/models (fraud excluded, impressions counted once), clamped to the last 92 days
   * because that is the longest range an analytics query may cover.
   */
  private async results(experiment: Experiment): Promise<ExperimentResults> {
    const to = experiment.stopped_at === null ? this.deps.clock.now() : new Date(experiment.stopped_at);
    const created = new Date(experiment.created_at);
    const earliest = new Date(to.getTime() - MAX_ANALYTICS_RANGE_DAYS * DAY_MS);
    const clamped = created < earliest;
    const from = clamped ? earliest : created;
    const { rows, truncated } =
      to > from
        ? await this.deps.analytics.models({
            from,
            to,
            limit: RESULTS_PAIR_LIMIT,
            attributionWindowSeconds: this.attributionWindowSeconds,
          })
        : { rows: [], truncated: false };
    const evaluation = evaluateExperiment(variantCounts(experiment, rows));
    const reasons = clamped
      ? [
          ...evaluation.reasons,
          `Only the last ${MAX_ANALYTICS_RANGE_DAYS} days count: the experiment is older than an analytics range may be.`,
        ]
      : evaluation.reasons;
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      clamped,
      truncated,
      control: evaluation.control,
      variants: evaluation.variants,
      decision: evaluation.decision,
      winner: evaluation.winner,
      reasons,
    };
  }
}

/** Up to 10 ids, then how many more: a problem detail stays readable. */
const listSome = (ids: readonly string[]) =>
  ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;

const copy = (ids: readonly string[] | null) => (ids === null ? null : [...ids]);
