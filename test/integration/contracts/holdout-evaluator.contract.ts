/**
 * The HoldoutEvaluator contract, run against every adapter (holdout-evaluator.test.ts): given a
 * holdout (JSON Lines text, or none) and packed model artifacts, an adapter stores them where it
 * reads them from and returns an evaluator and the models' refs. The expected figures are
 * computed here straight from each model's own scorer and the metrics function, row by row.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { HoldoutEvaluator, ModelRef } from '../../../lambdas/core/ports.js';
import { evaluate, type FeatureMap } from '../../../sagemaker/index.js';
import { createRandom } from '../../../sagemaker/model/prng.js';
import { type TrainedArtifact, trainArtifact } from '../../support/model-artifacts.js';

export interface HoldoutFixture {
  /** The holdout's text; null: there is no holdout. */
  readonly holdout: string | null;
  readonly models: readonly TrainedArtifact[];
  readonly maxRows?: number;
}

export interface HoldoutSubject {
  readonly evaluator: HoldoutEvaluator;
  /** Refs of `fixture.models`, in order. */
  readonly models: ModelRef[];
  /** How the adapter names the holdout in its answer (the file path, the S3 URI). */
  readonly source: string;
}

export type HoldoutSubjectFactory = (fixture: HoldoutFixture) => Promise<HoldoutSubject>;

export interface HoldoutLine {
  readonly features: FeatureMap;
  readonly label: 0 | 1;
}

/** Rows like the trainer's, with a few lacking the segment field (filed under "(missing)"). */
export function holdoutLines(count: number, seed: number): HoldoutLine[] {
  const rng = createRandom(seed);
  const devices = ['mobile', 'desktop', 'tablet'];
  return Array.from({ length: count }, (_, i) => {
    const features: Record<string, string | number> = { ad_id: `ad_${rng.int(20)}`, position: rng.int(4) };
    if (i % 17 !== 5) features.device_type = devices[rng.int(3)]!;
    return { features, label: rng.next() < 0.2 ? 1 : 0 };
  });
}

export const toJsonLines = (lines: readonly HoldoutLine[]): string =>
  lines.map((l) => `${JSON.stringify(l)}\n`).join('');

let artifacts: Promise<TrainedArtifact[]> | undefined;
/** Two different small models, trained once per test file. */
export const contractArtifacts = (): Promise<TrainedArtifact[]> => {
  artifacts ??= Promise.all([trainArtifact(11), trainArtifact(12)]);
  return artifacts;
};

/** What the gate should see: each model's figures overall and per device_type, in first-seen order. */
function expected(lines: readonly HoldoutLine[], models: readonly TrainedArtifact[]) {
  const figures = (p: number[], y: number[]) => {
    const e = evaluate(p, y);
    return { rows: e.rows, positives: e.positives, logloss: e.logloss, calibration: e.calibration, auc: e.auc };
  };
  const segmentOf = (l: HoldoutLine) => String(l.features.device_type ?? '(missing)');
  const segments = [...new Set(lines.map(segmentOf))];
  return models.map(({ scorer }) => {
    const p = lines.map((l) => scorer.score(l.features).probability);
    const y = lines.map((l) => l.label);
    return {
      overall: figures(p, y),
      segments: segments.map((s) => {
        const idx = lines.flatMap((l, i) => (segmentOf(l) === s ? [i] : []));
        return {
          segment: `device_type=${s}`,
          ...figures(
            idx.map((i) => p[i]!),
            idx.map((i) => y[i]!),
          ),
        };
      }),
    };
  });
}

export function holdoutEvaluatorContract(name: string, subject: HoldoutSubjectFactory): void {
  describe(`HoldoutEvaluator contract: ${name}`, () => {
    let models: TrainedArtifact[];

    beforeAll(async () => {
      models = await contractArtifacts();
    });

    it('answers null when there is no holdout, so the gate needs force', async () => {
      // Prepare
      const { evaluator, models: refs } = await subject({ holdout: null, models });

      // Act
      const result = await evaluator.evaluate(refs);

      // Assess
      expect(result).toBeNull();
    });

    it('answers null for a holdout without rows', async () => {
      // Prepare
      const { evaluator, models: refs } = await subject({ holdout: '\n\n', models });

      // Act
      const result = await evaluator.evaluate(refs);

      // Assess
      expect(result).toBeNull();
    });

    it('scores every model on every row, overall and per device_type segment, in the order asked', async () => {
      // Prepare
      const lines = holdoutLines(600, 1);
      const { evaluator, models: refs, source } = await subject({ holdout: toJsonLines(lines), models });

      // Act
      const result = await evaluator.evaluate([refs[1]!, refs[0]!]);

      // Assess
      expect(result).toEqual({
        holdout: `600 rows of ${source}`,
        results: expected(lines, [models[1]!, models[0]!]),
      });
      expect(result?.results[0]?.segments.map((s) => s.segment)).toEqual(
        expect.arrayContaining([
          'device_type=mobile',
          'device_type=desktop',
          'device_type=tablet',
          'device_type=(missing)',
        ]),
      );
    });

    it('gives the same figures to the same model asked twice in one call', async () => {
      // Prepare
      const lines = holdoutLines(200, 2);
      const { evaluator, models: refs } = await subject({ holdout: toJsonLines(lines), models });

      // Act
      const result = await evaluator.evaluate([refs[0]!, refs[0]!]);

      // Assess
      expect(result?.results[0]).toEqual(result?.results[1]);
    });

    it('reads boolean labels, CRLF line ends and blank lines as the trainer writes and tools rewrite them', async () => {
      // Prepare
      const lines = holdoutLines(50, 3);
      const text = lines.map((l) => `${JSON.stringify({ ...l, label: l.label === 1 })}\r\n\r\n`).join('');
      const { evaluator, models: refs, source } = await subject({ holdout: text, models });

      // Act
      const result = await evaluator.evaluate([refs[0]!]);

      // Assess
      expect(result).toEqual({ holdout: `50 rows of ${source}`, results: expected(lines, [models[0]!]) });
    });

    it('reads at most maxRows rows and says it scored only the first ones', async () => {
      // Prepare
      const lines = holdoutLines(300, 4);
      const { evaluator, models: refs, source } = await subject({ holdout: toJsonLines(lines), models, maxRows: 120 });

      // Act
      const result = await evaluator.evaluate([refs[0]!]);

      // Assess
      expect(result).toEqual({
        holdout: `the first 120 rows of ${source}`,
        results: expected(lines.slice(0, 120), [models[0]!]),
      });
    });

    it('refuses a holdout with a malformed line, naming the line', async () => {
      // Prepare
      const lines = toJsonLines(holdoutLines(5, 5));
      const { evaluator, models: refs } = await subject({
        holdout: `${lines}{"features": {"device_type": "mobile"}, "label": 2}\n`,
        models,
      });

      // Act
      const outcome = evaluator.evaluate([refs[0]!]);

      // Assess
      await expect(outcome).rejects.toThrow(/holdout line 6: "label" is not 0, 1, true or false/);
    });
  });
}
