/**
 * Unpacking and validating an uploaded model artifact, the same way in every runtime: the local
 * store, the S3 store and the in-Lambda fallback all accept exactly the artifacts the SageMaker
 * container can serve, and refuse the others with the same reasons.
 */
import { rm } from 'node:fs/promises';
import { InvalidModelError } from '../../../sagemaker/model/artifact.js';
import { unpackModel } from '../../../sagemaker/model/pack.js';
import { loadScorer, type Scorer } from '../../../sagemaker/model/scorer.js';
import { InvalidArtifactError } from '../../core/errors.js';
import type { ArtifactManifest } from '../../core/ports.js';

/** The largest artifact an upload may hold (DESIGN.md: up to 64 MB). */
export const DEFAULT_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** Unpacked models may be larger than the packed upload, but never unboundedly. */
export const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/**
 * Unpacks the tar.gz at `archive` into `dir` (absent or empty) and loads it with the serving
 * scorer. An unsafe or unloadable artifact is an InvalidArtifactError naming the reason, and
 * leaves no `dir` behind.
 */
export async function unpackAndLoad(
  archive: string,
  dir: string,
  bytes: number,
): Promise<{ scorer: Scorer; manifest: ArtifactManifest }> {
  await rm(dir, { recursive: true, force: true });
  try {
    await unpackModel(archive, dir, { maxBytes: MAX_UNPACKED_BYTES });
    const scorer = await loadScorer(dir);
    const m = scorer.manifest;
    return {
      scorer,
      manifest: {
        format_version: m.format_version,
        algorithm: m.algorithm,
        training_window: m.training_window,
        metrics: m.metrics,
        negative_sampling_rate: m.negative_sampling_rate,
        bytes,
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (err instanceof InvalidModelError)
      throw new InvalidArtifactError(`The artifact is not a valid model: ${err.message}`);
    throw err;
  }
}
