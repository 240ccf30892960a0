/**
 * Builds a stage's stacks in memory for Template assertions and runs cdk-nag over them, offline.
 * Lambda bundling is skipped here (`aws:cdk:bundling-stacks` empty, as the CLI does for stacks it
 * does not deploy): the templates are the same, and test/infra/synth-cli.test.ts runs the real
 * `cdk synth`, bundles included.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type AdclickStacks, addStacks } from '../../../lib/app.js';
import { STAGES, type StageName } from '../../../lib/config.js';

export interface SynthesizedStage {
  readonly app: App;
  readonly stacks: AdclickStacks;
  readonly template: (stack: Stack) => Template;
}

const cache = new Map<string, SynthesizedStage>();

/** cdk.json's context (the feature flags): the same templates as `cdk synth` makes. */
export const CDK_CONTEXT = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/** The stage's stacks (built once per test file and stage: building them is the slow part). */
export function synthStage(stage: StageName, options: { bundle?: boolean } = {}): SynthesizedStage {
  const key = `${stage}:${options.bundle === true}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const app = new App({
    context: { ...CDK_CONTEXT, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const stacks = addStacks(app, STAGES[stage]);
  const templates = new Map<Stack, Template>();
  const built: SynthesizedStage = {
    app,
    stacks,
    template: (stack) => {
      let t = templates.get(stack);
      if (!t) {
        t = Template.fromStack(stack);
        templates.set(stack, t);
      }
      return t;
    },
  };
  cache.set(key, built);
  return built;
}

export interface NagFinding {
  readonly rule: string;
  readonly resource: string;
  readonly description: string;
}

/** Every unacknowledged finding of the AWS Solutions and Serverless packs on the stage's stacks. */
export function nagFindings(stage: SynthesizedStage): NagFinding[] {
  const findings: NagFinding[] = [];
  for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
    const report = pack.validateScope(stage.app);
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        findings.push({
          rule: v.ruleName,
          resource: r.constructPath ?? r.resourceLogicalId ?? r.locations?.join(',') ?? '?',
          description: v.description,
        });
      }
    }
  }
  return findings;
}
