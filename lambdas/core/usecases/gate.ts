import { poissonBounds } from '../experiments/intervals.js';
import type { GateReport, HoldoutMetrics, SegmentMetrics } from '../schemas/models.js';

/** The calibration band of DESIGN.md: mean predicted / observed within [0.9, 1.1]. */
export const GATE_CALIBRATION_BAND = [0.9, 1.1] as const;
/** How many of the largest segments must also be calibrated. */
export const GATE_SEGMENTS = 3;
/**
 * A segment's calibration is judged only on at least this many clicks: below it the 95 %
 * interval spans more than ±20 %, twice the band, and says nothing either way.
 */
export const GATE_MIN_SEGMENT_POSITIVES = 100;

type Scored = HoldoutMetrics & { segments: SegmentMetrics[] };

interface CalibrationJudgement {
  readonly ok: boolean;
  /** The estimate and its interval, for the report's reason. */
  readonly shown: string;
}

const BAND = `[${GATE_CALIBRATION_BAND[0]}, ${GATE_CALIBRATION_BAND[1]}]`;

/**
 * Calibration is mean predicted over observed, and the observed clicks are a count with Poisson
 * noise around (predicted sum / calibration): the predicted sum is known almost exactly, so the
 * 95 % interval of the calibration is that of the click count, inverted (as the experiment
 * guardrail does online). A model is refused when the whole interval lies outside the band, that
 * is when the holdout shows it miscalibrated, not when noise on a few hundred clicks moves the point
 * estimate past an edge: a well-calibrated model judged on a point estimate alone was refused about
 * one retrain in five on 200 to 500 clicks a segment.
 */
function judgeCalibration(m: HoldoutMetrics): CalibrationJudgement {
  if (m.calibration === null || m.positives === 0) return { ok: false, shown: 'undefined (no clicks)' };
  const predicted = m.calibration * m.positives;
  const clicks = poissonBounds(m.positives);
  const lower = predicted / clicks.upper;
  const upper = clicks.lower > 0 ? predicted / clicks.lower : Number.POSITIVE_INFINITY;
  const [low, high] = GATE_CALIBRATION_BAND;
  const ok = upper >= low && lower <= high;
  const shownUpper = Number.isFinite(upper) ? upper.toFixed(3) : '∞';
  return {
    ok,
    shown: `${m.calibration.toFixed(3)} (95 % interval [${lower.toFixed(3)}, ${shownUpper}] on ${m.positives} clicks)`,
  };
}

/**
 * The gate shared by activation, `adclick retrain` and the pipeline's condition step: the
 * candidate passes when its holdout log loss is lower than the champion's and its calibration is
 * within the band overall and on the largest segments (those with enough clicks to judge), each
 * judged with its sampling error. Without a champion only calibration counts.
 */
export function decideGate(holdout: string, candidate: Scored, champion: Scored | null): GateReport {
  const reasons: string[] = [];
  if (champion && !(candidate.logloss < champion.logloss)) {
    reasons.push(
      `log loss ${candidate.logloss.toFixed(5)} is not lower than the champion's ${champion.logloss.toFixed(5)}`,
    );
  }
  const overall = judgeCalibration(candidate);
  if (!overall.ok) reasons.push(`calibration ${overall.shown} is outside ${BAND}`);
  const largest = [...candidate.segments]
    .filter((s) => s.positives >= GATE_MIN_SEGMENT_POSITIVES)
    .sort((a, b) => b.rows - a.rows)
    .slice(0, GATE_SEGMENTS);
  for (const s of largest) {
    const judged = judgeCalibration(s);
    if (!judged.ok) reasons.push(`calibration on segment ${s.segment} is ${judged.shown}, outside ${BAND}`);
  }
  return { passed: reasons.length === 0, reasons, holdout, candidate, champion };
}
