import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScorer, saveModel, simulatedExamples, trainModel } from '../../../sagemaker/index.js';
import type { Model } from '../../../sagemaker/model/artifact.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Starts the container's `serve` as SageMaker would, on a free port; resolves with its base URL. */
function startServe(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'sagemaker/container/entrypoint.ts'), 'serve'],
      {
        cwd: ROOT,
        env: { ...process.env, SAGEMAKER_BIND_TO_PORT: '0', SAGEMAKER_BIND_HOST: '127.0.0.1', ...env },
      },
    );
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /on port (\d+)/.exec(err);
      if (m) done({ child, url: `http://127.0.0.1:${m[1]}`, stderr: () => err });
    });
    child.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${err}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => child.on('exit', (code) => done(code)));
}

const post = (url: string, body: string, contentType = 'application/json') =>
  fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': contentType }, body });

describe('SageMaker container: serve', () => {
  const root = mkdtempSync(join(tmpdir(), 'adclick-container-'));
  const modelDir = join(root, 'model');
  let model: Model;
  let server: Awaited<ReturnType<typeof startServe>>;

  beforeAll(async () => {
    const rows = [...simulatedExamples({ seed: 7 }, 0, 20_000)];
    model = await trainModel(() => rows, { bits: 18, maxPasses: 2 });
    await saveModel(modelDir, model);
    server = await startServe({ SM_MODEL_DIR: modelDir });
  }, 60_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  });

  it('answers GET /ping with 200 once the model is loaded', async () => {
    // Act
    const res = await fetch(`${server.url}/ping`);
    // Assess
    expect(res.status).toBe(200);
  });

  it('scores a batch with the same probabilities as the in-process scorer', async () => {
    // Prepare
    const scorer = createScorer(model);
    const instances = [
      { features: { device_type: 'mobile', site_id: 'site_001', position: 1 } },
      { features: { device_type: 'desktop', category: 'travel', position: 4 } },
      { features: {} },
    ];
    // Act
    const res = await post(server.url, JSON.stringify({ instances }));
    const body = (await res.json()) as { predictions: { probability: number }[] };
    // Assess
    expect(res.status).toBe(200);
    expect(body.predictions.map((p) => p.probability)).toEqual(
      instances.map((i) => scorer.score(i.features).probability),
    );
  });

  it('merges shared features under each instance, the instance winning', async () => {
    // Prepare
    const scorer = createScorer(model);
    const shared = { device_type: 'mobile', location: 'DE', position: 2 };
    // Act
    const res = await post(server.url, JSON.stringify({ shared, instances: [{ features: { position: 5 } }] }));
    const body = (await res.json()) as { predictions: { probability: number }[] };
    // Assess
    expect(body.predictions[0]!.probability).toBeCloseTo(scorer.score({ ...shared, position: 5 }).probability, 12);
  });

  it('scores many candidates sharing one user exactly like single rows', async () => {
    // Prepare: the batch path reuses the shared part; it must not change a single probability.
    const scorer = createScorer(model);
    const shared = { device_type: 'desktop', location: 'FR', site_id: 'site_002' };
    const instances = [
      { features: { ad_id: 'ad_1', category: 'travel', position: 1 } },
      { features: { ad_id: 'ad_2', position: 2 } },
      { features: { ad_id: 'ad_3', category: null, location: 'DE' } },
    ];
    // Act
    const res = await post(server.url, JSON.stringify({ shared, instances }));
    const body = (await res.json()) as { predictions: { probability: number }[] };
    // Assess
    const expected = instances.map((i) => scorer.score({ ...shared, ...i.features }).probability);
    body.predictions.forEach((p, k) => {
      expect(p.probability).toBeCloseTo(expected[k]!, 12);
    });
  });

  it("adds each prediction's uncertainty when asked", async () => {
    const res = await post(
      server.url,
      JSON.stringify({ uncertainty: true, instances: [{ features: { device_type: 'mobile', ad_id: 'never-seen' } }] }),
    );
    const p = (
      (await res.json()) as { predictions: { uncertainty: { logit_sd: number; evidence: Record<string, number> } }[] }
    ).predictions[0]!;
    expect(p.uncertainty.logit_sd).toBeGreaterThan(0);
    expect(p.uncertainty.evidence.device_type).toBeGreaterThan(1000);
    expect(p.uncertainty.evidence.ad_id).toBeLessThan(p.uncertainty.evidence.device_type!);
  });

  it('returns explanations that add up to the logit when asked', async () => {
    // Act
    const res = await post(
      server.url,
      JSON.stringify({ explain: true, instances: [{ features: { device_type: 'tablet', position: 3 } }] }),
    );
    const p = (
      (await res.json()) as {
        predictions: {
          probability: number;
          explanation: { base_value: number; contributions: Record<string, number> };
        }[];
      }
    ).predictions[0]!;
    // Assess
    const logit = p.explanation.base_value + Object.values(p.explanation.contributions).reduce((a, b) => a + b, 0);
    expect(1 / (1 + Math.exp(-logit))).toBeCloseTo(p.probability, 10);
  });

  it.each([
    ['malformed JSON', '{"instances": [', 'not valid JSON'],
    ['a missing instances field', '{}', 'instances'],
    ['an empty batch', '{"instances": []}', 'instances'],
    ['a nested feature value', '{"instances": [{"features": {"a": {"b": 1}}}]}', 'instances.0.features.a'],
    ['an unknown top-level field', '{"instances": [{"features": {}}], "extra": 1}', 'extra'],
  ])('returns 400 problem+json naming the problem for %s', async (_name, body, mentions) => {
    // Act
    const res = await post(server.url, body);
    const problem = (await res.json()) as { status: number; detail: string };
    // Assess
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(problem.detail).toContain(mentions);
  });

  it('returns 415 for a body that is not JSON', async () => {
    const res = await post(server.url, 'a,b\n1,2', 'text/csv');
    expect(res.status).toBe(415);
  });

  it('returns 413 for a batch declared over 6 MB without reading it', async () => {
    // Prepare: headers that announce 7 MB, then only the first bytes of the body.
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    // Act
    socket.write(
      `POST /invocations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${7 * 1024 * 1024}\r\n\r\n{"instances":[`,
    );
    await new Promise((done) => socket.on('close', done));
    // Assess
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('returns 404 for another path and 405 for another method', async () => {
    expect((await fetch(`${server.url}/predict`)).status).toBe(404);
    const res = await fetch(`${server.url}/invocations`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('refuses to start on a corrupt artifact, saying why', async () => {
    // Prepare
    const empty = join(root, 'empty-model');
    // Act
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'sagemaker/container/entrypoint.ts'), 'serve'],
      {
        cwd: ROOT,
        env: { ...process.env, SM_MODEL_DIR: empty, SAGEMAKER_BIND_TO_PORT: '0' },
      },
    );
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await exitOf(child);
    // Assess
    expect(code).toBe(1);
    expect(err).toContain('InvalidModelError');
  });
});
