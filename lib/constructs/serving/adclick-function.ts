/**
 * One Lambda function of lambdas/handlers, built the way bench/lambda-cold-start/bundle.ts
 * measures it: local esbuild (no Docker), CommonJS, `mainFields: ['module', 'main']`, minified,
 * the AWS SDK left to the runtime; Node.js 22 on ARM64 with X-Ray tracing and a log group whose
 * retention the stage sets.
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { retentionOf } from '../state/serving-network.js';

/** The repository root (lib/constructs/serving → ../../..): esbuild's project root and sql/'s home. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** Where the afterBundling hook puts sql/ inside the function's package. */
export const LAMBDA_SQL_DIR = '/var/task/sql';

export interface AdclickFunctionProps {
  /** The file name under lambdas/handlers without `.ts`, e.g. `predict`. */
  readonly entry: string;
  /** Physical function name (the dashboards and the runbooks name it). */
  readonly functionName: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly memoryMiB: number;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
  /**
   * The VPC and security groups, for the functions that talk to Redis.
   * @default not in a VPC
   */
  readonly network?: { readonly vpc: ec2.IVpc; readonly securityGroups: ec2.ISecurityGroup[] };
  /**
   * Copy sql/ into the package and point ADCLICK_SQL_DIR at it (the Athena users).
   * @default false
   */
  readonly bundleSql?: boolean;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Where a failed asynchronous invoke goes (scheduled functions).
   * @default none
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Why the function has no dead-letter queue, when it has none (cdk-nag's Serverless-LambdaDLQ).
   * Required unless `deadLetterQueue` is given.
   */
  readonly noDeadLetterQueueReason?: string;
}

export class AdclickFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: AdclickFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: retentionOf(props.logRetentionDays),
      // Logs of a stateless stack go with it; the lake keeps what matters.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'lambdas', 'handlers', `${props.entry}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      memorySize: props.memoryMiB,
      timeout: props.timeout,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        ...props.environment,
        ...(props.bundleSql ? { ADCLICK_SQL_DIR: LAMBDA_SQL_DIR } : {}),
      },
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: { subnets: props.network.vpc.isolatedSubnets },
            securityGroups: props.network.securityGroups,
          }
        : {}),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.deadLetterQueue ? { deadLetterQueueEnabled: true, deadLetterQueue: props.deadLetterQueue } : {}),
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.CJS,
        mainFields: ['module', 'main'],
        target: 'node22',
        minify: true,
        sourceMap: false,
        externalModules: ['@aws-sdk/*'],
        ...(props.bundleSql
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (inputDir: string, outputDir: string) => [`cp -R "${inputDir}/sql" "${outputDir}/sql"`],
              },
            }
          : {}),
      },
    });
    const runtimeReason =
      'Node.js 22 is the runtime the handlers are built, bundled (target node22) and tested for; a newer one is adopted with its own test run.';
    Validations.of(this.fn).acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
    Validations.of(this.fn).acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
    const role = this.fn.role!;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS policy every function needs to write its own logs; it grants nothing else.',
    });
    if (props.network) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'The AWS policy a function in a VPC needs to manage its network interfaces (ENI actions have no resource-level scope).',
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only actions that support no resource-level permissions: X-Ray PutTraceSegments/PutTelemetryRecords (tracing) and, for the DynamoDB stream consumer, dynamodb:ListStreams.',
    });
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          "Written by the construct library's grants on encrypted tables, queues and secrets: the key actions of encrypt/decrypt, on the one data key those resources use.",
      });
    }
    if (!props.deadLetterQueue) {
      if (!props.noDeadLetterQueueReason) throw new Error(`${props.functionName}: say why it needs no DLQ.`);
      Validations.of(this.fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: props.noDeadLetterQueueReason });
    }
  }
}

/** For the functions' defaults that are not stage settings. */
export const TIMEOUTS = {
  predict: Duration.seconds(10),
  api: Duration.seconds(29),
  consumer: Duration.seconds(60),
  redrive: Duration.seconds(30),
  driftMonitor: Duration.minutes(5),
} as const;
