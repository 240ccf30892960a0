/**
 * Step 5 of the retraining pipeline (docs/retraining.md): the candidate registered through the
 * server's model API, as `adclick model upload` does (POST /model/upload, PUT the tar.gz, POST
 * complete), then named challenger (PUT /model/challenger/{id}); optionally activated
 * (PUT /model/activate/{id}, where the server runs the gate again on its own holdout) and
 * optionally put in an experiment against the champion (POST /experiments).
 *
 * In AWS the pipeline registers straight into the registry (register-direct.ts, aws-steps.ts):
 * CLI `tsx lambdas/pipeline/steps/register.ts --model DIR|TAR.GZ --gate gate.json
 * [--datasets datasets.json] [--challenger] [--version V]` with ADCLICK_MODELS_TABLE and
 * ADCLICK_MODEL_BUCKET set; prints the model's record.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packModel } from '../../../sagemaker/index.js';
import type { ModelRecord } from '../../core/schemas/models.js';

export interface ModelApiOptions {
  readonly server: string;
  /** The admin token; default: the token file in dataDir. */
  readonly token?: string;
  readonly dataDir: string;
}

/** An API call answered with an error status; `status` and the problem's detail are kept. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export class ModelApi {
  private readonly base: string;
  private readonly token: string;

  constructor(options: ModelApiOptions) {
    const tokenFile = join(options.dataDir, 'admin-token');
    const token = options.token || (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
    if (!token) {
      throw new Error(
        'No admin token: pass --token, set ADCLICK_ADMIN_TOKEN, or point --data-dir at the server data dir.',
      );
    }
    this.token = token;
    this.base = options.server.replace(/\/+$/, '');
  }

  private async call(method: string, path: string, body?: unknown, raw?: Uint8Array, url?: string): Promise<unknown> {
    const target = url ?? `${this.base}${path}`;
    const headers: Record<string, string> = {};
    // A presigned S3 URL must not get our token: only the server's own routes do.
    if (target.startsWith(`${this.base}/`)) headers.authorization = `Bearer ${this.token}`;
    if (raw) headers['content-type'] = 'application/gzip';
    else if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers,
        body: raw ?? (body !== undefined ? JSON.stringify(body) : undefined),
      });
    } catch (err) {
      throw new Error(`${method} ${target}: the server cannot be reached (${(err as Error).message}); is it running?`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const detail = (parsed as { detail?: string } | undefined)?.detail ?? text;
      throw new ApiError(`${method} ${target} failed with ${res.status}: ${detail}`, res.status, parsed);
    }
    return parsed;
  }

  /** The champion, or null when none is active. */
  async champion(): Promise<ModelRecord | null> {
    try {
      return (await this.call('GET', '/model/active')) as ModelRecord;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** The three upload steps; returns the candidate's record. */
  async upload(dir: string, version: string, metadata: Record<string, string | number | boolean | null>) {
    const started = (await this.call('POST', '/model/upload', { version, metadata })) as {
      model_id: string;
      upload_url: string;
    };
    await this.call('PUT', '', undefined, await packModel(dir), started.upload_url);
    return (await this.call('POST', `/model/upload/${encodeURIComponent(started.model_id)}/complete`)) as ModelRecord;
  }

  nameChallenger(id: string): Promise<ModelRecord> {
    return this.call('PUT', `/model/challenger/${encodeURIComponent(id)}`) as Promise<ModelRecord>;
  }

  activate(id: string): Promise<ModelRecord> {
    return this.call('PUT', `/model/activate/${encodeURIComponent(id)}`, { force: false }) as Promise<ModelRecord>;
  }

  startExperiment(name: string, variants: { model_id: string; weight: number }[]): Promise<unknown> {
    return this.call('POST', '/experiments', { name, variants });
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      gate: { type: 'string' },
      datasets: { type: 'string' },
      challenger: { type: 'boolean' },
      version: { type: 'string' },
    },
    strict: true,
  });
  if (!values.model || !values.gate) {
    throw new Error(
      'usage: register --model DIR|TAR.GZ --gate gate.json [--datasets FILE] [--challenger] [--version V]',
    );
  }
  const { registerOnAws } = await import('./aws-steps.js');
  const record = await registerOnAws({
    model: values.model,
    gate: values.gate,
    challenger: values.challenger ?? false,
    ...(values.datasets ? { datasets: values.datasets } : {}),
    ...(values.version ? { version: values.version } : {}),
  });
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`register: ${err.message}\n`);
    process.exit(1);
  });
}
