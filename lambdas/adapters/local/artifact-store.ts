import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidModelError, loadScorer, unpackModel } from '../../../sagemaker/index.js';
import { InvalidArtifactError } from '../../core/errors.js';
import type { ArtifactManifest, ModelArtifactStore } from '../../core/ports.js';

/** The folder an artifact (`.../<model_id>/artifact.tar.gz`) is unpacked into for serving. */
export function unpackedDir(artifactPath: string): string {
  return join(dirname(artifactPath), 'model');
}

/** Unpacked models may be larger than the packed upload, but never unboundedly. */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/**
 * Model artifacts on the local disk: `<data>/models/<model_id>/artifact.tar.gz` as uploaded and
 * `<data>/models/<model_id>/model/` unpacked. The upload URL is the server's own artifact route.
 */
export class LocalArtifactStore implements ModelArtifactStore {
  constructor(
    private readonly modelsDir: string,
    private readonly publicBaseUrl: () => string,
    private readonly maxBytes: number,
  ) {}

  /** The upload URL is on the host the caller used, so it works from wherever they called. */
  async createUploadTarget(modelId: string, callerBaseUrl?: string) {
    const file = join(this.modelsDir, modelId, 'artifact.tar.gz');
    return {
      url: `${callerBaseUrl ?? this.publicBaseUrl()}/model/upload/${encodeURIComponent(modelId)}/artifact`,
      maxBytes: this.maxBytes,
      artifactUri: pathToFileURL(file).href,
    };
  }

  async receive(artifactUri: string, body: Uint8Array): Promise<void> {
    const file = fileURLToPath(artifactUri);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  async inspect(artifactUri: string): Promise<ArtifactManifest> {
    const file = fileURLToPath(artifactUri);
    const bytes = await stat(file).then(
      (s) => s.size,
      () => {
        throw new InvalidArtifactError('No artifact was uploaded: PUT it to the upload_url first.');
      },
    );
    const dir = unpackedDir(file);
    await rm(dir, { recursive: true, force: true });
    try {
      await unpackModel(file, dir, { maxBytes: MAX_UNPACKED_BYTES });
      const { manifest } = await loadScorer(dir);
      return {
        format_version: manifest.format_version,
        algorithm: manifest.algorithm,
        training_window: manifest.training_window,
        metrics: manifest.metrics,
        negative_sampling_rate: manifest.negative_sampling_rate,
        bytes,
      };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (err instanceof InvalidModelError)
        throw new InvalidArtifactError(`The artifact is not a valid model: ${err.message}`);
      throw err;
    }
  }
}
