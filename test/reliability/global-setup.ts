/**
 * Global setup of `npm run test:reliability` (vitest.reliability.config.ts): names a fresh
 * directory where each suite files its counts (test/support/reliability-report.ts), and at the
 * end merges them into one `summary.json` there, printing the table and the path.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_DIR_ENV } from '../support/reliability-report.js';

export default function setup(): () => void {
  const dir = join(tmpdir(), `adclick-reliability-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  // The test workers are forked after this and inherit it.
  process.env[REPORT_DIR_ENV] = dir;
  return () => {
    const suites = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'summary.json')
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { suite: string; counts: Record<string, unknown> });
    const summary = join(dir, 'summary.json');
    writeFileSync(summary, `${JSON.stringify({ at: new Date().toISOString(), suites }, null, 2)}\n`);
    const lines = suites.map(
      (s) =>
        `  ${s.suite}: ${Object.entries(s.counts)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    );
    process.stdout.write(`\nreliability counts (${suites.length} suites):\n${lines.join('\n')}\nsummary: ${summary}\n`);
  };
}
