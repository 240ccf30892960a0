import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowCodec } from '../../../lambdas/adapters/local/event-log/row-codec.js';

describe('RowCodec', () => {
  const codec = new RowCodec('model_predictions');

  function prediction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      prediction_id: 'pred-1',
      request_id: null,
      user_id: 'u',
      ad_id: 'ad-1',
      probability: 0.25,
      model_version: 'v1',
      model_id: 'm-1',
      variant: 'champion',
      experiment_id: null,
      fallback: false,
      consent: true,
      features: '{}',
      timestamp: new Date('2024-05-01T10:00:00.123Z'),
      exploration_bonus: null,
      model_latency_ms: null,
      ...overrides,
    };
  }

  it('serialises any row as the JSON of its values, timestamps in epoch milliseconds', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1 }),
        fc.option(fc.string({ unit: 'binary' })),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.date({ noInvalidDate: true }),
        (id, user, probability, fallback, timestamp) => {
          // Prepare
          const row = prediction({ prediction_id: id, user_id: user, probability, fallback, timestamp });

          // Act
          const payload = codec.serialize(row);

          // Assess
          expect(payload?.startsWith('model_predictions {')).toBe(true);
          const parsed = JSON.parse(payload!.slice('model_predictions '.length));
          expect(parsed).toEqual({
            ...row,
            probability: probability === 0 ? 0 : probability,
            timestamp: timestamp.getTime(),
          });
        },
      ),
    );
  });

  it.each([
    [{ probability: Number.NaN }, 'model_predictions.probability expected a finite number'],
    [{ probability: '0.5' }, 'model_predictions.probability expected a finite number'],
    [{ fallback: 'no' }, 'model_predictions.fallback expected a boolean, got string'],
    [{ timestamp: new Date('nope') }, 'model_predictions.timestamp expected a valid Date'],
    [{ ad_id: undefined }, 'model_predictions.ad_id is required'],
    [{ prediction_id: '' }, 'model_predictions.prediction_id is empty'],
    [{ colour: 'red' }, 'model_predictions has no column colour'],
  ])('refuses %o', (overrides, problem) => {
    // Prepare
    const row = prediction(overrides);

    // Act
    const payload = codec.serialize(row);

    // Assess
    expect(payload).toBeNull();
    expect(codec.problem).toBe(problem);
  });

  it('checks that int64 values are safe integers', () => {
    // Prepare
    const examples = new RowCodec('training_examples');
    const row = {
      prediction_id: 'p',
      impression_id: 'i',
      ad_id: 'a',
      label: 1.5,
      features: '{}',
      model_version: 'v1',
      sample_weight: 1,
      timestamp: new Date(0),
    };

    // Act
    const fractional = examples.serialize(row);
    const whole = examples.serialize({ ...row, label: 1 });

    // Assess
    expect(fractional).toBeNull();
    expect(examples.problem).toBe('training_examples.label expected a safe integer');
    expect(whole).toContain('"label":1,');
  });
});
