/**
 * StateStack on its own, over stand-ins for the data stack: the VPC needs no NAT, the tables are
 * DYNAMO_TABLES' own, Redis is multi-AZ with TLS and AUTH, secrets and stored data are encrypted,
 * and cdk-nag has nothing unacknowledged to say about it.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DYNAMO_TABLES, ERASURES_TABLE, PREDICTIONS_BY_USER } from '../../lambdas/adapters/aws/dynamodb/tables.js';
import { STAGES, type StageName } from '../../lib/config.js';
import { INTERFACE_ENDPOINTS } from '../../lib/constructs/state/serving-network.js';
import { StateStack } from '../../lib/stacks/state-stack.js';
import { nagFindings } from './support/synth.js';
import { fakeData, upstreamStack } from './support/upstream.js';

function buildState(stage: StageName) {
  const { app, stack } = upstreamStack();
  const config = STAGES[stage];
  const state = new StateStack(app, `${config.prefix}-state`, {
    config,
    data: fakeData(stack, config.prefix),
    env: stack.environment === undefined ? undefined : { account: stack.account, region: stack.region },
  });
  return { app, state, template: Template.fromStack(state) };
}

const dev = buildState('dev');
const prod = buildState('prod');

describe('the serving network', () => {
  it('has only isolated subnets, one per AZ of the stage, and no NAT gateway', () => {
    // Assess
    for (const [built, stage] of [
      [dev, 'dev'],
      [prod, 'prod'],
    ] as const) {
      built.template.resourceCountIs('AWS::EC2::NatGateway', 0);
      built.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
      built.template.resourceCountIs('AWS::EC2::Subnet', STAGES[stage].serving.maxAzs);
    }
  });

  it('reaches S3 and DynamoDB through gateway endpoints and the other services through interface endpoints', () => {
    // Assess
    const endpoints = Object.values(dev.template.findResources('AWS::EC2::VPCEndpoint'));
    const types = endpoints.map((e) => e.Properties.VpcEndpointType ?? 'Gateway');
    expect(types.filter((t) => t === 'Gateway')).toHaveLength(2);
    expect(types.filter((t) => t === 'Interface')).toHaveLength(Object.keys(INTERFACE_ENDPOINTS).length);
  });

  it('logs every flow', () => {
    dev.template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
  });
});

describe('the operational tables', () => {
  it.each(Object.entries(DYNAMO_TABLES))('creates %s from its definition', (key, def) => {
    // Assess
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: `adclick-dev-${key}`,
      KeySchema: [{ AttributeName: def.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      TimeToLiveSpecification:
        'ttlAttribute' in def ? { AttributeName: def.ttlAttribute, Enabled: true } : Match.absent(),
      StreamSpecification: 'stream' in def ? { StreamViewType: def.stream } : Match.absent(),
    });
  });

  it('gives the prediction log its keys-only by_user index, which an erasure queries', () => {
    // Assess
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'adclick-dev-predictions',
      GlobalSecondaryIndexes: [
        {
          IndexName: PREDICTIONS_BY_USER.name,
          KeySchema: [
            { AttributeName: PREDICTIONS_BY_USER.partitionKey, KeyType: 'HASH' },
            { AttributeName: PREDICTIONS_BY_USER.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('creates the erasures table for the receipts, encrypted with point-in-time recovery', () => {
    // Assess
    dev.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'adclick-dev-erasures',
      KeySchema: [{ AttributeName: ERASURES_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
  });

  it('protects the tables from deletion in prod only', () => {
    prod.template.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    dev.template.allResourcesProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});

describe('Redis', () => {
  it.each(['dev', 'prod'] as const)('is multi-AZ with failover, TLS, encryption at rest and AUTH in %s', (stage) => {
    // Assess
    const { template } = stage === 'dev' ? dev : prod;
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 1 + STAGES[stage].serving.redisReplicas,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      KmsKeyId: Match.anyValue(),
      CacheNodeType: STAGES[stage].serving.redisNodeType,
      // A dynamic reference to the generated secret, never a literal token.
      AuthToken: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['{{resolve:secretsmanager:'])]) }),
    });
  });

  it('admits only members of its own security group on its port', () => {
    dev.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6380,
      ToPort: 6380,
      SourceSecurityGroupId: Match.anyValue(),
    });
    const ingress = Object.values(dev.template.findResources('AWS::EC2::SecurityGroup')).map(
      (g) => g.Properties.SecurityGroupIngress ?? [],
    );
    expect(JSON.stringify(ingress)).not.toContain('0.0.0.0/0');
  });
});

describe('secrets, bucket and queue', () => {
  it('generates the pseudonymisation key as 64 lower-case hex characters', () => {
    dev.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('pseudonymiser'),
      GenerateSecretString: {
        PasswordLength: 64,
        ExcludeUppercase: true,
        ExcludePunctuation: true,
        IncludeSpace: false,
        ExcludeCharacters: 'ghijklmnopqrstuvwxyz',
      },
    });
  });

  it('keeps the model bucket private, versioned, KMS-encrypted and TLS-only, with access logs', () => {
    dev.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: 'adclick-dev-access-logs', LogFilePrefix: 'models/' },
    });
    dev.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('parks throttled prediction log writes on an encrypted queue whose poison goes to a second queue', () => {
    dev.template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'adclick-dev-prediction-log-dlq',
      KmsMasterKeyId: Match.anyValue(),
      MessageRetentionPeriod: 14 * 24 * 3600,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 10 },
    });
    dev.template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'adclick-dev-prediction-log-dlq-poison',
      KmsMasterKeyId: Match.anyValue(),
    });
  });
});

describe('cdk-nag', () => {
  it.each([
    ['dev', dev],
    ['prod', prod],
  ] as const)('has no unacknowledged finding on the %s state stack', (stage, built) => {
    // Act
    const findings = nagFindings({ app: built.app } as Parameters<typeof nagFindings>[0]).filter((f) =>
      f.resource.startsWith(`adclick-${stage}-state/`),
    );

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}: ${f.description}`)).toEqual([]);
  });
});
