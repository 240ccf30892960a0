import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ValidationError } from '../../../lambdas/core/errors.js';
import { Timestamp } from '../../../lambdas/core/schemas/common.js';
import { BatchEvent, ClickEvent, EventBatchRequest, ImpressionEvent } from '../../../lambdas/core/schemas/events.js';
import { PredictBatchRequest, PredictRequest } from '../../../lambdas/core/schemas/predict.js';
import { fieldErrors, parseOrThrow, summarise } from '../../../lambdas/core/validation.js';

const validPredict = { user_id: 'u-1', ad_id: 'ad-1' };

/** The field errors of a failed parse (fails the test when the parse succeeds). */
function errorsOf(schema: z.ZodType, input: unknown, prefix = '') {
  const result = schema.safeParse(input);
  expect(result.success, 'the input should have been refused').toBe(false);
  return result.success ? [] : fieldErrors(result.error, prefix);
}

const paths = (errors: { path: string }[]) => errors.map((e) => e.path);

describe('PredictRequest', () => {
  it('accepts the DESIGN shape with every optional field', () => {
    // Prepare
    const body = {
      user_id: 'u-1',
      ad_id: 'ad-1',
      features: { device_type: 'mobile', position: 1, premium: true, slot: null },
      request_id: 'r-1',
      consent: false,
      explain: true,
    };

    // Act
    const result = PredictRequest.safeParse(body);

    // Assess
    expect(result.success).toBe(true);
    expect(result.data).toEqual(body);
  });

  it('refuses a missing ad_id and names ad_id as required', () => {
    // Act
    const errors = errorsOf(PredictRequest, { user_id: 'u-1' });

    // Assess
    expect(errors).toEqual([{ path: 'ad_id', message: 'is required' }]);
  });

  it('refuses unknown keys and names each one as not a known field', () => {
    // Act
    const errors = errorsOf(PredictRequest, { ...validPredict, userId: 'x', extra: 1 });

    // Assess
    expect(errors).toEqual([
      { path: 'userId', message: 'is not a known field' },
      { path: 'extra', message: 'is not a known field' },
    ]);
  });

  it('accepts an id of exactly 128 printable characters and refuses one of 129', () => {
    // Prepare
    const at128 = 'a'.repeat(128);
    const at129 = 'a'.repeat(129);

    // Act
    const ok = PredictRequest.safeParse({ ...validPredict, ad_id: at128 });
    const errors = errorsOf(PredictRequest, { ...validPredict, ad_id: at129 });

    // Assess
    expect(ok.success).toBe(true);
    expect(errors).toEqual([{ path: 'ad_id', message: 'must be at most 128 characters' }]);
  });

  it.each([
    ['a newline', 'ad\n1'],
    ['a tab', 'ad\t1'],
    ['a NUL', 'ad\u00001'],
    ['DEL', 'ad\u007f'],
    ['a leading space', ' ad'],
    ['a trailing space', 'ad '],
    ['non-ASCII', 'adé'],
    ['nothing', ''],
  ])('refuses an id with %s', (_label, id) => {
    // Act
    const errors = errorsOf(PredictRequest, { ...validPredict, user_id: id });

    // Assess
    expect(new Set(paths(errors))).toEqual(new Set(['user_id']));
  });

  it('accepts an id with inner spaces and punctuation', () => {
    // Act
    const result = PredictRequest.safeParse({ ...validPredict, ad_id: 'campaign 7/ad#3:{x}~' });

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts 64 features and refuses 65', () => {
    // Prepare
    const features = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]));

    // Act
    const ok = PredictRequest.safeParse({ ...validPredict, features: features(64) });
    const errors = errorsOf(PredictRequest, { ...validPredict, features: features(65) });

    // Assess
    expect(ok.success).toBe(true);
    expect(errors).toEqual([{ path: 'features', message: 'at most 64 features' }]);
  });

  it.each([
    ['an object', { nested: 1 }],
    ['an array', ['a', 'b']],
  ])('refuses a features value that is %s, naming the feature', (_label, value) => {
    // Act
    const errors = errorsOf(PredictRequest, { ...validPredict, features: { device_type: 'mobile', bad: value } });

    // Assess
    expect(paths(errors)).toEqual(['features.bad']);
  });

  it('refuses a feature name that does not start with a letter or _', () => {
    // Act
    const errors = errorsOf(PredictRequest, { ...validPredict, features: { '1st': 1 } });

    // Assess
    expect(paths(errors)).toEqual(['features.1st']);
  });

  it('never silently drops a feature named __proto__ (refuses it or keeps it)', () => {
    // Prepare
    const body = JSON.parse('{"user_id":"u","ad_id":"a","features":{"__proto__":"mobile","x":1}}');

    // Act
    const result = PredictRequest.safeParse(body);

    // Assess
    if (result.success) expect(Object.keys(result.data.features ?? {})).toContain('__proto__');
    else expect(paths(fieldErrors(result.error))).toEqual(['features.__proto__']);
  });

  it('refuses a string feature value over 256 characters', () => {
    // Act
    const errors = errorsOf(PredictRequest, { ...validPredict, features: { site: 's'.repeat(257) } });

    // Assess
    expect(paths(errors)).toEqual(['features.site']);
  });

  it('refuses a body that is not an object', () => {
    // Act
    const errors = errorsOf(PredictRequest, ['user_id', 'ad_id']);

    // Assess
    expect(paths(errors)).toEqual(['(body)']);
  });

  it('says a present value of the wrong type has the wrong type, not that it is required', () => {
    // Act
    const errors = errorsOf(PredictRequest, { ...validPredict, ad_id: 5 });

    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('ad_id');
    expect(errors[0]!.message).not.toBe('is required');
  });

  it('says a null body is not an object rather than that it is required', () => {
    // Act
    const errors = errorsOf(PredictRequest, null);

    // Assess
    expect(errors).toEqual([{ path: '(body)', message: expect.not.stringMatching(/^is required$/) }]);
  });
});

describe('Timestamp', () => {
  it.each([
    '2026-12-04T10:00:00Z',
    '2026-12-04T10:00:00.123Z',
    '2026-12-04T10:00:00+01:00',
    '2026-12-04T10:00:00-05:30',
    '2026-12-04 10:00:00Z',
  ])('accepts %s', (ts) => {
    // Act
    const result = Timestamp.safeParse(ts);

    // Assess
    expect(result.success).toBe(true);
  });

  it.each([
    ['without a zone', '2026-12-04T10:00:00'],
    ['a date only', '2026-12-04'],
    ['with an hour-only offset', '2026-12-04T10:00:00+01'],
    ['as epoch millis text', '1764842400000'],
    ['with seconds of 60', '2026-12-04T10:00:60Z'],
    ['with an out-of-range offset', '2026-12-04T10:00:00+25:00'],
    ['with month 13', '2026-13-04T10:00:00Z'],
  ])('refuses a timestamp %s', (_label, ts) => {
    // Act
    const result = Timestamp.safeParse(ts);

    // Assess
    expect(result.success).toBe(false);
  });

  it('refuses an impossible calendar date (30 February)', () => {
    // Act
    const result = Timestamp.safeParse('2026-02-30T00:00:00Z');

    // Assess
    expect(result.success).toBe(false);
  });
});

describe('PredictBatchRequest', () => {
  const ads = (n: number) => Array.from({ length: n }, (_, i) => ({ ad_id: `ad-${i}` }));

  it('accepts 1 and 500 ads', () => {
    // Act
    const one = PredictBatchRequest.safeParse({ user_id: 'u', ads: ads(1) });
    const five = PredictBatchRequest.safeParse({ user_id: 'u', ads: ads(500) });

    // Assess
    expect(one.success).toBe(true);
    expect(five.success).toBe(true);
  });

  it('refuses 0 ads', () => {
    // Act
    const errors = errorsOf(PredictBatchRequest, { user_id: 'u', ads: [] });

    // Assess
    expect(errors).toEqual([{ path: 'ads', message: 'must hold at least one ad' }]);
  });

  it('refuses 501 ads', () => {
    // Act
    const errors = errorsOf(PredictBatchRequest, { user_id: 'u', ads: ads(501) });

    // Assess
    expect(errors).toEqual([{ path: 'ads', message: 'must hold at most 500 ads' }]);
  });

  it('names the offending ad by its dotted index path', () => {
    // Prepare
    const list: unknown[] = ads(5);
    list[3] = { features: { a: 1 } };

    // Act
    const errors = errorsOf(PredictBatchRequest, { user_id: 'u', ads: list });

    // Assess
    expect(errors).toEqual([{ path: 'ads.3.ad_id', message: 'is required' }]);
  });

  it('refuses an unknown key inside an ad with its dotted path', () => {
    // Act
    const errors = errorsOf(PredictBatchRequest, { user_id: 'u', ads: [{ ad_id: 'a', bid: 2 }] });

    // Assess
    expect(errors).toEqual([{ path: 'ads.0.bid', message: 'is not a known field' }]);
  });
});

describe('ImpressionEvent and ClickEvent', () => {
  it('accepts the DESIGN impression shape', () => {
    // Prepare
    const impression = {
      impression_id: 'i-1',
      prediction_id: 'p-1',
      user_id: 'u-1',
      ad_id: 'ad-1',
      timestamp: '2026-12-04T10:00:00Z',
      device_type: 'mobile',
      location: 'FR-75',
      ip: '203.0.113.7',
      features: { site_id: 's42', position: 2 },
    };

    // Act
    const result = ImpressionEvent.safeParse(impression);

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts the DESIGN click shape, with an IPv6 address', () => {
    // Prepare
    const click = {
      click_id: 'c-1',
      impression_id: 'i-1',
      user_id: 'u-1',
      ip: '2001:db8::1',
      clicked: true,
      timestamp: '2026-12-04T10:00:05+01:00',
    };

    // Act
    const result = ClickEvent.safeParse(click);

    // Assess
    expect(result.success).toBe(true);
  });

  it('accepts the minimal impression and click', () => {
    // Act
    const imp = ImpressionEvent.safeParse({
      impression_id: 'i',
      user_id: 'u',
      ad_id: 'a',
      timestamp: '2026-12-04T10:00:00Z',
    });
    const click = ClickEvent.safeParse({
      click_id: 'c',
      impression_id: 'i',
      clicked: false,
      timestamp: '2026-12-04T10:00:00Z',
    });

    // Assess
    expect(imp.success).toBe(true);
    expect(click.success).toBe(true);
  });

  it('refuses an impression timestamp without a zone', () => {
    // Act
    const errors = errorsOf(ImpressionEvent, {
      impression_id: 'i',
      user_id: 'u',
      ad_id: 'a',
      timestamp: '2026-12-04T10:00:00',
    });

    // Assess
    expect(paths(errors)).toEqual(['timestamp']);
  });

  it('refuses an ip that is not an address', () => {
    // Act
    const errors = errorsOf(ClickEvent, {
      click_id: 'c',
      impression_id: 'i',
      clicked: true,
      ip: 'localhost',
      timestamp: '2026-12-04T10:00:00Z',
    });

    // Assess
    expect(paths(errors)).toEqual(['ip']);
  });

  it('refuses a click without clicked, naming it as required', () => {
    // Act
    const errors = errorsOf(ClickEvent, { click_id: 'c', impression_id: 'i', timestamp: '2026-12-04T10:00:00Z' });

    // Assess
    expect(errors).toEqual([{ path: 'clicked', message: 'is required' }]);
  });

  it('gives batch event errors a dotted path under the prefix', () => {
    // Act
    const errors = errorsOf(
      BatchEvent,
      { type: 'click', click_id: 'c', impression_id: 'i', clicked: true, timestamp: '2026-12-04T10:00:00' },
      'events.2',
    );

    // Assess
    expect(paths(errors)).toEqual(['events.2.timestamp']);
  });

  it('names the type of a batch event whose type is unknown', () => {
    // Act
    const errors = errorsOf(BatchEvent, { type: 'view', impression_id: 'i' }, 'events.0');

    // Assess
    expect(paths(errors)).toEqual(['events.0.type']);
  });

  it('refuses an event batch of 0 and of 501 events', () => {
    // Act
    const none = errorsOf(EventBatchRequest, { events: [] });
    const many = errorsOf(EventBatchRequest, { events: Array.from({ length: 501 }, () => ({})) });

    // Assess
    expect(none).toEqual([{ path: 'events', message: 'must hold at least one event' }]);
    expect(many).toEqual([{ path: 'events', message: 'must hold at most 500 events' }]);
  });
});

describe('parseOrThrow and summarise', () => {
  it('throws a ValidationError whose errors name every offending field', () => {
    // Act
    let thrown: unknown;
    try {
      parseOrThrow(PredictRequest, { features: { a: {} }, extra: 1 });
    } catch (err) {
      thrown = err;
    }

    // Assess
    expect(thrown).toBeInstanceOf(ValidationError);
    const error = thrown as ValidationError;
    expect(paths([...error.errors]).sort()).toEqual(['ad_id', 'extra', 'features.a', 'user_id']);
    expect(error.message).toMatch(/^Invalid body: /);
  });

  it('summarises at most three errors and counts the rest', () => {
    // Prepare
    const errors = ['a', 'b', 'c', 'd', 'e'].map((p) => ({ path: p, message: 'is required' }));

    // Act
    const text = summarise(errors);

    // Assess
    expect(text).toBe('a is required; b is required; c is required; and 2 more');
  });

  it('returns the parsed value when the input is valid', () => {
    // Act
    const parsed = parseOrThrow(PredictRequest, validPredict);

    // Assess
    expect(parsed).toEqual(validPredict);
  });
});
