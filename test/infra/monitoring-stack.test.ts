/**
 * MonitoringStack against the upstream fakes: every alarm DESIGN.md's platform engineer needs is
 * there with the stage's threshold, notifies an encrypted topic, and cdk-nag has nothing to say.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { STAGES, type StageName } from '../../lib/config.js';
import { MonitoringStack } from '../../lib/stacks/monitoring-stack.js';
import { nagFindings, synthStage } from './support/synth.js';
import { fakeData, fakeMl, fakeServing, fakeState, upstreamStack } from './support/upstream.js';

function monitoringAlone(stage: StageName = 'dev') {
  const { app, stack } = upstreamStack();
  const config = STAGES[stage];
  const data = {
    ...fakeData(stack, config.prefix),
    eventDeliveryStreamNames: {
      ad_impressions: `${config.prefix}-ad-impressions`,
      clicks: `${config.prefix}-clicks`,
      suspicious_events: `${config.prefix}-suspicious-events`,
    },
  };
  const monitoring = new MonitoringStack(app, `${config.prefix}-monitoring`, {
    config,
    data,
    state: fakeState(stack, config.prefix),
    ml: fakeMl(stack, config.prefix),
    serving: fakeServing(stack, config.prefix),
    env: stack.environment.includes('unknown') ? undefined : { account: stack.account, region: stack.region },
  });
  return { app, config, template: Template.fromStack(monitoring) };
}

type Alarm = { Properties: Record<string, unknown> };

function alarmsWhere(template: Template, predicate: (json: string) => boolean): Alarm[] {
  return Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Alarm>).filter((a) =>
    predicate(JSON.stringify(a.Properties)),
  );
}

describe('MonitoringStack', () => {
  it('notifies a KMS-encrypted topic that only accepts TLS, from every alarm', () => {
    // Act
    const { template } = monitoringAlone();

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    // The SLO's window alarms notify nobody: their composite alarms do (below).
    const windowAlarm = /"AlarmName":"[^"]*-Predict-SLO-burn-\d+[mh]"/;
    const alarms = alarmsWhere(template, (json) => !windowAlarm.test(json));
    const composites = Object.values(
      template.findResources('AWS::CloudWatch::CompositeAlarm') as Record<string, Alarm>,
    );
    expect(alarms.length).toBeGreaterThan(30);
    for (const alarm of [...alarms, ...composites]) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
    }
  });

  it('alarms on the p99 latency of each predict route at the stage threshold', () => {
    // Act
    const { template, config } = monitoringAlone();

    // Assess
    for (const resource of ['/predict', '/predict/batch']) {
      const found = alarmsWhere(
        template,
        (json) =>
          json.includes('"Namespace":"AWS/ApiGateway"') &&
          json.includes('"MetricName":"Latency"') &&
          json.includes('"Stat":"p99"') &&
          json.includes(`{"Name":"Resource","Value":"${resource}"}`) &&
          json.includes('{"Name":"Method","Value":"POST"}') &&
          json.includes('{"Name":"Stage","Value":"v1"}'),
      );
      expect(found, resource).toHaveLength(1);
      expect(found[0]!.Properties.Threshold).toBe(config.alarms.predictP99Ms);
      expect(JSON.stringify(found[0]!.Properties)).toContain('"Period":60');
    }
  });

  it('alarms on the 5xx share of every ad-server route', () => {
    // Act
    const { template, config } = monitoringAlone();

    // Assess
    for (const resource of ['/predict', '/predict/batch', '/event/impression', '/event/click', '/event/batch']) {
      const found = alarmsWhere(
        template,
        (json) => json.includes('"5XXError"') && json.includes(`"Value":"${resource}"`) && json.includes('"Average"'),
      );
      expect(found, resource).toHaveLength(1);
      expect(found[0]!.Properties.Threshold).toBe(config.alarms.serverErrorRate);
    }
  });

  it('pages on a fast burn and opens a ticket on a slow burn of the predict availability budget', () => {
    // Prepare
    const { template } = monitoringAlone('prod');
    const composites = template.findResources('AWS::CloudWatch::CompositeAlarm') as Record<string, Alarm>;
    const byName = (name: string) => alarmsWhere(template, (json) => json.includes(`"AlarmName":"${name}"`));

    // Assess: the workbook's pairs, 14.4× over 1 h and 5 min, 6× over 6 h and 30 min, of a 0.01 % budget
    const names = Object.values(composites).map((c) => c.Properties.AlarmName);
    expect(names.sort()).toEqual(['adclick-prod-Predict-SLO-burn-page', 'adclick-prod-Predict-SLO-burn-ticket']);
    for (const [window, threshold, period] of [
      ['1h', 0.00144, 3600],
      ['5m', 0.00144, 300],
      ['6h', 0.0006, 21600],
      ['30m', 0.0006, 1800],
    ] as const) {
      const [alarm] = byName(`adclick-prod-Predict-SLO-burn-${window}`);
      expect(alarm?.Properties.Threshold).toBeCloseTo(threshold, 10);
      expect(alarm?.Properties.ActionsEnabled).toBe(false);
      const json = JSON.stringify(alarm?.Properties.Metrics);
      expect(json).toContain('{"Name":"Resource","Value":"/predict"}');
      expect(json).toContain('{"Name":"Resource","Value":"/predict/batch"}');
      expect(json).toContain(`"Period":${period}`);
    }
    for (const composite of Object.values(composites)) {
      expect(JSON.stringify(composite.Properties.AlarmRule)).toMatch(/ALARM\(.*\) AND ALARM\(.*\)/);
      expect(composite.Properties.AlarmActions).toHaveLength(1);
    }
  });

  it('alarms on the fallback rate from the predict function EMF metrics in the stage namespace', () => {
    // Act
    const { template, config } = monitoringAlone('prod');

    // Assess
    const [alarm, ...others] = alarmsWhere(template, (json) => json.includes('fallbackPredictions'));
    expect(others).toEqual([]);
    const json = JSON.stringify(alarm!.Properties);
    expect(json).toContain(`"Namespace":"${config.metricsNamespace}"`);
    expect(json).toContain('{"Name":"service","Value":"adclick-predict"}');
    expect(json).toContain('{"Name":"operation","Value":"predictBatch"}');
    // prod batches 10 ads a request: the denominator weighs batch requests by it
    expect(json).toContain(`${config.targets.adsPerPredictRequest} * FILL(requestsBatch, 0)`);
    expect(alarm!.Properties.Threshold).toBe(config.alarms.fallbackRate);
    expect(alarm!.Properties.TreatMissingData).toBe('notBreaching');
  });

  it('alarms on SageMaker model latency and 5xx over every variant of the endpoint', () => {
    // Act
    const { template, config } = monitoringAlone();

    // Assess
    const latency = alarmsWhere(template, (json) => json.includes('AVG(ModelLatency)'));
    expect(latency).toHaveLength(1);
    expect(JSON.stringify(latency[0]!.Properties)).toContain(`EndpointName = '${config.prefix}-ctr'`);
    expect(latency[0]!.Properties.Threshold).toBe(config.alarms.modelLatencyMs * 1000);
    expect(alarmsWhere(template, (json) => json.includes('SUM(Invocation5XXErrors)'))).toHaveLength(1);
  });

  it('alarms on throttles of every function, and on iterator age of the stream consumers only', () => {
    // Act
    const { template, config } = monitoringAlone();

    // Assess
    const throttles = alarmsWhere(template, (json) => json.includes('"MetricName":"Throttles"'));
    expect(throttles).toHaveLength(7);
    const iteratorAge = alarmsWhere(template, (json) => json.includes('"MetricName":"IteratorAge"'));
    const functions = iteratorAge.map(
      (a) => JSON.stringify(a.Properties).match(/"FunctionName","Value":"adclick-dev-([a-z-]+)"/)?.[1],
    );
    expect(functions.sort()).toEqual(['feature-counters', 'fraud-consumer', 'prediction-log-stream']);
    for (const a of iteratorAge) expect(a.Properties.Threshold).toBe(config.alarms.iteratorAgeMs);
    expect(alarmsWhere(template, (json) => /FILL\(errors_\w+, 0\) \/ invocations_/.test(json))).toHaveLength(7);
  });

  it('alarms on DynamoDB throttles per table, DLQ depth and Firehose freshness', () => {
    // Act
    const { template, config } = monitoringAlone();

    // Assess
    const tables = alarmsWhere(
      template,
      (json) => json.includes('ThrottledRequests') || json.includes('ThrottleEvents'),
    );
    expect(tables.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(tables.map((t) => t.Properties))).toContain(`${config.prefix}-predictions`);
    const dlq = alarmsWhere(
      template,
      (json) =>
        json.includes('ApproximateNumberOfMessagesVisible') &&
        json.includes(`{"Name":"QueueName","Value":"${config.prefix}-prediction-log-dlq"}`),
    );
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.Properties.Threshold).toBe(0);
    const freshness = alarmsWhere(template, (json) => json.includes('DeliveryToS3.DataFreshness'));
    expect(
      freshness.map((a) => JSON.stringify(a.Properties).match(/"DeliveryStreamName","Value":"([a-z-]+)"/)?.[1]).sort(),
    ).toEqual(
      ['ad-impressions', 'clicks', 'model-predictions', 'suspicious-events'].map((s) => `${config.prefix}-${s}`),
    );
    for (const a of freshness) expect(a.Properties.Threshold).toBe(config.alarms.firehoseFreshnessSeconds);
  });

  it.each(['dev', 'prod'] as const)('has no unacknowledged cdk-nag finding on its own (%s)', (stage) => {
    // Prepare
    const { app, config } = monitoringAlone(stage);

    // Act
    const findings = nagFindings({ app } as Parameters<typeof nagFindings>[0]).filter((f) =>
      f.resource.startsWith(`${config.prefix}-monitoring/`),
    );

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}: ${f.description}`)).toEqual([]);
  });

  it('alarms on any message in the queues nothing consumes: the prediction log poison queue and invoke failures', () => {
    // Act
    const { template } = monitoringAlone();

    // Assess
    for (const queue of ['adclick-dev-prediction-log-dlq-poison', 'adclick-dev-invoke-failures']) {
      const [alarm] = alarmsWhere(
        template,
        (json) => json.includes(`"Value":"${queue}"`) && json.includes('ApproximateNumberOfMessagesVisible'),
      );
      expect(alarm?.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  it('draws one dashboard named for the stage', () => {
    // Act
    const { template, config } = monitoringAlone();

    // Assess
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: Match.stringLikeRegexp(config.prefix),
    });
  });
});

describe.each(['dev', 'prod'] as const)('the %s monitoring stack in the whole app', (stage) => {
  it('has no unacknowledged cdk-nag finding', () => {
    // Act
    const findings = nagFindings(synthStage(stage)).filter((f) =>
      f.resource.startsWith(`adclick-${stage}-monitoring/`),
    );

    // Assess
    expect(findings.map((f) => `${f.rule} at ${f.resource}: ${f.description}`)).toEqual([]);
  });
});
