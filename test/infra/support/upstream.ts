/**
 * Stand-ins for the resources a stack receives from the stacks before it, imported by name into a
 * scratch stack, so that one stack's Template assertions and cdk-nag run need not build the
 * others. The whole app, wired for real, is built by test/infra/app.test.ts.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DYNAMO_TABLES, type DynamoTableKey } from '../../../lambdas/adapters/aws/dynamodb/tables.js';
import type { DataResources, MlResources, ServingResources, StateResources } from '../../../lib/stacks/resources.js';
import { CDK_CONTEXT } from './synth.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** A scratch stack (fixed account and region, so ARNs are concrete) in a fresh app. */
export function upstreamStack(): { app: App; stack: Stack } {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'upstream', { env: { account: ACCOUNT, region: REGION } });
  // cdk.json's flags validate every template; this one only names imported resources.
  Validations.of(stack).acknowledge({
    id: 'CloudFormation-Validate::F0001',
    reason: 'A scratch stack of stand-ins imported by name: it holds no resource by design.',
  });
  return { app, stack };
}

export function fakeData(stack: Stack, prefix = 'adclick-dev'): DataResources {
  const stream = (id: string, name: string) =>
    kinesis.Stream.fromStreamArn(stack, id, `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${prefix}-${name}`);
  return {
    key: kms.Key.fromKeyArn(stack, 'Key', `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`),
    lakeBucket: s3.Bucket.fromBucketName(stack, 'Lake', `${prefix}-lake`),
    accessLogBucket: s3.Bucket.fromBucketName(stack, 'AccessLogs', `${prefix}-access-logs`),
    eventStreams: {
      ad_impressions: stream('Impressions', 'ad-impressions'),
      clicks: stream('Clicks', 'clicks'),
      suspicious_events: stream('Suspicious', 'suspicious-events'),
    },
    predictionsDeliveryStream: {
      name: `${prefix}-model-predictions`,
      arn: `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/${prefix}-model-predictions`,
    },
    glueDatabaseName: 'adclick_dev_lake',
    athenaWorkgroupName: `${prefix}`,
    athenaResultsBucket: s3.Bucket.fromBucketName(stack, 'AthenaResults', `${prefix}-athena-results`),
  };
}

export function fakeState(stack: Stack, prefix = 'adclick-dev'): StateResources {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${REGION}a`, `${REGION}b`],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
  });
  const tables = Object.fromEntries(
    (Object.keys(DYNAMO_TABLES) as DynamoTableKey[]).map((key) => [
      key,
      dynamodb.Table.fromTableAttributes(stack, `Table-${key}`, {
        tableName: `${prefix}-${key}`,
        ...(key === 'predictions'
          ? {
              tableStreamArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${prefix}-${key}/stream/2026-12-05T00:00:00.000`,
            }
          : {}),
      }),
    ]),
  ) as Record<DynamoTableKey, dynamodb.ITable>;
  return {
    vpc,
    tables,
    erasuresTable: dynamodb.Table.fromTableAttributes(stack, 'Table-erasures', { tableName: `${prefix}-erasures` }),
    redis: {
      host: 'master.adclick-dev.abc123.euw1.cache.amazonaws.com',
      port: '6379',
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'RedisSg', 'sg-0123456789abcdef0'),
      authSecret: secretsmanager.Secret.fromSecretCompleteArn(
        stack,
        'RedisAuth',
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${prefix}-redis-auth-AbCdEf`,
      ),
    },
    pseudonymisationSecret: secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'PseudonymisationKey',
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${prefix}-pseudonymisation-AbCdEf`,
    ),
    modelBucket: s3.Bucket.fromBucketName(stack, 'Models', `${prefix}-models`),
    predictionLogDeadLetterQueue: sqs.Queue.fromQueueArn(
      stack,
      'PredictionLogDlq',
      `arn:aws:sqs:${REGION}:${ACCOUNT}:${prefix}-prediction-log-dlq`,
    ),
    predictionLogPoisonQueue: sqs.Queue.fromQueueArn(
      stack,
      'PredictionLogPoison',
      `arn:aws:sqs:${REGION}:${ACCOUNT}:${prefix}-prediction-log-dlq-poison`,
    ),
  };
}

export function fakeMl(stack: Stack, prefix = 'adclick-dev'): MlResources {
  return {
    endpointName: `${prefix}-ctr`,
    imageUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/adclick-model:test`,
    executionRole: iam.Role.fromRoleArn(stack, 'SageMakerRole', `arn:aws:iam::${ACCOUNT}:role/${prefix}-sagemaker`),
    pipelineName: `${prefix}-retrain`,
  };
}

export function fakeServing(stack: Stack, prefix = 'adclick-dev'): ServingResources {
  const fn = (id: string) =>
    lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${prefix}-${id}`);
  return {
    restApiName: `${prefix}-api`,
    restApiId: 'abc123defg',
    stageName: 'v1',
    functions: {
      predict: fn('predict'),
      api: fn('api'),
      featureCounters: fn('feature-counters'),
      fraudConsumer: fn('fraud-consumer'),
      predictionLogStream: fn('prediction-log-stream'),
      predictionLogRedrive: fn('prediction-log-redrive'),
      driftMonitor: fn('drift-monitor'),
    },
    invokeFailuresQueue: sqs.Queue.fromQueueArn(
      stack,
      'InvokeFailures',
      `arn:aws:sqs:${REGION}:${ACCOUNT}:${prefix}-invoke-failures`,
    ),
  };
}
