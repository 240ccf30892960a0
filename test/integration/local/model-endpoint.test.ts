/**
 * The in-process model endpoint as the local server's ModelDeployment: models loaded when
 * activation or an experiment prepares them, refused when their artifact is broken, and dropped
 * when idle. Real artifacts, trained by the project's trainer and unpacked by the local store.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../lambdas/adapters/local/artifact-store.js';
import { InProcessModelEndpoint } from '../../../lambdas/adapters/local/model-endpoint.js';
import { ConflictError, DependencyUnavailableError } from '../../../lambdas/core/errors.js';
import type { ModelRef, ScoreRow } from '../../../lambdas/core/ports.js';
import { type TrainedArtifact, trainArtifact } from '../../support/model-artifacts.js';

const MINUTE = 60_000;
const rows: ScoreRow[] = [{ features: { device_type: 'mobile', position: 1, ad_id: 'ad_3' } }];

let root: string;
let artifacts: TrainedArtifact[];
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adclick-endpoint-'));
  artifacts = await Promise.all([trainArtifact(21), trainArtifact(22)]);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

/** Stores and unpacks an artifact as an upload would; returns its registered reference. */
async function registered(artifact: TrainedArtifact): Promise<ModelRef> {
  const id = `m_${++counter}`;
  const dir = join(root, id);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'artifact.tar.gz');
  await writeFile(file, artifact.bytes);
  const uri = pathToFileURL(file).href;
  await new LocalArtifactStore(root, () => 'http://127.0.0.1', 1e9).inspect(uri);
  return { model_id: id, version: `v${counter}`, artifact_uri: uri };
}

/** Overwrites the unpacked weights with as many zero bytes, so their checksum no longer matches. */
async function corruptWeights(ref: ModelRef): Promise<void> {
  const dir = join(root, ref.model_id, 'model');
  const weights = await readFile(join(dir, 'weights.bin'));
  await writeFile(join(dir, 'weights.bin'), Buffer.alloc(weights.length));
}

describe('InProcessModelEndpoint as the local deployment', () => {
  it('holds a model once it is prepared, so scoring it reads nothing from disk', async () => {
    // Prepare
    const endpoint = new InProcessModelEndpoint();
    const ref = await registered(artifacts[0]!);

    // Act
    await endpoint.prepare([ref]);
    await corruptWeights(ref);
    const [result] = await endpoint.score(ref, rows, { explain: false });

    // Assess
    expect(endpoint.loadedModels).toEqual([ref.model_id]);
    expect(result!.probability).toBe(artifacts[0]!.scorer.score(rows[0]!.features).probability);
  });

  it('refuses to prepare a model whose artifact is corrupt, with a 409 that says why', async () => {
    // Prepare
    const endpoint = new InProcessModelEndpoint();
    const ref = await registered(artifacts[0]!);
    await corruptWeights(ref);

    // Act
    const err = await endpoint.prepare([ref]).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(new RegExp(`${ref.model_id} cannot be served: weights\\.bin sha256`));
    expect(endpoint.loadedModels).toEqual([]);
  });

  it('drops a model that scored nothing for the idle time and keeps the one in use', async () => {
    // Prepare
    let now = 0;
    const endpoint = new InProcessModelEndpoint({ idleMs: 30 * MINUTE, now: () => now });
    const [busy, idle] = [await registered(artifacts[0]!), await registered(artifacts[1]!)];
    await endpoint.prepare([busy, idle]);
    now = 20 * MINUTE;
    await endpoint.score(busy, rows, { explain: false });
    now = 35 * MINUTE;

    // Act
    const dropped = endpoint.evictIdle();

    // Assess
    expect(dropped).toEqual([idle.model_id]);
    expect(endpoint.loadedModels).toEqual([busy.model_id]);
  });

  it('loads a dropped model again when a request names it', async () => {
    // Prepare
    let now = 0;
    const endpoint = new InProcessModelEndpoint({ idleMs: MINUTE, now: () => now });
    const ref = await registered(artifacts[1]!);
    await endpoint.prepare([ref]);
    now = 2 * MINUTE;
    endpoint.evictIdle();

    // Act
    const [result] = await endpoint.score(ref, rows, { explain: false });

    // Assess
    expect(result!.probability).toBe(artifacts[1]!.scorer.score(rows[0]!.features).probability);
    expect(endpoint.loadedModels).toEqual([ref.model_id]);
  });
});

describe('InProcessModelEndpoint scoring a model that cannot load', () => {
  it('answers 503 naming the model and the reason, and tries again at the next request', async () => {
    // Prepare
    const endpoint = new InProcessModelEndpoint();
    const ref = await registered(artifacts[0]!);
    await corruptWeights(ref);

    // Act
    const err = await endpoint.score(ref, rows, { explain: false }).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`Model ${ref.model_id} cannot be loaded: weights\\.bin sha256`));
    expect(endpoint.loadedModels).toEqual([]);
  });
});
