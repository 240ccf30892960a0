import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.js';
import { makeApp, T0 } from '../../support/memory-ports.js';

describe('predict with a request time', () => {
  it("logs the prediction at the ad server's request time when one is given", async () => {
    // Prepare
    const { app, ports } = makeApp();
    const earlier = new Date(T0.getTime() - 20 * 3_600_000);

    // Act
    await app.predict.predict({ user_id: 'alice', ad_id: 'ad-1', timestamp: earlier.toISOString() });

    // Assess
    expect(ports.predictions.all()[0]?.timestamp).toEqual(earlier);
  });

  it('logs it at the server clock without one', async () => {
    const { app, ports } = makeApp();

    await app.predict.predictBatch({ user_id: 'alice', ads: [{ ad_id: 'ad-1' }] });

    expect(ports.predictions.all()[0]?.timestamp).toEqual(ports.clock.now());
  });

  it.each([
    ['more than 5 minutes ahead', new Date(T0.getTime() + 6 * 60_000), /in the future/],
    ["older than the lake's retention", new Date(T0.getTime() - 401 * 86_400_000), /retention/],
  ])('refuses a request time %s with a 400 naming timestamp, before scoring', async (_, at, message) => {
    // Prepare
    const { app, ports } = makeApp();

    // Act
    const act = app.predict.predict({ user_id: 'alice', ad_id: 'ad-1', timestamp: at.toISOString() });

    // Assess
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toThrow(message);
    expect(ports.model.calls).toHaveLength(0);
  });
});
