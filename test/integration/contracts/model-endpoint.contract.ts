/**
 * What every ModelEndpoint must do (lambdas/core/ports.ts), run against the local in-process
 * endpoint and the SageMaker endpoint (its container answered by the container's own code).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelEndpoint, ModelRef, ScoreRow } from '../../../lambdas/core/ports.js';
import { type TrainedArtifact, trainArtifact } from '../../support/model-artifacts.js';

export interface EndpointUnderTest {
  readonly endpoint: ModelEndpoint;
  /** The registered reference of each artifact, as the registry would hand it to the endpoint. */
  refs(artifacts: readonly TrainedArtifact[]): Promise<ModelRef[]>;
}

const rows: ScoreRow[] = [
  { features: { device_type: 'mobile', position: 1, ad_id: 'ad_3' } },
  { features: { device_type: 'desktop', position: 3, ad_id: 'ad_14' } },
  { features: { device_type: 'tablet', ad_id: 'ad_never_seen' } },
];

const logit = (p: number) => Math.log(p / (1 - p));

export function describeModelEndpointContract(adapter: string, open: () => Promise<EndpointUnderTest>): void {
  describe(`ModelEndpoint contract: ${adapter}`, () => {
    let subject: EndpointUnderTest;
    let artifacts: TrainedArtifact[];
    let refs: ModelRef[];

    beforeAll(async () => {
      artifacts = await Promise.all([trainArtifact(11), trainArtifact(12)]);
      subject = await open();
      refs = await subject.refs(artifacts);
    });

    it("answers each row in order with the model's own probability, not as a fallback", async () => {
      const results = await subject.endpoint.score(refs[0]!, rows, { explain: false });

      expect(results.map((r) => r.probability)).toEqual(
        rows.map((r) => artifacts[0]!.scorer.score(r.features).probability),
      );
      expect(results.every((r) => r.fallback !== true && r.explanation === undefined)).toBe(true);
    });

    it('scores with the model it is asked for', async () => {
      const [a, b] = await Promise.all(refs.map((ref) => subject.endpoint.score(ref, rows, { explain: false })));

      expect(b!.map((r) => r.probability)).toEqual(rows.map((r) => artifacts[1]!.scorer.score(r.features).probability));
      expect(a!.map((r) => r.probability)).not.toEqual(b!.map((r) => r.probability));
    });

    it('explains on demand: the contributions add up to the logit minus the base value', async () => {
      const results = await subject.endpoint.score(refs[0]!, rows, { explain: true });

      for (const r of results) {
        const e = r.explanation!;
        const sum = Object.values(e.contributions).reduce((s, c) => s + c, 0);
        expect(e.base_value + sum).toBeCloseTo(logit(r.probability), 6);
      }
    });
  });
}
