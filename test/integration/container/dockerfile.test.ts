import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const dockerfile = readFileSync(join(ROOT, 'sagemaker/container/Dockerfile'), 'utf8');
const instructions = dockerfile
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
  .map((l) => l.trim());

// No Docker engine runs here: these checks keep the file in step with the tree it packages.
describe('the model container Dockerfile', () => {
  it('builds on a pinned Node.js 22 image', () => {
    expect(instructions[0]).toMatch(/^FROM \S+node:22\.\d+\.\d+-/);
  });

  it('copies only paths that exist in the repository', () => {
    const sources = instructions.filter((l) => l.startsWith('COPY ')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
  });

  it('enters through the container entry point that dispatches train and serve', () => {
    const entry = instructions.find((l) => l.startsWith('ENTRYPOINT '))!;
    const args = JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[];
    expect(existsSync(join(ROOT, args.at(-1)!))).toBe(true);
    expect(readFileSync(join(ROOT, args.at(-1)!), 'utf8')).toContain("'serve'");
  });
});
