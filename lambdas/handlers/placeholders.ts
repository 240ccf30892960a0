/**
 * Stand-ins for the AWS adapters this checkout does not have yet. Each answers every call with
 * DependencyUnavailableError (a 503 problem, or a logged failure where the use case tolerates
 * one), never with a made-up result: a deployment that is missing a piece says so.
 * composition.ts names the port each one fills; replace them there as the adapters land.
 */
import type { Counter, CounterDelta, CounterKey } from '../adapters/aws/redis/counters.js';
import type { FeatureBackingStore } from '../adapters/aws/redis/feature-backing-store.js';
import { DependencyUnavailableError } from '../core/errors.js';
import type { HoldoutEvaluator } from '../core/ports.js';

/** Said to the client: names the missing piece, nothing about the deployment's internals. */
const unavailable = (what: string) => new DependencyUnavailableError(`${what} is not available in this deployment.`);

/**
 * Activation asks it for the gate's numbers before anything else, so PUT /model/activate/{id} is a
 * 503 (even with force) until the AWS holdout evaluator exists.
 */
export class UnavailableHoldoutEvaluator implements HoldoutEvaluator {
  async evaluate(): Promise<never> {
    throw unavailable('The holdout evaluator');
  }
}

/**
 * The DynamoDB features table behind the Redis counters. With it missing, Redis holds no counter
 * (a miss is filled from here), so predictions get no counter features and `record` rejects
 * (logged by the events use case; the events are still acknowledged).
 */
export class UnavailableFeatureBackingStore implements FeatureBackingStore {
  async getMany(_keys: readonly CounterKey[]): Promise<(Counter | undefined)[]> {
    throw unavailable('The features table');
  }

  async add(_deltas: readonly CounterDelta[]): Promise<void> {
    throw unavailable('The features table');
  }
}
