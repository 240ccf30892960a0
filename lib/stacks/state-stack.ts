import { Annotations, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DynamoTableKey } from '../../lambdas/adapters/aws/dynamodb/tables.js';
import type { StageConfig } from '../config.js';
import { ModelBucket } from '../constructs/state/model-bucket.js';
import { OperationalTables } from '../constructs/state/operational-tables.js';
import { PredictionLogQueue } from '../constructs/state/prediction-log-queue.js';
import { PseudonymisationKey } from '../constructs/state/pseudonymisation-key.js';
import { RedisCache } from '../constructs/state/redis-cache.js';
import { agnosticAvailabilityZones, ServingNetwork } from '../constructs/state/serving-network.js';
import type { DataResources, StateResources } from './resources.js';

export interface StateStackProps extends StackProps {
  readonly config: StageConfig;
  readonly data: DataResources;
}

/** Stateful: the VPC, DynamoDB tables, Redis, the pseudonymisation key, the model bucket, the DLQ. */
export class StateStack extends Stack implements StateResources {
  readonly vpc: ec2.IVpc;
  readonly tables: Readonly<Record<DynamoTableKey, dynamodb.ITable>>;
  readonly erasuresTable: dynamodb.ITable;
  readonly redis: StateResources['redis'];
  readonly pseudonymisationSecret: secretsmanager.ISecret;
  readonly modelBucket: s3.IBucket;
  readonly predictionLogDeadLetterQueue: sqs.IQueue;
  readonly predictionLogPoisonQueue: sqs.IQueue;

  private readonly maxAzs: number;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    const { config } = props;
    // The data key by ARN: a grant on the real key from a later stack (the serving functions'
    // grants on these tables, queue and secrets) would write that stack's role into the data
    // stack's key policy, a dependency cycle. The key policy lets the account's IAM policies
    // grant its use, so the grants land on the functions' roles instead.
    const data = { ...props.data, key: kms.Key.fromKeyArn(this, 'DataKey', props.data.key.keyArn) };
    this.maxAzs = config.serving.maxAzs;
    const removalPolicy = config.removalPolicy;
    const retained = removalPolicy === RemovalPolicy.RETAIN;

    this.vpc = new ServingNetwork(this, 'Network', {
      maxAzs: config.serving.maxAzs,
      flowLogRetentionDays: config.serving.logRetentionDays,
      removalPolicy,
    }).vpc;

    // One customer key (data.key) for all data at rest: one key policy to audit, and revoking it
    // makes the lake and the serving state unreadable together.
    const operational = new OperationalTables(this, 'Tables', {
      prefix: config.prefix,
      encryptionKey: data.key,
      removalPolicy,
      deletionProtection: retained,
    });
    this.tables = operational.tables;
    this.erasuresTable = operational.erasures;

    const redis = new RedisCache(this, 'Redis', {
      vpc: this.vpc,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      nodeType: config.serving.redisNodeType,
      replicas: config.serving.redisReplicas,
      encryptionKey: data.key,
      replicationGroupId: `${config.prefix}-cache`,
      removalPolicy,
    });
    this.redis = {
      host: redis.host,
      port: String(redis.port),
      securityGroup: redis.securityGroup,
      authSecret: redis.authSecret,
    };

    this.pseudonymisationSecret = new PseudonymisationKey(this, 'PseudonymisationKey', {
      encryptionKey: data.key,
    }).secret;

    // Imported by name: a cross-stack Bucket would have this stack rewrite the lake stack's ACLs.
    const accessLogs = s3.Bucket.fromBucketName(this, 'AccessLogBucket', data.accessLogBucket.bucketName);
    this.modelBucket = new ModelBucket(this, 'Models', {
      encryptionKey: data.key,
      accessLogBucket: accessLogs,
      removalPolicy,
    }).bucket;
    Annotations.of(this.modelBucket).acknowledgeWarning(
      '@aws-cdk/aws-s3:accessLogsPolicyNotAdded',
      "The data stack's access-log bucket admits S3 log delivery from the account by its own bucket policy.",
    );

    const predictionLogQueue = new PredictionLogQueue(this, 'PredictionLogDlq', {
      encryptionKey: data.key,
      queueName: `${config.prefix}-prediction-log-dlq`,
      // The redrive function runs at most 30 s.
      visibilityTimeout: Duration.minutes(3),
      removalPolicy,
    });
    this.predictionLogDeadLetterQueue = predictionLogQueue.queue;
    this.predictionLogPoisonQueue = predictionLogQueue.poisonQueue;
  }

  /** See agnosticAvailabilityZones: the stage's maxAzs, not CDK's two, without a lookup. */
  override get availabilityZones(): string[] {
    return agnosticAvailabilityZones(this, this.maxAzs ?? 2);
  }
}
