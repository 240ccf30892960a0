/**
 * The benchmark lake, generated once and reused by every benchmark that reads it (analytics,
 * training set): a marker file beside it records the options it was generated with, and a lake
 * generated with other options is replaced.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtInt, log } from '../support.js';
import { generateLake, type LakeSummary } from './generate-lake.js';

export interface CachedLakeOptions {
  readonly impressions: number;
  readonly days: number;
  readonly seed: number;
}

/** The lake under `<dir>/lake`, generated unless `dir` holds one made with the same options. */
export async function cachedLake(dir: string, o: CachedLakeOptions): Promise<LakeSummary & { reused: boolean }> {
  const marker = join(dir, 'bench-lake.json');
  const wanted = { impressions: o.impressions, days: o.days, seed: o.seed };
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, 'utf8'));
    if (JSON.stringify(saved.options) === JSON.stringify(wanted)) {
      const s = saved.summary;
      return { ...s, from: new Date(s.from), to: new Date(s.to), reused: true };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`generating a lake of ${fmtInt(o.impressions)} impressions over ${o.days} days in ${dir} ...`);
  const started = performance.now();
  const summary = await generateLake({ lakeDir: join(dir, 'lake'), ...wanted });
  log(`  generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  writeFileSync(marker, `${JSON.stringify({ options: wanted, summary })}\n`);
  return { ...summary, reused: false };
}
