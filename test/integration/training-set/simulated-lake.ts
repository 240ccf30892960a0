/**
 * Simulated traffic with a known truth (sagemaker/simulate.ts), written into a lake as the server
 * would log it: a prediction (the snapshot the model scores), its impression 100 ms later, and,
 * with the request's true probability, a click 5 s to 50 min after the impression.
 */
import type { LakeRecord } from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { createRandom } from '../../../sagemaker/model/prng.js';
import { createSimulator, type SimulatorOptions } from '../../../sagemaker/simulate.js';
import { click, impression, prediction, writeLake } from './lake-fixture.js';

export interface SimulatedLakeOptions {
  readonly lakeDir: string;
  readonly simulator: SimulatorOptions;
  /** Requests to skip first, so that a later slice of the same traffic can follow an earlier one. */
  readonly skip?: number;
  readonly impressions: number;
  /** The impressions are spread evenly over [start, start + hours). */
  readonly start: Date;
  readonly hours: number;
  /** Prefix of the ids, unique per slice. */
  readonly prefix: string;
}

export interface SimulatedLake {
  readonly clicks: number;
  /** The mean true click probability of the impressions written. */
  readonly meanTrueProbability: number;
}

export async function writeSimulatedLake(o: SimulatedLakeOptions): Promise<SimulatedLake> {
  const simulator = createSimulator(o.simulator);
  for (let i = 0; i < (o.skip ?? 0); i++) simulator.clicks(simulator.nextRequest().trueProbability);
  const delays = createRandom(o.simulator.seed ?? 1, 99);
  const span = o.hours * 3_600_000;
  const predictions: LakeRecord[] = [];
  const impressions: LakeRecord[] = [];
  const clicks: LakeRecord[] = [];
  let truth = 0;
  for (let i = 0; i < o.impressions; i++) {
    const request = simulator.nextRequest();
    truth += request.trueProbability;
    const clicked = simulator.clicks(request.trueProbability);
    const shownAt = o.start.getTime() + Math.floor((i * span) / o.impressions);
    const id = `${o.prefix}${i}`;
    predictions.push(prediction(`p-${id}`, new Date(shownAt - 100), simulator.toTrainingRow(request)));
    impressions.push(impression(`i-${id}`, `p-${id}`, new Date(shownAt)));
    if (clicked) clicks.push(click(`c-${id}`, `i-${id}`, new Date(shownAt + 5_000 + delays.next() * 2_995_000)));
  }
  await writeLake(o.lakeDir, { predictions, impressions, clicks }, `${o.prefix}.parquet`);
  return { clicks: clicks.length, meanTrueProbability: truth / o.impressions };
}
