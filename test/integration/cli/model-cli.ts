/**
 * Shared by the train / score / evaluate CLI tests: running `adclick` as a user would, and small
 * click files with a learnable signal, generated from a seed.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRandom } from '../../../sagemaker/model/prng.js';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function adclick(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/adclick.js'), ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** Whether stderr carries a stack trace (a CLI error must be one plain line). */
export function hasStack(stderr: string): boolean {
  return /^\s+at /m.test(stderr);
}

const SITES = ['news.example', 'games.example', 'mail.example', 'shop.example', 'video.example'];
const SITE_EFFECT = [-1.2, 0.8, -0.4, 0.3, 1.1];
const DEVICES = ['mobile', 'desktop', 'tablet'];
const DEVICE_EFFECT = [0.4, -0.3, 0];

export interface ClickRow {
  click: 0 | 1;
  site: string;
  device: string;
  price: number | null;
  /** Digits, but an id: a column to override as categorical. */
  zip: string;
}

/** Rows whose click probability depends on site, device and price (missing ~10 % of the time). */
export function clickRows(count: number, seed: number): ClickRow[] {
  const random = createRandom(seed);
  const rows: ClickRow[] = [];
  for (let i = 0; i < count; i++) {
    const s = Math.floor(random.next() * SITES.length);
    const d = Math.floor(random.next() * DEVICES.length);
    const price = random.next() < 0.1 ? null : Math.round(random.next() * 1000) / 10;
    const logit = -1.5 + SITE_EFFECT[s]! + DEVICE_EFFECT[d]! + (price === null ? 0 : -price / 50);
    const click = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    rows.push({
      click,
      site: SITES[s]!,
      device: DEVICES[d]!,
      price,
      zip: String(10000 + Math.floor(random.next() * 5)),
    });
  }
  return rows;
}

export function writeCsv(path: string, rows: readonly ClickRow[]): string {
  const lines = ['site,device,price,zip,click'];
  for (const r of rows) lines.push(`${r.site},${r.device},${r.price ?? ''},${r.zip},${r.click}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** The same rows as criteo lines: the label, I1 = price, I2..I13 empty, C1 = site, C2 = device, C3..C26 empty. */
export function writeCriteo(path: string, rows: readonly ClickRow[], withLabel = true): string {
  const lines = rows.map((r) => {
    const ints = [r.price === null ? '' : String(Math.round(r.price)), ...Array.from({ length: 12 }, () => '')];
    const cats = [r.site, r.device, ...Array.from({ length: 24 }, () => '')];
    return [...(withLabel ? [String(r.click)] : []), ...ints, ...cats].join('\t');
  });
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
