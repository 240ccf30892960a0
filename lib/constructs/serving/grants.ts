/**
 * Grants the construct library has no method for (Athena workgroups, the Glue catalogue, the
 * SageMaker control plane, Firehose Direct PUT), each scoped to the resources by ARN, so no
 * statement needs a `*` action or resource.
 */
import { ArnFormat, type Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Run and read queries in one workgroup, over one Glue database's tables. */
export function grantAthenaQueries(
  grantee: iam.IGrantable,
  scope: Stack,
  names: { readonly workgroup: string; readonly database: string },
): void {
  const arn = (service: string, resource: string, resourceName?: string) =>
    scope.formatArn({ service, resource, ...(resourceName === undefined ? {} : { resourceName }) });
  iam.Grant.addToPrincipal({
    grantee,
    actions: [
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StopQueryExecution',
      'athena:GetWorkGroup',
    ],
    resourceArns: [arn('athena', 'workgroup', names.workgroup)],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
    resourceArns: [
      arn('glue', 'catalog'),
      arn('glue', 'database', names.database),
      arn('glue', 'table', `${names.database}/*`),
    ],
  });
}

/** Invoke one endpoint (its variants are chosen per request by TargetVariant). */
export function grantInvokeEndpoint(grantee: iam.IGrantable, scope: Stack, endpointName: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['sagemaker:InvokeEndpoint'],
    resourceArns: [
      scope.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: arnName(endpointName) }),
    ],
  });
}

/**
 * What EndpointDeployment and the housekeeping do to one endpoint: describe it, add models and
 * configs (named `<endpoint>-…`, or `adclick-<hash>` when that name is too long), update it, tag
 * what they create and delete what they superseded; and pass the models' execution role to
 * SageMaker only.
 */
export function grantEndpointDeployment(
  grantee: iam.IGrantable,
  scope: Stack,
  endpointName: string,
  executionRole: iam.IRole,
): void {
  const name = arnName(endpointName);
  const arn = (resource: string, resourceName: string) =>
    scope.formatArn({ service: 'sagemaker', resource, resourceName });
  const created = (resource: string) => [arn(resource, `${name}-*`), arn(resource, 'adclick-*')];
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:ListTags'],
    resourceArns: [arn('endpoint', name)],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: [
      'sagemaker:CreateModel',
      'sagemaker:DescribeModel',
      'sagemaker:DeleteModel',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:DescribeEndpointConfig',
      'sagemaker:DeleteEndpointConfig',
      'sagemaker:AddTags',
      'sagemaker:ListTags',
    ],
    resourceArns: [...created('model'), ...created('endpoint-config')],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: [executionRole.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
  });
}

/** The service-linked role Application Auto Scaling uses to scale SageMaker variants. */
export const SAGEMAKER_AUTOSCALING_SERVICE = 'sagemaker.application-autoscaling.amazonaws.com';

/**
 * What VariantAutoscaling does for one endpoint's variants: register and deregister their
 * scalable targets and put their target-tracking policy, and what Application Auto Scaling
 * checks the caller may do itself when it registers one (describe the endpoint and change its
 * variants' capacity; create, read and delete the policy's `TargetTracking-<resource id>-…`
 * alarms). Scalable targets are named by a random id, not by the variant, so the writes are scoped
 * to this account and region's targets; the describes take no resource at all. The service-linked
 * role is created at the first registration in the account, for this service name only.
 */
export function grantVariantAutoscaling(grantee: iam.IGrantable, scope: Stack, endpointName: string): void {
  const name = arnName(endpointName);
  iam.Grant.addToPrincipal({
    grantee,
    actions: [
      'application-autoscaling:RegisterScalableTarget',
      'application-autoscaling:DeregisterScalableTarget',
      'application-autoscaling:PutScalingPolicy',
    ],
    resourceArns: [scalableTargetsArn(scope)],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingPolicies'],
    resourceArns: ['*'],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['sagemaker:DescribeEndpoint', 'sagemaker:UpdateEndpointWeightsAndCapacities'],
    resourceArns: [scope.formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: name })],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms', 'cloudwatch:DeleteAlarms'],
    resourceArns: [targetTrackingAlarmsArn(scope, endpointName)],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['iam:CreateServiceLinkedRole'],
    resourceArns: [
      scope.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `aws-service-role/${SAGEMAKER_AUTOSCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
      }),
    ],
    conditions: { StringEquals: { 'iam:AWSServiceName': SAGEMAKER_AUTOSCALING_SERVICE } },
  });
}

/** Every scalable target of the account in this region (their ARNs end in a random id). */
export function scalableTargetsArn(scope: Stack): string {
  return scope.formatArn({ service: 'application-autoscaling', resource: 'scalable-target', resourceName: '*' });
}

/** The alarms a target-tracking policy on one of the endpoint's variants creates. */
export function targetTrackingAlarmsArn(scope: Stack, endpointName: string): string {
  return scope.formatArn({
    service: 'cloudwatch',
    resource: 'alarm',
    resourceName: `TargetTracking-endpoint/${endpointName}/variant/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Direct PUT into one Firehose delivery stream. */
export function grantFirehosePut(grantee: iam.IGrantable, deliveryStreamArn: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
    resourceArns: [deliveryStreamArn],
  });
}

/** SageMaker ARNs carry names in lower case; a token (a name known at deploy) is left as it is. */
function arnName(name: string): string {
  return Token.isUnresolved(name) ? name : name.toLowerCase();
}
