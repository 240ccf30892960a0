/**
 * The capacity report's arithmetic, checked against figures worked out by hand from lib/config.ts:
 * dev stays inside every default quota; prod (DESIGN.md's 100 K predictions/s, 10 B events a day)
 * exceeds the ones a deployment at that scale must raise first.
 */
import { describe, expect, it } from 'vitest';
import { capacityReport, formatCapacityReport, printCapacityReport } from '../../lib/capacity.js';
import { STAGES } from '../../lib/config.js';

function figureOf(report: ReturnType<typeof capacityReport>, area: string, figure: string): number {
  const row = report.rows.find((r) => r.area === area && r.figure === figure);
  if (!row) throw new Error(`no row ${area}: ${figure}`);
  return row.value;
}

describe('the dev capacity report', () => {
  const report = capacityReport(STAGES.dev);

  it('derives request rates, streams and units from 200 predictions/s and 10 M events a day', () => {
    // Assess: 10e6 / 86,400 × 3 = 347.22 events/s at peak; ÷ 100 a batch = 3.47 req/s
    expect(figureOf(report, 'API Gateway', 'predict requests')).toBe(200);
    expect(figureOf(report, 'API Gateway', 'event requests (peak)')).toBeCloseTo(3.4722, 4);
    expect(figureOf(report, 'API Gateway', 'total')).toBeCloseTo(203.4722, 4);
    // 347.22 / 1.01 impressions; 343.78 × 1,000 B = 0.328 MiB/s: one shard
    expect(figureOf(report, 'Kinesis', 'ad_impressions records (peak)')).toBeCloseTo(343.7844, 4);
    expect(figureOf(report, 'Kinesis', 'ad_impressions throughput (peak)')).toBeCloseTo(0.32786, 5);
    expect(figureOf(report, 'Kinesis', 'ad_impressions shard-equivalents')).toBe(1);
    expect(figureOf(report, 'Kinesis', 'clicks records (peak)')).toBeCloseTo(3.4378, 4);
    // 200 req/s × 20 ms = 4; 3.47 × 30 ms = 0.10 → 1; counters 1 + 1 shards, fraud 1; log 200 WCU → 1 shard
    expect(figureOf(report, 'Lambda', 'predict concurrency')).toBe(4);
    expect(figureOf(report, 'Lambda', 'api concurrency')).toBe(1);
    expect(figureOf(report, 'Lambda', 'featureCounters concurrency')).toBe(2);
    expect(figureOf(report, 'Lambda', 'fraudConsumer concurrency')).toBe(1);
    expect(figureOf(report, 'Lambda', 'total concurrency')).toBe(9);
    expect(figureOf(report, 'Firehose', 'delivery streams')).toBe(4);
    expect(figureOf(report, 'Firehose', 'model_predictions (Direct PUT)')).toBeCloseTo(0.19073, 5);
    expect(figureOf(report, 'DynamoDB', 'prediction log write units')).toBe(200);
    expect(figureOf(report, 'DynamoDB', 'prediction log read units')).toBe(200);
    // 200 × (1 user + 1 ad) reads + 347.22 counter updates
    expect(figureOf(report, 'Redis', 'total')).toBeCloseTo(747.2222, 4);
    expect(figureOf(report, 'SageMaker', 'endpoint instances')).toBe(1);
  });

  it('exceeds no default quota', () => {
    expect(report.warnings).toEqual([]);
  });
});

describe('the prod capacity report', () => {
  const report = capacityReport(STAGES.prod);

  it('derives request rates, streams and units from 100 K predictions/s and 10 B events a day', () => {
    // Assess: 100,000 ÷ 10 ads = 10,000 req/s; 10e9 / 86,400 × 3 = 347,222 events/s ÷ 100 = 3,472 req/s
    expect(figureOf(report, 'API Gateway', 'predict requests')).toBe(10_000);
    expect(figureOf(report, 'API Gateway', 'event requests (peak)')).toBeCloseTo(3_472.222, 3);
    expect(figureOf(report, 'API Gateway', 'total')).toBeCloseTo(13_472.222, 3);
    // 347,222 / 1.01 = 343,784 records/s = 327.86 MiB/s: 344 shard-equivalents (records bind)
    expect(figureOf(report, 'Kinesis', 'ad_impressions records (peak)')).toBeCloseTo(343_784.38, 2);
    expect(figureOf(report, 'Kinesis', 'ad_impressions throughput (peak)')).toBeCloseTo(327.858, 3);
    expect(figureOf(report, 'Kinesis', 'ad_impressions shard-equivalents')).toBe(344);
    expect(figureOf(report, 'Kinesis', 'clicks shard-equivalents')).toBe(4);
    // 10,000 × 20 ms = 200; 3,472 × 30 ms = 104.2 → 105; counters 348 shards, fraud 1 (a singleton);
    // 100,000 WCU ÷ 1,000 = 100
    expect(figureOf(report, 'Lambda', 'predict concurrency')).toBe(200);
    expect(figureOf(report, 'Lambda', 'api concurrency')).toBe(105);
    expect(figureOf(report, 'Lambda', 'featureCounters concurrency')).toBe(348);
    expect(figureOf(report, 'Lambda', 'fraudConsumer concurrency')).toBe(1);
    expect(figureOf(report, 'Lambda', 'predictionLogStream concurrency')).toBe(100);
    expect(figureOf(report, 'Lambda', 'total concurrency')).toBe(754);
    // 100,000 × 1,000 B = 95.37 MiB/s
    expect(figureOf(report, 'Firehose', 'model_predictions (Direct PUT)')).toBeCloseTo(95.367, 3);
    expect(figureOf(report, 'DynamoDB', 'prediction log write units')).toBe(100_000);
    // 10,000 × 11 reads + 347,222 updates
    expect(figureOf(report, 'Redis', 'total')).toBeCloseTo(457_222.22, 2);
    expect(figureOf(report, 'SageMaker', 'endpoint instances')).toBe(10);
  });

  it('warns about the default quotas DESIGN.md scale exceeds, each with its source', () => {
    // Assess
    const byQuota = new Map(report.warnings.map((w) => [w.quota, w]));
    expect([...byQuota.keys()]).toEqual([
      'API Gateway requests per second (account, Region)',
      'ad servers usage plan rate (config.serving.adServerRateLimit)',
      'Kinesis on-demand write MiB/s (ad_impressions)',
      'Kinesis on-demand records/s (ad_impressions)',
      'fraud consumer events/s (one execution)',
      'Firehose Direct PUT MiB/s (model_predictions)',
      'DynamoDB on-demand write units (prediction log table)',
      'DynamoDB on-demand read units (prediction log table)',
      'Redis ops/s on one primary (guideline)',
    ]);
    expect(byQuota.get('API Gateway requests per second (account, Region)')?.limit).toBe(10_000);
    expect(byQuota.get('fraud consumer events/s (one execution)')?.needed).toBeCloseTo(347_222.22, 2);
    expect(byQuota.get('DynamoDB on-demand write units (prediction log table)')?.limit).toBe(40_000);
    expect(byQuota.get('Firehose Direct PUT MiB/s (model_predictions)')?.advice).toMatch(/20 delivery streams/);
    for (const w of report.warnings) expect(w.source).not.toBe('');
  });

  it('prints the rows and the warnings as text on the given writer', () => {
    // Prepare
    let printed = '';

    // Act
    printCapacityReport(STAGES.prod, (s) => {
      printed += s;
    });

    // Assess
    expect(printed).toBe(`${formatCapacityReport(report)}\n`);
    expect(printed).toMatch(/API Gateway: total\s+13,472\.22 req\/s/);
    expect(printed).toMatch(/9 default quota\(s\) exceeded/);
    expect(printed).toMatch(/WARNING fraud consumer events\/s \(one execution\): needs 347,222\.22, default 50,000/);
  });
});
