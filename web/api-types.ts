/**
 * The API's answers, as the server's own zod schemas define them (types only: nothing of the
 * server reaches the bundle). A contract change that the page does not follow fails
 * `npm run typecheck`.
 */
import type * as z from 'zod';
import type { ExperimentList } from '../lambdas/core/schemas/experiments.js';
import type { ModelRecord } from '../lambdas/core/schemas/models.js';

export type {
  AdPerformanceResponse,
  AdPerformanceRow,
  FraudResponse,
  ModelsAnalyticsResponse,
  UserSegmentsResponse,
} from '../lambdas/core/schemas/analytics.js';
export type { ExperimentWithResults } from '../lambdas/core/schemas/experiments.js';
export type { DriftEvent, GateReport, ModelRecord } from '../lambdas/core/schemas/models.js';

export type ExperimentSummary = z.infer<typeof ExperimentList>['experiments'][number];
export type FraudRow = import('../lambdas/core/schemas/analytics.js').FraudResponse['rows'][number];
export type ModelMetrics = import('../lambdas/core/schemas/analytics.js').ModelsAnalyticsResponse['models'][number];
export type UserSegment = import('../lambdas/core/schemas/analytics.js').UserSegmentsResponse['segments'][number];
export type VariantResult =
  import('../lambdas/core/schemas/experiments.js').ExperimentWithResults['results']['variants'][number];

export interface ModelList {
  readonly models: ModelRecord[];
}
