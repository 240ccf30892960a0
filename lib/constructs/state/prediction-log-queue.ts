/**
 * Where a prediction log write that DynamoDB kept throttling is parked (DeadLetterPredictionLog),
 * drained by the prediction-log-redrive function. A message that function cannot write after
 * several receives moves on to a poison queue, kept for inspection, instead of looping.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface PredictionLogQueueProps {
  readonly encryptionKey: kms.IKey;
  /** Physical name of the queue (the poison queue is `<name>-poison`). */
  readonly queueName: string;
  /**
   * How long a receive hides a message: at least 6 × the redrive function's timeout, as Lambda's
   * SQS event source advises.
   * @default 3 minutes
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message is set aside as poison.
   * @default 10
   */
  readonly maxReceiveCount?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class PredictionLogQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly poisonQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PredictionLogQueueProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const common = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      // KMS is asked for a data key every 5 minutes per queue, not per message.
      dataKeyReuse: Duration.minutes(5),
      enforceSSL: true,
      // SQS's longest: a parked prediction survives a long DynamoDB incident and a weekend.
      retentionPeriod: Duration.days(14),
      removalPolicy,
    };
    this.poisonQueue = new sqs.Queue(this, 'Poison', { ...common, queueName: `${props.queueName}-poison` });
    Validations.of(this.poisonQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the last stop of the parked prediction log writes: nothing consumes it automatically, an operator inspects and replays it, so there is no further queue to redrive to.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      queueName: props.queueName,
      visibilityTimeout: props.visibilityTimeout ?? Duration.minutes(3),
      deadLetterQueue: { queue: this.poisonQueue, maxReceiveCount: props.maxReceiveCount ?? 10 },
    });
  }
}
