/**
 * The model image holds everything the steps it runs import: the container's entry point and
 * every pipeline step's (STEP_ENTRY_POINTS), walked with esbuild's metafile (dynamic imports
 * included), must resolve to repository files under MODEL_IMAGE_CONTEXT, and the SQL the steps
 * load at run time must be there too.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { MODEL_IMAGE_CONTEXT } from '../../lib/constructs/ml/model-image.js';
import { STEP_ENTRY_POINTS } from '../../lib/constructs/ml/pipeline-definition.js';

const CONTAINER_ENTRY = 'sagemaker/container/entrypoint.ts';
const inContext = (file: string) => MODEL_IMAGE_CONTEXT.some((path) => file === path || file.startsWith(`${path}/`));

async function repositoryImports(entries: readonly string[]): Promise<string[]> {
  const result = await build({
    entryPoints: [...entries],
    bundle: true,
    write: false,
    metafile: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    outdir: 'out',
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules/'));
}

describe('the model image build context', () => {
  it("holds every repository file the container's and the pipeline steps' entry points import", async () => {
    // Prepare
    const entries = [CONTAINER_ENTRY, ...Object.values(STEP_ENTRY_POINTS).map((command) => command.at(-1)!)];

    // Act
    const files = await repositoryImports(entries);

    // Assess
    expect(files).toContain('lambdas/pipeline/steps/aws-steps.ts');
    expect(files.filter((f) => !inContext(f))).toEqual([]);
  });

  it('holds the training-set SQL the build step loads at run time', () => {
    // Assess
    expect(inContext('sql/training/training-set.sql')).toBe(true);
  });

  it('leaves out what no step imports (the server, the handlers, the tests)', () => {
    // Assess
    for (const file of ['lambdas/server/main.ts', 'lambdas/handlers/api.ts', 'test/support/dynalite.ts']) {
      expect(inContext(file), file).toBe(false);
    }
  });
});
