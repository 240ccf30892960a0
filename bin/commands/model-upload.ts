import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packModel, readManifest } from '../../sagemaker/index.js';

export interface UploadOptions {
  readonly server: string;
  readonly token?: string;
  readonly dataDir: string;
  readonly version?: string;
  readonly metadata: Record<string, string>;
  readonly activate: boolean;
  readonly force: boolean;
}

async function call(url: string, init: RequestInit): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  const body = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) {
    const detail = (body as { detail?: string } | undefined)?.detail ?? text;
    throw new Error(`${init.method} ${url} failed with ${res.status}: ${detail}`);
  }
  return body;
}

/** `adclick model upload DIR`: the API's three upload steps, then optionally activation. */
export async function uploadModel(dir: string, options: UploadOptions): Promise<unknown> {
  const manifest = await readManifest(dir);
  const tokenFile = join(options.dataDir, 'admin-token');
  const token = options.token || (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!token)
    throw new Error(
      'No admin token: pass --token, set ADCLICK_ADMIN_TOKEN, or point --data-dir at the server data dir.',
    );
  const base = options.server.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };

  const started = (await call(`${base}/model/upload`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({
      version: options.version ?? manifest.created_at,
      metadata: { algorithm: manifest.algorithm, ...options.metadata },
    }),
  })) as { model_id: string; upload_url: string };

  const artifact = await packModel(dir);
  // The local server's upload URL is its own admin route; a presigned S3 URL must not get our token.
  const sameServer = started.upload_url.startsWith(`${base}/`);
  await call(started.upload_url, {
    method: 'PUT',
    headers: { 'content-type': 'application/gzip', ...(sameServer ? auth : {}) },
    body: artifact,
  });
  const model = await call(`${base}/model/upload/${encodeURIComponent(started.model_id)}/complete`, {
    method: 'POST',
    headers: auth,
  });
  if (!options.activate) return model;
  return call(`${base}/model/activate/${encodeURIComponent(started.model_id)}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ force: options.force }),
  });
}
