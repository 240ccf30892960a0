/**
 * The serving VPC: private isolated subnets only, with VPC endpoints for every AWS service the
 * functions in it call, so no NAT gateway (and no path to the internet) is needed.
 */
import { Fn, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * Interface endpoints the Redis-using functions (predict, api, feature-counters) need: the model
 * (runtime and control plane), the event streams, the prediction log's parking queue, secrets,
 * Athena, and the telemetry they emit. S3 and DynamoDB use free gateway endpoints instead.
 */
export const INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  SageMakerApi: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  Kinesis: ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
  Firehose: ec2.InterfaceVpcEndpointAwsService.KINESIS_FIREHOSE,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Athena: ec2.InterfaceVpcEndpointAwsService.ATHENA,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
};

export interface ServingNetworkProps {
  /** Availability zones to spread the subnets over (each gets a subnet and an endpoint ENI). */
  readonly maxAzs: number;
  /** Days the VPC flow logs are kept. */
  readonly flowLogRetentionDays: number;
  /**
   * What happens to the flow log group when the stack goes.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The VPC's address range.
   * @default 10.40.0.0/16
   */
  readonly cidr?: string;
}

export class ServingNetwork extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: ServingNetworkProps) {
    super(scope, id);
    const cidr = props.cidr ?? '10.40.0.0/16';
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: props.maxAzs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'serving', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: retentionOf(props.flowLogRetentionDays),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // One group for every endpoint: HTTPS from the VPC's own range (only our functions live here),
    // named by its literal CIDR so the rule is reviewable in the template.
    const endpoints = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from inside the serving VPC',
      allowAllOutbound: false,
    });
    endpoints.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the serving VPC');
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        privateDnsEnabled: true,
        securityGroups: [endpoints],
        open: false,
      });
    }
  }
}

/** The RetentionDays member for a number of days (CloudWatch Logs accepts only its fixed list). */
export function retentionOf(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) throw new Error(`${days} is not a CloudWatch Logs retention (${allowed.join(', ')}).`);
  return days as logs.RetentionDays;
}

/**
 * The availability zones of an environment-agnostic stack: CDK offers two there (it cannot know
 * the region), but every region we deploy to has at least three, so `Fn::GetAZs` is indexed up to
 * the stage's maxAzs instead.
 */
export function agnosticAvailabilityZones(stack: Stack, count: number): string[] {
  return Array.from({ length: count }, (_, i) => Fn.select(i, Fn.getAzs(stack.region)));
}
