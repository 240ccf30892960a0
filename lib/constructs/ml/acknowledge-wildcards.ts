import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';

/** One kind of wildcard a role needs, and why: matched against AwsSolutions-IAM5's finding (`Action::…`, `Resource::…`). */
export interface WildcardReason {
  readonly finding: RegExp;
  readonly reason: string;
}

const IAM5 = 'AwsSolutions-IAM5';

/** AwsSolutions-IAM5's findings of one policy document (the rule's own analysis, restated). */
function findingsOf(document: { Statement?: { Effect: string; Action: unknown; Resource: unknown }[] }): string[] {
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
  const found = new Set<string>();
  for (const s of document.Statement ?? []) {
    if (s.Effect !== 'Allow') continue;
    for (const a of list(s.Action)) if (typeof a === 'string' && a.includes('*')) found.add(`Action::${a}`);
    for (const r of list(s.Resource).map((x) => flattenCfnReference(x as never))) {
      if (r.includes('*')) found.add(`Resource::${r}`);
    }
  }
  return [...found];
}

/**
 * Acknowledges, on the role's policy, each wildcard finding that one of `reasons` explains, with
 * that reason; any other wildcard stays a finding. The findings are computed when cdk-nag reads
 * them (after synthesis has resolved cross-stack references, which change their text), which is
 * why the acknowledgement's keys are lazy.
 */
export function acknowledgeWildcards(role: iam.Role, reasons: readonly WildcardReason[]): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return;
  const cfn = policy.node.defaultChild as iam.CfnPolicy;
  const reasonOf = (finding: string) => reasons.find((r) => r.finding.test(finding))?.reason;
  const acknowledged = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const finding of findingsOf(Stack.of(cfn).resolve(cfn.policyDocument))) {
      const reason = reasonOf(finding);
      if (reason) out[`${IAM5}[${finding}]`] = reason;
    }
    return out;
  };
  // The same metadata Validations.acknowledge writes, with keys read when they are asked for.
  const lazy = new Proxy({} as Record<string, string>, {
    ownKeys: () => Object.keys(acknowledged()),
    getOwnPropertyDescriptor: (_t, key) => {
      const value = acknowledged()[key as string];
      return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: false };
    },
    get: (_t, key) => acknowledged()[key as string],
  });
  cfn.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, lazy);
}
