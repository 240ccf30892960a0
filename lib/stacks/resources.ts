/**
 * What each stack hands to the ones after it: the typed props that wire the app (lib/app.ts).
 * Stacks depend on these interfaces, not on each other's classes, so each can be built, read and
 * tested on its own. Stateful stacks (data, state) come first; a stateless stack can be destroyed
 * and redeployed without touching a byte of data.
 */
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { DynamoTableKey } from '../../lambdas/adapters/aws/dynamodb/tables.js';
import type { LakeTableName } from '../../lambdas/core/lake/tables.js';

/** The lake tables that arrive as events on a Kinesis stream (the API writes them). */
export type EventTableName = Extract<LakeTableName, 'ad_impressions' | 'clicks' | 'suspicious_events'>;

/** DataStack (stateful): the lake and its analytics. */
export interface DataResources {
  /** Customer-managed key (rotation on) of the lake, the streams and Firehose. */
  readonly key: kms.IKey;
  readonly lakeBucket: s3.IBucket;
  readonly accessLogBucket: s3.IBucket;
  /** One on-demand, encrypted stream per event table; each feeds its Firehose to Parquet. */
  readonly eventStreams: Readonly<Record<EventTableName, kinesis.IStream>>;
  /** The `model_predictions` Firehose (Direct PUT), fed by the prediction log's stream Lambda. */
  readonly predictionsDeliveryStream: { readonly name: string; readonly arn: string };
  /**
   * The event tables' Firehose delivery stream names (monitoring alarms on their data freshness).
   * Optional only so the data stack can adopt it without breaking; monitoring skips what is absent.
   */
  readonly eventDeliveryStreamNames?: Readonly<Record<EventTableName, string>>;
  readonly glueDatabaseName: string;
  readonly athenaWorkgroupName: string;
  /** Where Athena writes results (encrypted, expired after the stage's retention). */
  readonly athenaResultsBucket: s3.IBucket;
}

/** StateStack (stateful): the serving path's state and network. */
export interface StateResources {
  readonly vpc: ec2.IVpc;
  /** The DynamoDB tables of `DYNAMO_TABLES`, created from those definitions. */
  readonly tables: Readonly<Record<DynamoTableKey, dynamodb.ITable>>;
  /** Erasure receipts (DELETE /users/{user_id}); without it the serving stack wires no erasure. */
  readonly erasuresTable?: dynamodb.ITable;
  readonly redis: {
    /** Primary endpoint host and port (TLS). */
    readonly host: string;
    readonly port: string;
    /** Clients must be in a security group this one allows. */
    readonly securityGroup: ec2.ISecurityGroup;
    /** The AUTH token. */
    readonly authSecret: secretsmanager.ISecret;
  };
  /** The HMAC key of the pseudonymiser (32 random bytes, hex). */
  readonly pseudonymisationSecret: secretsmanager.ISecret;
  /** Model artifacts (uploads, training output, the gate's holdout). */
  readonly modelBucket: s3.IBucket;
  /** Prediction log writes DynamoDB kept throttling (redriven by prediction-log-redrive). */
  readonly predictionLogDeadLetterQueue: sqs.IQueue;
  /** Where a parked write lands after the redrive failed it 10 times: an operator replays it. */
  readonly predictionLogPoisonQueue: sqs.IQueue;
}

/** MlStack: the model endpoint and the retraining pipeline. */
export interface MlResources {
  readonly endpointName: string;
  /** The serving image (ECR URI with tag/digest) a new production variant is created from. */
  readonly imageUri: string;
  /** The role SageMaker models run as (the API and drift monitor pass it when adding a variant). */
  readonly executionRole: iam.IRole;
  readonly pipelineName: string;
}

/** ServingStack (stateless): the API and the functions. */
export interface ServingResources {
  readonly restApiName: string;
  readonly restApiId: string;
  readonly stageName: string;
  readonly functions: Readonly<
    Record<
      | 'predict'
      | 'api'
      | 'featureCounters'
      | 'fraudConsumer'
      | 'predictionLogStream'
      | 'predictionLogRedrive'
      | 'driftMonitor',
      lambda.IFunction
    >
  >;
  /** Failed stream batches' metadata and failed scheduled invokes: an operator replays from the source. */
  readonly invokeFailuresQueue: sqs.IQueue;
}
