/**
 * Exploration of new ads (README "Exploration"): the model learns an ad's click rate only from
 * the impressions it gets, and an ad ranked by a cautious estimate may never get enough. Within a
 * budget, a prediction of an ad the model has little evidence on gets an optimistic ranking score,
 * σ(logit + κ·sd), sd the posterior spread of the ad's own weight, beside its calibrated probability, which stays what is billed and bid on.
 *
 * Which predictions may explore is decided by a hash of the prediction id, so a replay of an
 * idempotent request explores exactly as the original did, and the budget bounds the explored
 * share of all predictions whatever the traffic's mix of ads.
 */
import type { ScoreUncertainty } from '../ports.js';
import type { Exploration } from '../schemas/predict.js';
import type { ExplorationConfig } from './deps.js';
import { hash32 } from './routing.js';

/** The model field whose training count says whether an ad is new. */
const AD_FIELD = 'ad_id';

/** Whether this prediction falls within the budget (before knowing whether its ad is new). */
export function withinBudget(config: ExplorationConfig, predictionId: string): boolean {
  if (!(config.budget > 0)) return false;
  // Salted, so the draw is independent of the experiments' user split (also a hash32).
  return hash32(`explore\u0000${predictionId}`) / 2 ** 32 < config.budget;
}

/**
 * The logit bonus for a prediction within the budget, or null when its ad is not new or the model
 * cannot tell (no training counts, or no ad_id field).
 */
export function explorationBonus(
  config: ExplorationConfig,
  uncertainty: ScoreUncertainty | null | undefined,
): number | null {
  const seen = uncertainty?.evidence[AD_FIELD];
  if (uncertainty == null || seen === undefined || seen >= config.minEvidence) return null;
  // The ad's own uncertainty: the whole logit_sd also counts every unseen context field (those
  // the caller did not send among them), which would make the bonus about the request, not the
  // ad. A container older than field_sd gives only the whole.
  const sd = uncertainty.field_sd?.[AD_FIELD] ?? uncertainty.logit_sd;
  const bonus = config.kappa * sd;
  return Number.isFinite(bonus) && bonus > 0 ? bonus : null;
}

function logit(p: number): number {
  // A probability of exactly 0 or 1 (a saturated score) must still rank by a finite logit.
  const q = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
  return Math.log(q / (1 - q));
}

/** What the response carries for an explored prediction (recomputed alike on a replay). */
export function explorationOf(probability: number, bonus: number): Exploration {
  return { bonus, ranking_score: 1 / (1 + Math.exp(-(logit(probability) + bonus))) };
}
