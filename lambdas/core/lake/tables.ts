/**
 * The lake's tables, defined once. The local Parquet writer, the Glue tables (CDK) and the
 * docs are all generated from these definitions, so a column exists everywhere or nowhere.
 * Schemas evolve by adding nullable columns only; a breaking change is a new table version.
 */

export type LakeColumnType = 'string' | 'int64' | 'double' | 'boolean' | 'timestamp';

export interface LakeColumn {
  readonly name: string;
  readonly type: LakeColumnType;
  readonly nullable: boolean;
  readonly description: string;
}

export interface LakeTable {
  readonly name: LakeTableName;
  readonly description: string;
  /** Column whose value (UTC) decides the `dt=`/`hour=` partition. */
  readonly eventTimeColumn: string;
  /** Column that identifies a row; delivery is at least once, readers de-duplicate on it. */
  readonly idColumn: string;
  readonly retentionDays: number;
  readonly columns: readonly LakeColumn[];
}

export const LAKE_TABLE_NAMES = [
  'ad_impressions',
  'clicks',
  'model_predictions',
  'suspicious_events',
  'training_examples',
] as const;
export type LakeTableName = (typeof LAKE_TABLE_NAMES)[number];

const col = (name: string, type: LakeColumnType, nullable: boolean, description: string): LakeColumn => ({
  name,
  type,
  nullable,
  description,
});

const RAW_RETENTION_DAYS = 400;

export const LAKE_TABLES: Readonly<Record<LakeTableName, LakeTable>> = {
  ad_impressions: {
    name: 'ad_impressions',
    description: 'An ad shown to a user, as reported by the ad server.',
    eventTimeColumn: 'timestamp',
    idColumn: 'impression_id',
    retentionDays: RAW_RETENTION_DAYS,
    columns: [
      col('impression_id', 'string', false, 'Caller-supplied id; replays carry the same id.'),
      col('prediction_id', 'string', true, 'The prediction this impression followed, if any.'),
      col('user_id', 'string', false, 'Pseudonymised user id (keyed HMAC), never the raw id.'),
      col('ad_id', 'string', false, 'Ad shown.'),
      col('timestamp', 'timestamp', false, 'Event time (UTC).'),
      col('device_type', 'string', true, 'Device type reported by the ad server.'),
      col('location', 'string', true, 'Coarse location reported by the ad server.'),
      col('ip', 'string', true, 'Pseudonymised IP address (keyed HMAC), never the raw address.'),
      col('features', 'string', true, 'Further request-time context as a JSON object.'),
      col('received_at', 'timestamp', false, 'When the system acknowledged the event (UTC).'),
    ],
  },
  clicks: {
    name: 'clicks',
    description: 'A click (or an explicit non-click) on an impression.',
    eventTimeColumn: 'timestamp',
    idColumn: 'click_id',
    retentionDays: RAW_RETENTION_DAYS,
    columns: [
      col('click_id', 'string', false, 'Caller-supplied id; replays carry the same id.'),
      col('impression_id', 'string', false, 'The impression clicked.'),
      col('user_id', 'string', true, 'Pseudonymised user id (keyed HMAC), never the raw id.'),
      col('ip', 'string', true, 'Pseudonymised IP address (keyed HMAC), never the raw address.'),
      col('clicked', 'boolean', false, 'True for a click; false records an explicit non-click.'),
      col('timestamp', 'timestamp', false, 'Event time (UTC).'),
      col('received_at', 'timestamp', false, 'When the system acknowledged the event (UTC).'),
    ],
  },
  model_predictions: {
    name: 'model_predictions',
    description: 'Every prediction served, with the feature snapshot the model saw.',
    eventTimeColumn: 'timestamp',
    idColumn: 'prediction_id',
    retentionDays: RAW_RETENTION_DAYS,
    columns: [
      col('prediction_id', 'string', false, 'Id returned to the caller.'),
      col('request_id', 'string', true, "Caller's idempotency key."),
      col('user_id', 'string', true, 'Pseudonymised user id; null when consent was false.'),
      col('ad_id', 'string', false, 'Ad scored.'),
      col('probability', 'double', false, 'Predicted click probability served.'),
      col('model_version', 'string', false, 'Version of the model that scored.'),
      col('model_id', 'string', false, 'Registry id of the model that scored.'),
      col('variant', 'string', false, "'champion' or the experiment variant the user is assigned to."),
      col('experiment_id', 'string', true, 'Experiment that assigned the variant, if any.'),
      col('fallback', 'boolean', false, 'True when a fallback model served the prediction.'),
      col('consent', 'boolean', false, 'False when the caller withheld consent for personal data.'),
      col('features', 'string', false, 'The feature snapshot the model scored, as a JSON object.'),
      col('timestamp', 'timestamp', false, 'Prediction time (UTC).'),
      col(
        'exploration_bonus',
        'double',
        true,
        'Logit bonus of an explored prediction of a new ad (ranking score = σ(logit + bonus)); null when not explored.',
      ),
      col(
        'model_latency_ms',
        'double',
        true,
        'Milliseconds the model call that scored the prediction took (a batch: its one call); null for a cached score or an older row.',
      ),
    ],
  },
  suspicious_events: {
    name: 'suspicious_events',
    description: 'Events flagged by click-fraud rules; excluded from training labels and experiments.',
    eventTimeColumn: 'timestamp',
    idColumn: 'event_id',
    retentionDays: RAW_RETENTION_DAYS,
    columns: [
      col('event_id', 'string', false, 'Impression or click id flagged.'),
      col('event_type', 'string', false, "'impression' or 'click'."),
      col('rule', 'string', false, 'Rule that flagged the event.'),
      col('score', 'double', false, 'Anomaly score (higher is more suspicious).'),
      col('user_id', 'string', true, 'Pseudonymised user id.'),
      col('ip', 'string', true, 'Pseudonymised IP address.'),
      col('site_id', 'string', true, 'Site the event came from, if known.'),
      col('detail', 'string', true, 'Rule-specific detail as a JSON object.'),
      col('timestamp', 'timestamp', false, 'Event time (UTC) of the flagged event.'),
    ],
  },
  training_examples: {
    name: 'training_examples',
    description: 'Logged feature snapshots joined with their outcome inside the attribution window.',
    eventTimeColumn: 'timestamp',
    idColumn: 'prediction_id',
    retentionDays: 90,
    columns: [
      col('prediction_id', 'string', false, 'Prediction the example comes from.'),
      col('impression_id', 'string', false, 'Impression that followed the prediction.'),
      col('ad_id', 'string', false, 'Ad shown.'),
      col('label', 'int64', false, '1 when clicked inside the attribution window, else 0.'),
      col('features', 'string', false, 'Feature snapshot logged at prediction time, as a JSON object.'),
      col('model_version', 'string', false, 'Model that served the prediction.'),
      col('sample_weight', 'double', false, 'Inverse of the negative down-sampling rate for negatives, else 1.'),
      col('timestamp', 'timestamp', false, 'Prediction time (UTC).'),
    ],
  },
};

/** The Hive partition (`dt=YYYY-MM-DD/hour=HH`) an event time falls in, in UTC. */
export function partitionOf(eventTime: Date): { dt: string; hour: string } {
  const iso = eventTime.toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
