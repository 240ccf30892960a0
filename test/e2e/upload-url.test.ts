import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { startInProcess, type TempDir, tempDir } from '../support/e2e-server.js';

/** POST /model/upload with a chosen Host header (fetch does not let a caller set it). */
function startUpload(
  runtime: LocalRuntime,
  host: string,
  version: string,
): Promise<{ status: number; body: { upload_url?: string } }> {
  const url = new URL(runtime.url);
  const payload = JSON.stringify({ version, metadata: {} });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/model/upload',
        method: 'POST',
        headers: {
          host,
          authorization: `Bearer ${runtime.adminToken}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('the upload URL of a local model upload', () => {
  let dir: TempDir;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    dir = await tempDir('upload-url');
    runtime = await startInProcess(dir.path);
  });

  afterAll(async () => {
    await runtime?.close();
    await dir?.cleanup();
  });

  it('points at the host the caller used', async () => {
    // Act
    const { status, body } = await startUpload(runtime, 'models.internal:8443', 'host-1');

    // Assess
    expect(status).toBe(201);
    expect(body.upload_url).toMatch(/^http:\/\/models\.internal:8443\/model\/upload\/m_[^/]+\/artifact$/);
  });

  it("falls back to the server's own address when the Host header is not a host", async () => {
    // Act
    const { status, body } = await startUpload(runtime, 'evil.example/phish?x=', 'host-2');

    // Assess
    expect(status).toBe(201);
    expect(body.upload_url!.startsWith(`${runtime.url}/model/upload/`)).toBe(true);
  });
});
