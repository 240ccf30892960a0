/**
 * How cdk-nag names a resource in a finding id (`AwsSolutions-IAM5[Resource::…]`): the resolved
 * value flattened, `Ref` as `<Name>` and `Fn::GetAtt` as `<LogicalId.Attr>`, as cdk-nag's own
 * flattenCfnReference does (not exported by the package). Acknowledgements are built from the
 * very ARNs granted, so they follow a renamed resource instead of silently going stale.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const n = node as Record<string, unknown>;
  if (Array.isArray(n['Fn::Join'])) {
    const [delimiter, items] = n['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (n['Fn::Sub'] !== undefined) return flatten(n['Fn::Sub']);
  if (Array.isArray(n['Fn::GetAtt'])) {
    const [resource, attribute] = n['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (n['Fn::ImportValue'] !== undefined) return flatten(n['Fn::ImportValue']);
  if (n.Ref !== undefined) return `<${flatten(n.Ref)}>`;
  return JSON.stringify(node);
}

/** The finding id of an IAM5 wildcard resource `arn` as the stack of `consumer` resolves it now. */
export function wildcardResourceFinding(consumer: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(consumer).resolve(arn))}]`;
}

/**
 * Acknowledges IAM5 wildcard resources on `target` in both of the forms cdk-nag may meet them: as
 * built (a reference to another stack's resource is `<LogicalId.Arn>`), and as synthesized (the
 * same reference replaced by the cross-stack output it reads), which exists only once the app is
 * prepared, so it is added by a validation hook, which runs after that and before cdk-nag.
 */
export function acknowledgeWildcardResources(target: IConstruct, arns: readonly string[], reason: string): void {
  const acknowledge = () => {
    for (const arn of arns) Validations.of(target).acknowledge({ id: wildcardResourceFinding(target, arn), reason });
  };
  acknowledge();
  target.node.addValidation({
    validate: () => {
      acknowledge();
      return [];
    },
  });
}
