import type { GateReport, HoldoutMetrics, SegmentMetrics } from '../schemas/models.js';

/** The calibration band of DESIGN.md: mean predicted / observed within [0.9, 1.1]. */
export const GATE_CALIBRATION_BAND = [0.9, 1.1] as const;
/** How many of the largest segments must also be calibrated. */
export const GATE_SEGMENTS = 3;
/**
 * A segment's calibration is judged only on at least this many clicks: with 100 clicks the
 * observed rate alone wobbles by ±10 % (one standard error), so fewer would refuse good models
 * on noise.
 */
export const GATE_MIN_SEGMENT_POSITIVES = 100;

type Scored = HoldoutMetrics & { segments: SegmentMetrics[] };

function calibrated(c: number | null): boolean {
  return c !== null && c >= GATE_CALIBRATION_BAND[0] && c <= GATE_CALIBRATION_BAND[1];
}

/**
 * The gate shared by activation, `adclick retrain` and the pipeline's condition step: the
 * candidate passes when its holdout log loss is lower than the champion's and its calibration is
 * within the band overall and on the largest segments (those with enough clicks to judge).
 * Without a champion only calibration counts.
 */
export function decideGate(holdout: string, candidate: Scored, champion: Scored | null): GateReport {
  const reasons: string[] = [];
  if (champion && !(candidate.logloss < champion.logloss)) {
    reasons.push(
      `log loss ${candidate.logloss.toFixed(5)} is not lower than the champion's ${champion.logloss.toFixed(5)}`,
    );
  }
  if (!calibrated(candidate.calibration)) {
    reasons.push(`calibration ${candidate.calibration?.toFixed(3) ?? 'undefined (no clicks)'} is outside [0.9, 1.1]`);
  }
  const largest = [...candidate.segments]
    .filter((s) => s.positives >= GATE_MIN_SEGMENT_POSITIVES)
    .sort((a, b) => b.rows - a.rows)
    .slice(0, GATE_SEGMENTS);
  for (const s of largest) {
    if (!calibrated(s.calibration)) {
      reasons.push(
        `calibration on segment ${s.segment} is ${s.calibration?.toFixed(3) ?? 'undefined'}, outside [0.9, 1.1]`,
      );
    }
  }
  return { passed: reasons.length === 0, reasons, holdout, candidate, champion };
}
