import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function cruise(cwd: string, targets: string[]) {
  const run = spawnSync(DEPCRUISE, ['--config', CONFIG, '--validate', '--output-type', 'json', '--', ...targets], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = JSON.parse(run.stdout) as {
    summary: { totalCruised: number; violations: { rule: { name: string }; from: string; to: string }[] };
  };
  return out.summary;
}

describe('the layering rules', () => {
  const work = mkdtempSync(join(tmpdir(), 'adclick-layering-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('read every module of the real tree and find no violation', () => {
    // Act
    const summary = cruise(ROOT, ['lambdas', 'sagemaker', 'bin']);

    // Assess: a toolchain that cannot parse TypeScript cruises 0 modules and reports nothing.
    expect(summary.totalCruised).toBeGreaterThan(40);
    expect(summary.violations).toEqual([]);
  });

  it('refuse a core module that imports an adapter, node:http, SQLite or DuckDB', () => {
    // Prepare: a miniature project with the same layout and one offending core file.
    const files: Record<string, string> = {
      'lambdas/adapters/local/thing.ts': 'export const thing = 1;\n',
      'lambdas/core/bad.ts': [
        "import { thing } from '../adapters/local/thing.js';",
        "import { createServer } from 'node:http';",
        "import Database from 'better-sqlite3';",
        "import { DuckDBInstance } from '@duckdb/node-api';",
        'export const bad = [thing, createServer, Database, DuckDBInstance];',
        '',
      ].join('\n'),
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), text);
    }
    copyFileSync(join(ROOT, 'tsconfig.json'), join(work, 'tsconfig.json'));
    // Resolve packages from the real node_modules so the rule sees real package paths.
    spawnSync('ln', ['-s', join(ROOT, 'node_modules'), join(work, 'node_modules')]);

    // Act
    const summary = cruise(work, ['lambdas']);

    // Assess
    const broken = summary.violations.map((v) => `${v.rule.name} ${v.to}`);
    expect(broken).toEqual(
      expect.arrayContaining([
        'core-imports-no-adapter lambdas/adapters/local/thing.ts',
        'core-imports-no-node-network http',
        expect.stringMatching(/^core-imports-no-infrastructure .*node_modules\/better-sqlite3\//),
        expect.stringMatching(/^core-imports-no-infrastructure .*node_modules\/@duckdb\//),
      ]),
    );
  });
});
