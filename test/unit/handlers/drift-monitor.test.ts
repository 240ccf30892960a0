import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { GateReport } from '../../../lambdas/core/schemas/models.js';
import { DriftMonitor } from '../../../lambdas/core/usecases/drift.js';
import { ConfigError } from '../../../lambdas/handlers/config-error.js';
import {
  composeDriftMonitor,
  createDriftMonitorHandler,
  parseDriftMonitorConfig,
} from '../../../lambdas/handlers/drift-monitor.js';
import { makeDeps, modelRecord, T0 } from '../../support/memory-ports.js';
import { lambdaContext } from './api-gateway-events.js';

const HOUR = 3_600_000;
const logger = new PowertoolsLogger({ serviceName: 'adclick-drift-monitor-test', logLevel: 'SILENT' });

/** What EventBridge sends a function on a schedule rule. */
function scheduledEvent(time: string): ScheduledEvent {
  return {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time,
    region: 'eu-west-1',
    resources: ['arn:aws:events:eu-west-1:123456789012:rule/adclick-drift-monitor'],
    detail: {},
  };
}

const gate: GateReport = {
  passed: true,
  reasons: [],
  holdout: 'holdout',
  candidate: { rows: 50_000, positives: 1_000, logloss: 0.1, calibration: 1, auc: 0.75, segments: [] },
  champion: null,
};

/** A champion (m_new, previous m_old) whose online calibration over the window is 1.5. */
function driftingWorld() {
  const { deps, ports } = makeDeps({}, { champion: false });
  ports.models.models.set('m_old', modelRecord({ model_id: 'm_old', version: 'v-old', status: 'retired', gate }));
  ports.models.models.set(
    'm_new',
    modelRecord({
      model_id: 'm_new',
      version: 'v-new',
      status: 'champion',
      alias: 'champion',
      gate,
      previous_champion_id: 'm_old',
    }),
  );
  ports.clock.set(new Date(T0.getTime() + 12 * HOUR));
  const pair = {
    model_version: 'v-new',
    variant: 'champion',
    impressions: 50_000,
    clicks: 1_000,
    sum_probability: 1_500,
    log_loss: 0.1,
    auc: 0.7,
  };
  ports.analytics.modelRows = {
    rows: [{ ...pair, bin: 5, bin_impressions: 50_000, bin_clicks: 1_000, bin_sum_probability: 1_500 }],
    truncated: false,
  };
  return { deps, ports };
}

const ENV = {
  AWS_REGION: 'eu-west-1',
  ADCLICK_MODELS_TABLE: 'adclick-models',
  ADCLICK_EXPERIMENTS_TABLE: 'adclick-experiments',
  ADCLICK_ATHENA_WORKGROUP: 'adclick',
  ADCLICK_ATHENA_DATABASE: 'adclick_lake',
  ADCLICK_MODEL_ENDPOINT: 'adclick-prod-ctr',
  ADCLICK_MODEL_IMAGE_URI: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0',
  ADCLICK_MODEL_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/adclick-sagemaker-execution',
};

describe('the drift monitor handler', () => {
  it('rolls a drifting champion back on a scheduled event and answers with what it did', async () => {
    // Prepare
    const { deps, ports } = driftingWorld();
    const handle = createDriftMonitorHandler({ logger, compose: () => new DriftMonitor(deps) });

    // Act
    const result = await handle(scheduledEvent('2026-12-04T22:00:00Z'), lambdaContext());

    // Assess
    expect(result).toEqual({
      window: { from: '2026-12-04T15:00:00.000Z', to: '2026-12-04T21:00:00.000Z' },
      checked: 1,
      events: [{ kind: 'rolled_back', model_id: 'm_new', rolled_back_to: 'm_old' }],
      failures: 0,
    });
    expect((await ports.models.champion())?.model_id).toBe('m_old');
    expect((await ports.models.get('m_new'))?.drift_events).toHaveLength(1);
  });

  it('composes once per container', async () => {
    // Prepare
    const { deps } = driftingWorld();
    let composed = 0;
    const handle = createDriftMonitorHandler({
      logger,
      compose: () => {
        composed++;
        return new DriftMonitor(deps);
      },
    });

    // Act
    await handle(scheduledEvent('2026-12-04T22:00:00Z'), lambdaContext());
    const second = await handle(scheduledEvent('2026-12-04T22:15:00Z'), lambdaContext());

    // Assess
    expect(composed).toBe(1);
    expect(second.events).toEqual([]);
  });

  it('fails the invoke when composing fails, and composes again at the next invoke', async () => {
    // Prepare
    const { deps } = driftingWorld();
    let attempts = 0;
    const handle = createDriftMonitorHandler({
      logger,
      compose: () => {
        attempts++;
        if (attempts === 1) throw new ConfigError(['ADCLICK_MODELS_TABLE is not set']);
        return new DriftMonitor(deps);
      },
    });

    // Act
    const first = await handle(scheduledEvent('2026-12-04T22:00:00Z'), lambdaContext()).catch((e: unknown) => e);
    const second = await handle(scheduledEvent('2026-12-04T22:15:00Z'), lambdaContext());

    // Assess
    expect(first).toBeInstanceOf(ConfigError);
    expect(second.events).toHaveLength(1);
  });

  it('answers with the check when the endpoint housekeeping after it fails', async () => {
    // Prepare
    const { deps } = driftingWorld();
    const monitor = new DriftMonitor(deps);
    let tidied = 0;
    const handle = createDriftMonitorHandler({
      logger,
      compose: () => ({
        check: () => monitor.check(),
        tidyEndpoint: async () => {
          tidied++;
          throw new Error('AccessDeniedException: not authorized to perform sagemaker:DeleteEndpointConfig');
        },
      }),
    });

    // Act
    const result = await handle(scheduledEvent('2026-12-04T22:00:00Z'), lambdaContext());

    // Assess
    expect(tidied).toBe(1);
    expect(result.events).toHaveLength(1);
  });

  it('fails the invoke when the check itself fails', async () => {
    // Prepare
    const { deps, ports } = driftingWorld();
    ports.analytics.models = async () => {
      throw new Error('Athena query failed');
    };
    const handle = createDriftMonitorHandler({ logger, compose: () => new DriftMonitor(deps) });

    // Act
    const act = handle(scheduledEvent('2026-12-04T22:00:00Z'), lambdaContext());

    // Assess
    await expect(act).rejects.toThrow('Athena query failed');
  });
});

describe('the drift monitor configuration', () => {
  it('takes the tables, the workgroup and the model endpoint, and leaves unset thresholds to the defaults', () => {
    // Act
    const config = parseDriftMonitorConfig(ENV);

    // Assess
    expect(config).toEqual({
      region: 'eu-west-1',
      modelsTable: 'adclick-models',
      experimentsTable: 'adclick-experiments',
      athena: { workgroup: 'adclick', database: 'adclick_lake' },
      modelEndpoint: 'adclick-prod-ctr',
      modelDeployment: {
        imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/adclick-serve:1.4.0',
        executionRoleArn: 'arn:aws:iam::123456789012:role/adclick-sagemaker-execution',
        instanceCount: 1,
      },
      drift: {},
    });
  });

  it('takes the capacity of a variant it adds when one is set', () => {
    // Act
    const config = parseDriftMonitorConfig({
      ...ENV,
      ADCLICK_MODEL_INSTANCE_TYPE: 'ml.m6g.xlarge',
      ADCLICK_MODEL_INSTANCE_COUNT: '2',
    });

    // Assess
    expect(config.modelDeployment).toMatchObject({ instanceType: 'ml.m6g.xlarge', instanceCount: 2 });
  });

  it('autoscales the variants a rollback adds as the API does, when the scaling variables are set', () => {
    // Act
    const config = parseDriftMonitorConfig({
      ...ENV,
      ADCLICK_MODEL_MIN_INSTANCES: '1',
      ADCLICK_MODEL_MAX_INSTANCES: '2',
      ADCLICK_MODEL_INVOCATIONS_PER_INSTANCE: '30000',
    });

    // Assess
    expect(config.modelDeployment.scaling).toEqual({
      minInstances: 1,
      maxInstances: 2,
      invocationsPerInstancePerMinute: 30_000,
    });
  });

  it('reads the thresholds that are set', () => {
    // Act
    const config = parseDriftMonitorConfig({
      ...ENV,
      ADCLICK_DRIFT_WINDOW_HOURS: '3',
      ADCLICK_DRIFT_MIN_IMPRESSIONS: '20000',
      ADCLICK_DRIFT_MIN_CLICKS: '800',
    });

    // Assess
    expect(config.drift).toEqual({ windowMs: 3 * HOUR, minImpressions: 20_000, minClicks: 800 });
  });

  it('names every variable at fault without echoing a value', () => {
    // Act
    const attempt = () =>
      parseDriftMonitorConfig({
        ...ENV,
        ADCLICK_MODELS_TABLE: undefined,
        ADCLICK_MODEL_EXECUTION_ROLE_ARN: 'adclick-role-secret',
        ADCLICK_DRIFT_MIN_CLICKS: '-5',
      });

    // Assess
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /ADCLICK_MODELS_TABLE is not set; ADCLICK_MODEL_EXECUTION_ROLE_ARN .*ADCLICK_DRIFT_MIN_CLICKS /,
    );
    expect(attempt).not.toThrow(/-5|adclick-role-secret/);
  });

  it('composes the check and the endpoint housekeeping from the configuration without calling AWS', () => {
    // Act
    const composed = composeDriftMonitor(parseDriftMonitorConfig(ENV), logger);

    // Assess
    expect(composed.check).toBeTypeOf('function');
    expect(composed.tidyEndpoint).toBeTypeOf('function');
  });
});
