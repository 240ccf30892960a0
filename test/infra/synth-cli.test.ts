/**
 * `cdk synth` of the whole app through the CLI, offline, for every stage, Lambda bundles included
 * (local esbuild: there is no Docker engine). cdk-nag runs as a validation plugin at synth, so an
 * unacknowledged finding fails here too.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../lib/config.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'adclick-cdk-out-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('cdk synth', () => {
  it.each(Object.keys(STAGES))(
    'synthesizes the %s stage offline into a cloud assembly',
    async (stage) => {
      // Act
      const dir = join(out, stage);
      await run(join(REPO, 'node_modules', '.bin', 'cdk'), ['synth', '-c', `stage=${stage}`, '--quiet', '-o', dir], {
        cwd: REPO,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
        maxBuffer: 64 * 1024 * 1024,
      });

      // Assess
      const templates = readdirSync(dir).filter((f) => f.endsWith('.template.json'));
      expect(templates.sort()).toEqual(
        ['data', 'ml', 'monitoring', 'serving', 'state'].map((p) => `adclick-${stage}-${p}.template.json`),
      );
    },
    180_000,
  );
});
