/** cdk-nag acknowledgements, each a specific finding id, sharing one reason. */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, ids: readonly string[], reason: string): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}

/** The id of an IAM5 finding on `<bucket ARN><suffix>` (a bucket of this app, as cdk-nag names it). */
export function bucketResourceFinding(bucket: IConstruct, suffix: string): string {
  const cfn = bucket.node.defaultChild as CfnElement;
  return `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(cfn)}.Arn>${suffix}]`;
}
