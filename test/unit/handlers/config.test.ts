import { describe, expect, it } from 'vitest';
import { ConfigError, parseApiConfig } from '../../../lambdas/handlers/config.js';
import { parsePredictConfig } from '../../../lambdas/handlers/predict-config.js';

const ENV = {
  AWS_REGION: 'eu-west-1',
  ADCLICK_PREDICTIONS_TABLE: 'adclick-prod-predictions',
  ADCLICK_MODELS_TABLE: 'adclick-prod-models',
  ADCLICK_EXPERIMENTS_TABLE: 'adclick-prod-experiments',
  ADCLICK_ADS_TABLE: 'adclick-prod-ads',
  ADCLICK_FEATURES_TABLE: 'adclick-prod-features',
  ADCLICK_IMPRESSIONS_STREAM: 'adclick-prod-ad-impressions',
  ADCLICK_CLICKS_STREAM: 'adclick-prod-clicks',
  ADCLICK_SUSPICIOUS_EVENTS_STREAM: 'adclick-prod-suspicious-events',
  ADCLICK_MODEL_ENDPOINT: 'adclick-prod-ctr',
  ADCLICK_MODEL_IMAGE_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0',
  ADCLICK_MODEL_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/adclick-prod-sagemaker-execution',
  ADCLICK_MODEL_BUCKET: 'adclick-prod-models-123456789012',
  ADCLICK_PREDICTION_LOG_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/adclick-prod-prediction-log-dlq',
  ADCLICK_ATHENA_WORKGROUP: 'adclick-prod',
  ADCLICK_ATHENA_DATABASE: 'adclick_lake',
  ADCLICK_REDIS_URL: 'rediss://:s3cr3t-auth-token@master.adclick.abc123.euw1.cache.amazonaws.com:6379',
  ADCLICK_PSEUDONYMISATION_SECRET_ARN:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:adclick/pseudonymisation-key-AbCdEf',
  // The runtime sets many more; they are ignored.
  AWS_LAMBDA_FUNCTION_NAME: 'adclick-api',
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseApiConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parseApiConfig accepted the environment');
}

describe('API function configuration', () => {
  it('maps the environment to the typed config of the adapters', () => {
    const config = parseApiConfig(ENV);

    expect(config.tables).toEqual({
      predictions: 'adclick-prod-predictions',
      models: 'adclick-prod-models',
      experiments: 'adclick-prod-experiments',
      ads: 'adclick-prod-ads',
      features: 'adclick-prod-features',
    });
    expect(config.streams).toEqual({
      ad_impressions: 'adclick-prod-ad-impressions',
      clicks: 'adclick-prod-clicks',
      suspicious_events: 'adclick-prod-suspicious-events',
    });
    expect(config.athena).toEqual({ workgroup: 'adclick-prod', database: 'adclick_lake' });
  });

  it('fails naming a variable that is not set', () => {
    const { ADCLICK_MODELS_TABLE: _, ...env } = ENV;

    const err = errorOf(env);

    expect(err.message).toContain('ADCLICK_MODELS_TABLE is not set');
    expect(err.problems).toHaveLength(1);
  });

  it('names every faulty variable at once', () => {
    const err = errorOf({ ...ENV, ADCLICK_CLICKS_STREAM: '  ', ADCLICK_ATHENA_WORKGROUP: undefined });

    expect(err.problems).toEqual(
      expect.arrayContaining([expect.stringContaining('ADCLICK_CLICKS_STREAM'), 'ADCLICK_ATHENA_WORKGROUP is not set']),
    );
  });

  it('refuses a Redis URL of another scheme without echoing its value', () => {
    const err = errorOf({ ...ENV, ADCLICK_REDIS_URL: 'http://:s3cr3t-auth-token@cache.internal:6379' });

    expect(err.message).toContain('ADCLICK_REDIS_URL must be a redis:// or rediss:// URL');
    expect(err.message).not.toContain('s3cr3t');
  });

  it('refuses a secret name where the ARN of the secret is expected', () => {
    const err = errorOf({ ...ENV, ADCLICK_PSEUDONYMISATION_SECRET_ARN: 'adclick/pseudonymisation-key' });

    expect(err.problems).toEqual(['ADCLICK_PSEUDONYMISATION_SECRET_ARN must be a Secrets Manager secret ARN']);
  });
});

describe('the holdout location', () => {
  it('defaults to holdout/holdout.jsonl in the model bucket', () => {
    expect(parseApiConfig(ENV).holdout).toEqual({ bucket: ENV.ADCLICK_MODEL_BUCKET, key: 'holdout/holdout.jsonl' });
  });

  it('reads ADCLICK_HOLDOUT_URI when set, and refuses one that is not an s3:// URI', () => {
    const set = parseApiConfig({ ...ENV, ADCLICK_HOLDOUT_URI: 's3://adclick-lake/holdout/2026-12-04.jsonl' });
    const err = errorOf({ ...ENV, ADCLICK_HOLDOUT_URI: 'https://example.com/holdout.jsonl' });

    expect(set.holdout).toEqual({ bucket: 'adclick-lake', key: 'holdout/2026-12-04.jsonl' });
    expect(err.problems).toEqual(['ADCLICK_HOLDOUT_URI must be an s3://bucket/key URI']);
  });
});

describe('the prediction log dead-letter queue', () => {
  it('refuses a queue name where the queue URL is expected', () => {
    const err = errorOf({ ...ENV, ADCLICK_PREDICTION_LOG_DLQ_URL: 'adclick-prod-prediction-log-dlq' });

    expect(err.problems).toEqual(['ADCLICK_PREDICTION_LOG_DLQ_URL must be an SQS queue URL']);
  });
});

describe('the model deployment', () => {
  it('copies the serving variant capacity unless an instance type is set', () => {
    const copied = parseApiConfig(ENV).modelDeployment;
    const set = parseApiConfig({
      ...ENV,
      ADCLICK_MODEL_INSTANCE_TYPE: 'ml.c6g.large',
      ADCLICK_MODEL_INSTANCE_COUNT: '2',
    }).modelDeployment;

    expect(copied).toEqual({
      imageUri: ENV.ADCLICK_MODEL_IMAGE_URI,
      executionRoleArn: ENV.ADCLICK_MODEL_EXECUTION_ROLE_ARN,
      instanceCount: 1,
    });
    expect(set).toMatchObject({ instanceType: 'ml.c6g.large', instanceCount: 2 });
  });

  it('refuses an image without a tag, a role name and an instance type without the ml. prefix', () => {
    const err = errorOf({
      ...ENV,
      ADCLICK_MODEL_IMAGE_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve',
      ADCLICK_MODEL_EXECUTION_ROLE_ARN: 'adclick-prod-sagemaker-execution',
      ADCLICK_MODEL_INSTANCE_TYPE: 'c6g.large',
    });

    expect(err.problems).toEqual([
      'ADCLICK_MODEL_IMAGE_URI must be a container image URI with a tag or digest',
      'ADCLICK_MODEL_EXECUTION_ROLE_ARN must be an IAM role ARN',
      'ADCLICK_MODEL_INSTANCE_TYPE must be a SageMaker instance type (ml.…)',
    ]);
  });

  it('autoscales the variants it adds only when the three scaling variables are set', () => {
    // Prepare
    const scaling = {
      ADCLICK_MODEL_MIN_INSTANCES: '2',
      ADCLICK_MODEL_MAX_INSTANCES: '20',
      ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE: '60000',
    };

    // Act
    const unset = parseApiConfig(ENV).modelDeployment;
    const set = parseApiConfig({ ...ENV, ...scaling }).modelDeployment;

    // Assess
    expect(unset.scaling).toBeUndefined();
    expect(set.scaling).toEqual({ minInstances: 2, maxInstances: 20, invocationsPerInstancePerMinute: 60_000 });
  });

  it('refuses a scaling policy set in part, or with more minimum than maximum instances', () => {
    // Act
    const partial = errorOf({ ...ENV, ADCLICK_MODEL_MAX_INSTANCES: '4' });
    const inverted = errorOf({
      ...ENV,
      ADCLICK_MODEL_MIN_INSTANCES: '5',
      ADCLICK_MODEL_MAX_INSTANCES: '4',
      ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE: '1000',
    });

    // Assess
    expect(partial.problems).toEqual([
      'ADCLICK_MODEL_MIN_INSTANCES is not set (autoscaling needs all three or none)',
      'ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE is not set (autoscaling needs all three or none)',
    ]);
    expect(inverted.problems).toEqual(['ADCLICK_MODEL_MIN_INSTANCES must not exceed ADCLICK_MODEL_MAX_INSTANCES']);
  });
});

describe('exploration in AWS', () => {
  it('is off with the local defaults when nothing is set', () => {
    expect(parseApiConfig(ENV).exploration).toEqual({ budget: 0, kappa: 1, minEvidence: 100 });
  });

  it('reads the budget, κ and the evidence threshold, and refuses a budget over 1', () => {
    const set = parseApiConfig({
      ...ENV,
      ADCLICK_EXPLORATION_BUDGET: '0.05',
      ADCLICK_EXPLORATION_KAPPA: '0.5',
      ADCLICK_EXPLORATION_MIN_EVIDENCE: '50',
    });
    const err = errorOf({ ...ENV, ADCLICK_EXPLORATION_BUDGET: '5' });

    expect(set.exploration).toEqual({ budget: 0.05, kappa: 0.5, minEvidence: 50 });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^ADCLICK_EXPLORATION_BUDGET /);
  });
});

describe('predict function configuration', () => {
  const PREDICT_ONLY = [
    'AWS_REGION',
    'ADCLICK_PREDICTIONS_TABLE',
    'ADCLICK_MODELS_TABLE',
    'ADCLICK_EXPERIMENTS_TABLE',
    'ADCLICK_ADS_TABLE',
    'ADCLICK_FEATURES_TABLE',
    'ADCLICK_MODEL_ENDPOINT',
    'ADCLICK_REDIS_URL',
    'ADCLICK_PREDICTION_LOG_DLQ_URL',
    'ADCLICK_PSEUDONYMISATION_SECRET_ARN',
  ] as const;
  const predictEnv = Object.fromEntries(PREDICT_ONLY.map((k) => [k, ENV[k]]));

  it('needs no stream, bucket, Athena or deployment variable', () => {
    // Act
    const config = parsePredictConfig(predictEnv);

    // Assess
    expect(config.modelEndpoint).toBe('adclick-prod-ctr');
    expect(config.tables.predictions).toBe('adclick-prod-predictions');
    expect(config.exploration.budget).toBe(0);
  });

  it('reads the same values as the API function from the same environment', () => {
    // Act
    const api = parseApiConfig(ENV);
    const predict = parsePredictConfig(ENV);

    // Assess
    expect(predict).toEqual({
      region: api.region,
      tables: api.tables,
      predictionLogDeadLetterQueueUrl: api.predictionLogDeadLetterQueueUrl,
      modelEndpoint: api.modelEndpoint,
      exploration: api.exploration,
      redisUrl: api.redisUrl,
      pseudonymisationSecretArn: api.pseudonymisationSecretArn,
    });
  });

  it('names a missing predict variable without echoing the others', () => {
    // Prepare
    const { ADCLICK_MODEL_ENDPOINT: _, ...env } = predictEnv;

    // Act
    const act = () => parsePredictConfig(env);

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/ADCLICK_MODEL_ENDPOINT is not set/);
    expect(act).not.toThrow(/s3cr3t/);
  });
});
