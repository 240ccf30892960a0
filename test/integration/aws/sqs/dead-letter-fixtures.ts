/** Prediction records and SendMessageBatch answers shared by the dead-letter and redrive tests. */
import { createHash } from 'node:crypto';
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { PredictionRecord } from '../../../../lambdas/core/ports.js';

const AT = new Date('2026-12-04T10:00:00.123Z');

export const prediction = (id: string, patch: Partial<PredictionRecord> = {}): PredictionRecord => ({
  prediction_id: id,
  request_id: `req-${id}`,
  user_id: 'u_3f1c9a',
  ad_id: 'ad_14',
  probability: 0.1 + 0.2,
  model_id: 'm_0192a1b2',
  model_version: '2026-12-01.1',
  variant: 'champion',
  experiment_id: null,
  fallback: false,
  consent: true,
  features: { device_type: 'mobile', position: 1, returning: true, region: null, note: 'ü "quoted"\n' },
  explanation: { base_value: -3.25, contributions: { device_type: 0.25, position: -1e-9 } },
  exploration_bonus: null,
  model_latency_ms: null,
  timestamp: AT,
  ...patch,
});

/** SQS's SendMessageBatch answer: the entries `fails` picks failed (not the sender's fault), the rest queued. */
export function sqsAnswer(
  input: SendMessageBatchCommandInput,
  fails: (id: string) => boolean = () => false,
): SendMessageBatchCommandOutput {
  const entries = input.Entries ?? [];
  return {
    $metadata: { httpStatusCode: 200 },
    Successful: entries
      .filter((e) => !fails(e.Id!))
      .map((e, i) => ({
        Id: e.Id!,
        MessageId: `5fea7756-0ea4-451a-a703-${String(i).padStart(12, '0')}`,
        MD5OfMessageBody: createHash('md5').update(e.MessageBody!).digest('hex'),
      })),
    Failed: entries
      .filter((e) => fails(e.Id!))
      .map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError', Message: 'Internal error.' })),
  };
}
