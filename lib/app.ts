/**
 * The whole system as stacks for one stage, stateful apart from stateless, wired by typed props,
 * with cdk-nag's AWS Solutions and Serverless packs registered as validation plugins (synth fails
 * on an unacknowledged finding). bin/app.ts calls this; the tests call it too.
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { StageConfig } from './config.js';
import { DataStack } from './stacks/data-stack.js';
import { MlStack } from './stacks/ml-stack.js';
import { MonitoringStack } from './stacks/monitoring-stack.js';
import { ServingStack } from './stacks/serving-stack.js';
import { StateStack } from './stacks/state-stack.js';

export interface AdclickStacks {
  readonly data: DataStack;
  readonly state: StateStack;
  readonly ml: MlStack;
  readonly serving: ServingStack;
  readonly monitoring: MonitoringStack;
}

/** Adds the stage's stacks to `app`, named `adclick-<stage>-<part>`; environment-agnostic (no lookups). */
export function addStacks(app: App, config: StageConfig): AdclickStacks {
  const name = (part: string) => `${config.prefix}-${part}`;
  const tags = { project: 'adclick', stage: config.stage };
  const common = { config, tags };
  const data = new DataStack(app, name('data'), {
    ...common,
    description: 'adclick lake: KMS key, S3, Kinesis, Firehose to Parquet, Glue, Athena',
  });
  const state = new StateStack(app, name('state'), {
    ...common,
    data,
    description: 'adclick serving state: VPC, DynamoDB, ElastiCache Redis, secrets, model bucket',
  });
  const ml = new MlStack(app, name('ml'), {
    ...common,
    data,
    state,
    description: 'adclick model: SageMaker endpoint and retraining pipeline',
  });
  const serving = new ServingStack(app, name('serving'), {
    ...common,
    data,
    state,
    ml,
    description: 'adclick API: API Gateway, WAF and the Lambda functions',
  });
  const monitoring = new MonitoringStack(app, name('monitoring'), {
    ...common,
    data,
    state,
    ml,
    serving,
    description: 'adclick dashboard and alarms',
  });
  return { data, state, ml, serving, monitoring };
}

/** cdk-nag as synth-time validation: an unacknowledged finding fails `cdk synth`. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
