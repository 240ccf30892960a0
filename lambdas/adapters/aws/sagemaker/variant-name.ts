/**
 * The SageMaker production variant that serves a registered model. Each model an experiment or
 * the champion uses is deployed as one production variant of the endpoint, named by this
 * function (the deployment code uses it too), so the adapter needs nothing but the model id to
 * set TargetVariant: the sticky A/B split is decided by the routing (lambdas/core/usecases/
 * routing.ts), and the endpoint's own variant weights are never used for splitting.
 */
import { createHash } from 'node:crypto';

/** SageMaker's VariantName pattern: alphanumerics and hyphens, at most 63 characters. */
const VARIANT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** `m_0192…` → `m-0192…`; an id that cannot be spelled so is hashed (`m-<32 hex>`). */
export function productionVariantName(modelId: string): string {
  const spelled = modelId.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (VARIANT_NAME.test(spelled)) return spelled;
  return `m-${createHash('sha256').update(modelId).digest('hex').slice(0, 32)}`;
}
