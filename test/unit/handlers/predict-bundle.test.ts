import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler } from '../../../bench/lambda-cold-start/bundle.js';

/**
 * The predict function's bundle, built as CDK builds it (bench/README.md), keeps out what its cold
 * start must not pay for: the request contract's zod schemas with their OpenAPI metadata (the
 * routes validate with schemas/predict-validation.ts). A new import of schemas/predict.ts or of the
 * full route table on the predict path would bring them back unnoticed by any other test.
 */
describe('the predict function’s bundle', () => {
  let dir: string;
  let contributors: string[];
  let code: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'adclick-predict-bundle-'));
    const bundle = await bundleHandler(resolve('lambdas/handlers/predict.ts'), { repoRoot: resolve('.'), outDir: dir });
    contributors = bundle.contributors.map((c) => c.name);
    code = readFileSync(bundle.file, 'utf8');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds no OpenAPI extension of zod', () => {
    // Assess
    expect(contributors).not.toContain('@asteasolutions/zod-to-openapi');
    expect(code).not.toContain('extendZodWithOpenApi');
  });

  it('does not evaluate the request schemas of the route table at init (the routes validate without zod)', () => {
    // Assess: the contract's descriptions appear only in schemas/predict.ts's zod schemas.
    expect(code).not.toContain('Idempotency key: the same request_id returns the same prediction.');
  });
});
