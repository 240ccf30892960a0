/**
 * ElastiCache Redis for the features and prediction caches: a replication group (cluster mode off:
 * the client is a plain ioredis connection) with a primary and replicas in different AZs,
 * automatic failover, TLS in transit, encryption at rest and an AUTH token held in Secrets Manager.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface RedisCacheProps {
  readonly vpc: ec2.IVpc;
  /** Subnets the nodes go in (one node per AZ where there are enough). */
  readonly subnets: ec2.SubnetSelection;
  readonly nodeType: string;
  /** Replicas beside the primary (≥ 1: multi-AZ failover needs one). */
  readonly replicas: number;
  /** Key for encryption at rest and for the AUTH token secret. */
  readonly encryptionKey: kms.IKey;
  /** Physical name of the replication group (≤ 40 characters). */
  readonly replicationGroupId: string;
  /**
   * Port the nodes listen on; not Redis's well-known 6379, so a scan for Redis does not find it.
   * @default 6380
   */
  readonly port?: number;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class RedisCache extends Construct {
  readonly securityGroup: ec2.SecurityGroup;
  readonly authSecret: secretsmanager.Secret;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly port: number;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    if (props.replicas < 1) throw new Error('Redis needs at least one replica for multi-AZ failover.');
    this.port = props.port ?? 6380;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Redis and its clients: members reach the nodes on the Redis port',
      allowAllOutbound: true,
    });
    // Clients join this group rather than a group of their own: an ingress rule naming a group of
    // the (stateless) serving stack would make this stateful stack depend on it.
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(this.port), 'Redis from its clients');

    this.authSecret = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'ElastiCache Redis AUTH token (read by the functions at cold start)',
      encryptionKey: props.encryptionKey,
      // ElastiCache accepts 16-128 printable characters without @, " or /; letters and digits suffice.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.authSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'ElastiCache has no managed rotation for AUTH tokens: rotating needs a ModifyReplicationGroup with the ROTATE strategy while every client reconnects; done as an operation (lib/README.md), not by a rotation Lambda.',
    });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'Private isolated subnets of the serving VPC',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupId: props.replicationGroupId,
      replicationGroupDescription: 'adclick features and prediction cache',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      numCacheClusters: 1 + props.replicas,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: props.encryptionKey.keyArn,
      // A dynamic reference: CloudFormation resolves it at deploy; the template never holds the token.
      authToken: this.authSecret.secretValue.unsafeUnwrap(),
      autoMinorVersionUpgrade: true,
    });
    this.replicationGroup.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
  }

  get host(): string {
    return this.replicationGroup.attrPrimaryEndPointAddress;
  }
}
