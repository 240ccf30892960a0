/**
 * DynamoDB clients on dynalite that throttle PutItem on demand, as DynamoDB does when a table's
 * capacity is exceeded: the fault is thrown inside the SDK's retry loop (deserialize step), so
 * the client's own retry strategy sees and retries it exactly as it would a real throttle.
 */
import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

export interface ThrottledDynamo {
  readonly doc: DynamoDBDocumentClient;
  /** PutItem calls still to be throttled (Infinity: until changed). */
  throttleNext: number;
  /** PutItem calls that reached the throttle check, throttled or not. */
  putCalls: number;
  destroy(): void;
}

/** As the composition root builds it (3 attempts, standard retries), with near-zero backoff delays. */
export function throttledDynamo(endpoint: string, throttleNext = 0): ThrottledDynamo {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: new ConfiguredRetryStrategy(3, () => 1),
  });
  const state: ThrottledDynamo = {
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    throttleNext,
    putCalls: 0,
    destroy: () => client.destroy(),
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutItemCommand') return next(args);
      state.putCalls++;
      if (state.throttleNext > 0) {
        state.throttleNext--;
        throw new ProvisionedThroughputExceededException({
          message:
            'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
          $metadata: { httpStatusCode: 400, requestId: 'THROTTLED0000000000000000000000000000000000000000000' },
        });
      }
      return next(args);
    },
    { step: 'deserialize', name: 'injectThrottling' },
  );
  return state;
}
