/**
 * Small real model artifacts for the AWS adapter tests: trained by the project's trainer on a few
 * thousand synthetic rows and packed as the upload API takes them (tar.gz of the model folder).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { NoSuchKey } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import { saveModel } from '../../sagemaker/model/artifact.js';
import { packModel } from '../../sagemaker/model/pack.js';
import { createRandom } from '../../sagemaker/model/prng.js';
import { loadScorer, type Scorer } from '../../sagemaker/model/scorer.js';
import { type Example, trainModel } from '../../sagemaker/model/train.js';

export interface TrainedArtifact {
  /** The packed artifact (what a client uploads). */
  readonly bytes: Buffer;
  /** The same model loaded by the serving scorer straight from its folder. */
  readonly scorer: Scorer;
}

/** Trains a small model; different seeds give different models. */
export async function trainArtifact(seed: number): Promise<TrainedArtifact> {
  const rng = createRandom(seed);
  const devices = ['mobile', 'desktop', 'tablet'];
  const examples: Example[] = [];
  for (let i = 0; i < 3000; i++) {
    const device = devices[rng.int(3)]!;
    const ad = `ad_${rng.int(20)}`;
    const logit = -2.5 + (device === 'mobile' ? 0.8 : 0) + (Number(ad.slice(3)) % 5) * 0.3;
    examples.push({
      features: { device_type: device, ad_id: ad, position: rng.int(4) },
      label: rng.next() < 1 / (1 + Math.exp(-logit)),
    });
  }
  const model = await trainModel(() => examples, {
    bits: 10,
    factors: 2,
    maxPasses: 2,
    validationFraction: 0,
    samplingSeed: seed,
    createdAt: new Date('2026-12-01T00:00:00Z'),
    metadata: { seed },
  });
  const dir = await mkdtemp(join(tmpdir(), 'adclick-artifact-'));
  try {
    await saveModel(dir, model);
    return { bytes: await packModel(dir), scorer: await loadScorer(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A GetObject output as the SDK returns it in Node: a Readable body with the SDK's stream mixin. */
export function getObjectOutput(bytes: Uint8Array) {
  return {
    $metadata: { httpStatusCode: 200 },
    ContentLength: bytes.byteLength,
    ContentType: 'application/gzip',
    ETag: '"0123456789abcdef0123456789abcdef"',
    Body: sdkStreamMixin(Readable.from([Buffer.from(bytes)])),
  };
}

/** The error the SDK throws for GetObject of a missing key. */
export function noSuchKeyError(): NoSuchKey {
  return new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
}
