import type { FeatureMap, PredictionLog, PredictionRecord } from '../../../core/ports.js';
import type { Explanation } from '../../../core/schemas/predict.js';
import type { Sqlite } from './database.js';

interface Row {
  seq: number;
  prediction_id: string;
  request_id: string | null;
  user_id: string | null;
  ad_id: string;
  probability: number;
  model_id: string;
  model_version: string;
  variant: string;
  experiment_id: string | null;
  fallback: number;
  consent: number;
  features: string;
  explanation: string | null;
  ts: number;
}

function fromRow(r: Row): PredictionRecord {
  return {
    prediction_id: r.prediction_id,
    request_id: r.request_id,
    user_id: r.user_id,
    ad_id: r.ad_id,
    probability: r.probability,
    model_id: r.model_id,
    model_version: r.model_version,
    variant: r.variant,
    experiment_id: r.experiment_id,
    fallback: r.fallback === 1,
    consent: r.consent === 1,
    features: JSON.parse(r.features) as FeatureMap,
    explanation: r.explanation === null ? null : (JSON.parse(r.explanation) as Explanation),
    timestamp: new Date(r.ts),
  };
}

/** The prediction log in SQLite: written once per prediction_id (INSERT OR IGNORE), never updated. */
export class SqlitePredictionLog implements PredictionLog {
  private readonly insert;
  private readonly byId;
  private readonly after;
  private readonly deleteBefore;

  constructor(private readonly db: Sqlite) {
    this.insert = db.prepare(
      `INSERT OR IGNORE INTO predictions (prediction_id, request_id, user_id, ad_id, probability, model_id, model_version,
         variant, experiment_id, fallback, consent, features, explanation, ts)
       VALUES (@prediction_id, @request_id, @user_id, @ad_id, @probability, @model_id, @model_version,
         @variant, @experiment_id, @fallback, @consent, @features, @explanation, @ts)`,
    );
    this.byId = db.prepare<[string], Row>('SELECT * FROM predictions WHERE prediction_id = ?');
    this.after = db.prepare<[number, number], Row>('SELECT * FROM predictions WHERE seq > ? ORDER BY seq LIMIT ?');
    this.deleteBefore = db.prepare<[number]>('DELETE FROM predictions WHERE ts < ?');
  }

  async putAll(records: readonly PredictionRecord[]): Promise<{ duplicates: number[] }> {
    const duplicates: number[] = [];
    const write = () => {
      records.forEach((r, i) => {
        const { changes } = this.insert.run({
          ...r,
          fallback: r.fallback ? 1 : 0,
          consent: r.consent ? 1 : 0,
          features: JSON.stringify(r.features),
          explanation: r.explanation === null ? null : JSON.stringify(r.explanation),
          ts: r.timestamp.getTime(),
        });
        if (changes === 0) duplicates.push(i);
      });
    };
    if (records.length === 1) write();
    else this.db.transaction(write)();
    return { duplicates };
  }

  async getMany(predictionIds: readonly string[]): Promise<(PredictionRecord | undefined)[]> {
    return predictionIds.map((id) => {
      const row = this.byId.get(id);
      return row ? fromRow(row) : undefined;
    });
  }

  /** Records after a sequence number, in write order: the feed of the model_predictions lake table. */
  readAfter(seq: number, limit: number): { seq: number; record: PredictionRecord }[] {
    return this.after.all(seq, limit).map((r) => ({ seq: r.seq, record: fromRow(r) }));
  }

  /** The operational log keeps 90 days (the lake keeps its own copy for 400). */
  expireBefore(cutoff: Date): number {
    return this.deleteBefore.run(cutoff.getTime()).changes;
  }
}
