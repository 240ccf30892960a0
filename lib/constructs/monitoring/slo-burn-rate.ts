/**
 * Error-budget burn-rate alarms for the predict path's availability SLO (docs/OPERATIONS.md), as
 * the Google SRE workbook's multiwindow, multi-burn-rate alerts ("Alerting on SLOs", table 5-8):
 * a page when the last hour burned 2 % of a 30-day budget (14.4× the sustainable rate) and the
 * last 5 minutes still do; a ticket when the last 6 hours burned 5 % (6×) and the last 30 minutes
 * still do. The short window makes the alarm reset soon after the burn stops; the long one keeps
 * a few bad requests on a quiet night from paging anyone.
 */
import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

export interface BurnRateWindow {
  /** The long window the burn is measured over. */
  readonly long: Duration;
  /** The short window that must still be burning (a twelfth of the long one). */
  readonly short: Duration;
  /** Multiples of the sustainable error rate (1 − objective). */
  readonly burnRate: number;
  /** `page` (fast burn) or `ticket` (slow burn): the composite alarm's name says which. */
  readonly severity: 'page' | 'ticket';
}

/** The workbook's two pairs, for a 30-day SLO window. */
export const DEFAULT_BURN_RATE_WINDOWS: readonly BurnRateWindow[] = [
  { long: Duration.hours(1), short: Duration.minutes(5), burnRate: 14.4, severity: 'page' },
  { long: Duration.hours(6), short: Duration.minutes(30), burnRate: 6, severity: 'ticket' },
];

export interface SloBurnRateAlarmsProps {
  /** API Gateway's `ApiName` and stage of the routes the SLO counts. */
  readonly apiName: string;
  readonly stage: string;
  /** The routes (method, resource) whose requests count: bad = 5XXError, valid = Count. */
  readonly routes: readonly { readonly method: string; readonly resource: string }[];
  /**
   * The availability objective, as a share of valid requests.
   * @default 0.9999
   */
  readonly objective?: number;
  /** Prefix of the alarm names, e.g. `adclick-prod`. */
  readonly alarmNamePrefix: string;
  /** What the composite alarms do (the stage's SNS topic); the window alarms notify nobody. */
  readonly action: cw.IAlarmAction;
  /**
   * @default DEFAULT_BURN_RATE_WINDOWS
   */
  readonly windows?: readonly BurnRateWindow[];
}

export class SloBurnRateAlarms extends Construct {
  /** One composite alarm per window pair, in the order of `windows`. */
  readonly alarms: cw.CompositeAlarm[] = [];

  constructor(scope: Construct, id: string, props: SloBurnRateAlarmsProps) {
    super(scope, id);
    const budget = 1 - (props.objective ?? 0.9999);
    for (const w of props.windows ?? DEFAULT_BURN_RATE_WINDOWS) {
      const threshold = w.burnRate * budget;
      const windowAlarm = (period: Duration) =>
        new cw.Alarm(this, `Burn${period.toMinutes()}m`, {
          alarmName: `${props.alarmNamePrefix}-Predict-SLO-burn-${label(period)}`,
          alarmDescription: `Share of predict requests answered 5xx over ${label(period)} above ${w.burnRate}× the error budget of ${props.objective ?? 0.9999}`,
          metric: errorRatio(props, period),
          threshold,
          comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          // No traffic is no burn.
          treatMissingData: cw.TreatMissingData.NOT_BREACHING,
          actionsEnabled: false,
        });
      const long = windowAlarm(w.long);
      const short = windowAlarm(w.short);
      const composite = new cw.CompositeAlarm(this, `${w.severity === 'page' ? 'Page' : 'Ticket'}`, {
        compositeAlarmName: `${props.alarmNamePrefix}-Predict-SLO-burn-${w.severity}`,
        alarmDescription: `Predict availability SLO: ${w.burnRate}× burn over ${label(w.long)} and still over ${label(w.short)} (${w.severity}; docs/OPERATIONS.md)`,
        alarmRule: cw.AlarmRule.allOf(
          cw.AlarmRule.fromAlarm(long, cw.AlarmState.ALARM),
          cw.AlarmRule.fromAlarm(short, cw.AlarmState.ALARM),
        ),
      });
      composite.addAlarmAction(props.action);
      composite.addOkAction(props.action);
      this.alarms.push(composite);
    }
  }
}

function label(d: Duration): string {
  const minutes = d.toMinutes();
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}

/** Σ 5XXError / Σ Count over the routes, each summed over `period`. */
function errorRatio(props: SloBurnRateAlarmsProps, period: Duration): cw.MathExpression {
  const usingMetrics: Record<string, cw.IMetric> = {};
  const errors: string[] = [];
  const counts: string[] = [];
  props.routes.forEach((route, i) => {
    const dimensionsMap = {
      ApiName: props.apiName,
      Stage: props.stage,
      Method: route.method,
      Resource: route.resource,
    };
    usingMetrics[`e${i}`] = new cw.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: '5XXError',
      dimensionsMap,
      statistic: 'Sum',
      period,
    });
    usingMetrics[`c${i}`] = new cw.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: 'Count',
      dimensionsMap,
      statistic: 'Sum',
      period,
    });
    errors.push(`FILL(e${i}, 0)`);
    counts.push(`FILL(c${i}, 0)`);
  });
  return new cw.MathExpression({
    expression: `(${errors.join(' + ')}) / (${counts.join(' + ')})`,
    usingMetrics,
    period,
    label: `predict 5xx share over ${label(period)}`,
  });
}
