import { describe, expect, it } from 'vitest';
import {
  encodeRecord,
  parseSegmentFileName,
  RecordEncoder,
  scanSegment,
  segmentBase,
} from '../../../lambdas/adapters/local/event-log/segment.js';
import type { LakeTableName } from '../../../lambdas/core/lake/tables.js';

function scan(bytes: Buffer, stopAtBadLine: boolean) {
  const records: [LakeTableName, string][] = [];
  const result = scanSegment(bytes, (table, json) => records.push([table, json]), { stopAtBadLine });
  return { ...result, records };
}

describe('segment records', () => {
  const payloads = ['clicks {"click_id":"c-1"}', 'ad_impressions {"impression_id":"é ✓ 😀 \\u0000"}'];

  it('encodes the same bytes as the per-record encoder, and reads them back', () => {
    // Prepare
    const encoder = new RecordEncoder();

    // Act
    const bytes = Buffer.from(encoder.encode(payloads));
    const expected = payloads
      .map((p) => encodeRecord(p.slice(0, p.indexOf(' ')) as LakeTableName, p.slice(p.indexOf(' ') + 1)))
      .join('');
    const read = scan(bytes, true);

    // Assess
    expect(bytes.toString('utf8')).toBe(expected);
    expect(read).toEqual({
      records: [
        ['clicks', '{"click_id":"c-1"}'],
        ['ad_impressions', '{"impression_id":"é ✓ 😀 \\u0000"}'],
      ],
      validBytes: bytes.length,
      badLines: 0,
    });
  });

  it('stops at a torn last record and tells where the valid bytes end', () => {
    // Prepare
    const whole = Buffer.from(new RecordEncoder().encode(payloads));
    const firstLength = whole.indexOf(0x0a) + 1;
    const torn = whole.subarray(0, whole.length - 5);

    // Act
    const read = scan(torn, true);

    // Assess
    expect(read).toEqual({ records: [['clicks', '{"click_id":"c-1"}']], validBytes: firstLength, badLines: 1 });
  });

  it('skips a corrupt line in the middle when asked to', () => {
    // Prepare
    const lines = new RecordEncoder()
      .encode([...payloads, 'clicks {"click_id":"c-2"}'])
      .toString('utf8')
      .split('\n');
    lines[1] = lines[1]!.replace('😀', '😁');
    const bytes = Buffer.from(lines.join('\n'));

    // Act
    const read = scan(bytes, false);

    // Assess
    expect(read.records.map(([, json]) => json)).toEqual(['{"click_id":"c-1"}', '{"click_id":"c-2"}']);
    expect(read.badLines).toBe(1);
  });

  it('names segments uniquely and in creation order', () => {
    // Prepare
    const a = segmentBase(1_714_558_000_000, '0a1b2c3d', 9);
    const b = segmentBase(1_714_558_000_001, '0a1b2c3d', 10);

    // Act
    const parsed = [
      parseSegmentFileName(`${a}.log`),
      parseSegmentFileName(`${b}.sealed`),
      parseSegmentFileName('LOCK'),
    ];

    // Assess
    expect(a < b).toBe(true);
    expect(parsed).toEqual([{ base: a, sealed: false }, { base: b, sealed: true }, null]);
  });
});
