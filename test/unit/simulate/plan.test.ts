import { describe, expect, it } from 'vitest';
import { parseSpan, planRun, type SimulateOptions } from '../../../bin/commands/simulate.js';

const NOW = Date.parse('2026-03-02T12:00:00Z');
const BASE: SimulateOptions = {
  server: 'http://127.0.0.1:3000/',
  dataDir: '.adclick',
  concurrency: 4,
  seed: 1,
  worldSeed: 1,
  users: 20_000,
  ads: 300,
  sites: 60,
  candidates: 4,
  fraud: 0,
  register: true,
  json: false,
  progress: false,
};

describe('planRun', () => {
  it('ends the window now and spans requests / rate by default', () => {
    // Act
    const plan = planRun({ ...BASE, requests: 600, rate: 5 }, NOW);

    // Assess
    expect(plan).toMatchObject({ requests: 600, endMs: NOW, startMs: NOW - 120_000, speed: null, show: 4 });
    expect(plan.server).toBe('http://127.0.0.1:3000');
  });

  it('makes the window duration × speed with --duration', () => {
    // Act
    const plan = planRun({ ...BASE, duration: 60, rate: 2 }, NOW);

    // Assess
    expect(plan).toMatchObject({ speed: 60, durationSeconds: 60, startMs: NOW - 3_600_000, requests: 7200 });
  });

  it('refuses --requests with --duration', () => {
    expect(() => planRun({ ...BASE, requests: 10, duration: 5 }, NOW)).toThrow(
      'give --requests or --duration, not both',
    );
  });

  it('refuses a window that ends more than 2 minutes from now', () => {
    expect(() => planRun({ ...BASE, requests: 6000, start: NOW }, NOW)).toThrow(/more than 2 minutes from now/);
  });

  it('refuses showing more ads than there are candidates', () => {
    expect(() => planRun({ ...BASE, show: 5 }, NOW)).toThrow('--show 5 is more than --candidates 4');
  });

  it('takes the default drift when --drift has no value', () => {
    expect(planRun({ ...BASE, drift: true }, NOW).drift).toBe(0.8);
  });
});

describe('parseSpan', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect(['90', '45m', '3h', '2d'].map(parseSpan)).toEqual([90_000, 2_700_000, 10_800_000, 172_800_000]);
  });

  it('refuses a span without a number', () => {
    expect(() => parseSpan('soon')).toThrow(/expected a span like/);
  });
});
