import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArtifactError } from '../../core/errors.js';
import type { ArtifactManifest, ModelArtifactStore } from '../../core/ports.js';
import { unpackAndLoad } from '../shared/model-artifact.js';

/** The folder an artifact (`.../<model_id>/artifact.tar.gz`) is unpacked into for serving. */
export function unpackedDir(artifactPath: string): string {
  return join(dirname(artifactPath), 'model');
}

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
    // Unpacked beside the upload, where the in-process endpoint serves it from.
    return (await unpackAndLoad(file, unpackedDir(file), bytes)).manifest;
  }
}
