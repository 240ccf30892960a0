import { DependencyUnavailableError } from '../../../core/errors.js';
import type { FeatureMap, PredictionLog, PredictionRecord } from '../../../core/ports.js';
import type { Explanation } from '../../../core/schemas/predict.js';
import type { Sqlite } from './database.js';

/** A row of the predictions table as SQLite returns it. */
export interface PredictionRow {
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
  exploration_bonus: number | null;
  model_latency_ms: number | null;
}

function fromRow(r: PredictionRow): PredictionRecord {
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
    exploration_bonus: r.exploration_bonus,
    model_latency_ms: r.model_latency_ms,
    timestamp: new Date(r.ts),
  };
}

/**
 * How long the first write of a group waits for company. A commit costs ~16 system calls (WAL
 * frames, shm locks) whatever it holds, so a millisecond's wait cuts them several-fold under load.
 */
const GROUP_COMMIT_WINDOW_MS = 1;

/**
 * How long a group may keep finding the write lock taken before its callers are told the log is
 * unavailable (a 503): the same bound the shared connection's busy_timeout sets. The checkpoint
 * thread's restarts hold the lock for tens of milliseconds; only another process holding it for
 * seconds reaches this.
 */
const DEFAULT_BUSY_DEADLINE_MS = 5_000;

interface PendingWrite {
  readonly records: readonly PredictionRecord[];
  readonly resolve: (result: { duplicates: number[] }) => void;
  readonly reject: (err: unknown) => void;
}

export interface SqlitePredictionLogOptions {
  /**
   * The connection that inserts the predictions (openPredictionWriter: it never waits for a lock).
   * When the write lock is taken, the pending group stays pending and is tried again a window
   * later, so the event loop never waits in SQLite's busy handler.
   * @default the shared connection, whose busy_timeout blocks
   */
  readonly writer?: Sqlite;
  /** @default 5 000 ms (DEFAULT_BUSY_DEADLINE_MS) */
  readonly busyDeadlineMs?: number;
}

function isBusy(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_BUSY';
}

/**
 * The prediction log in SQLite: written once per prediction_id (INSERT OR IGNORE), never updated.
 *
 * Writes are group-committed: every putAll that arrives within GROUP_COMMIT_WINDOW_MS of the
 * first joins one transaction, and each caller resolves once its rows are committed. A commit
 * costs far more than a row (WAL frames, locks), so under load this turns one commit per
 * prediction into one per dozens, for about a millisecond of added latency.
 *
 * Reads, retention and erasure use the shared connection; inserts use `options.writer` when given.
 */
export class SqlitePredictionLog implements PredictionLog {
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** When the pending group first found the write lock taken (NaN: it has not). */
  private busySince = Number.NaN;
  private readonly busyDeadlineMs: number;
  private readonly insert;
  private readonly writeGroup;
  private readonly byId;
  private readonly expiredBound;
  private readonly deleteBefore;

  constructor(
    private readonly db: Sqlite,
    options: SqlitePredictionLogOptions = {},
  ) {
    const writer = options.writer ?? db;
    this.busyDeadlineMs = options.busyDeadlineMs ?? DEFAULT_BUSY_DEADLINE_MS;
    // Positional parameters: binding sixteen named ones costs a property lookup each, per row.
    this.insert = writer.prepare(
      `INSERT OR IGNORE INTO predictions (prediction_id, request_id, user_id, ad_id, probability, model_id, model_version,
         variant, experiment_id, fallback, consent, features, explanation, ts, exploration_bonus, model_latency_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byId = db.prepare<[string], PredictionRow>('SELECT * FROM predictions WHERE prediction_id = ?');
    // No index on ts: it would cost every insert a third B-tree write. Rows are written in time
    // order, so the expired ones are a prefix of seq: each step reads the first `limit` rows by
    // seq and deletes those before the first one still young, and never one not yet exported.
    // The bound is found first and the delete given it as a number: with the subqueries inside
    // it, SQLite re-read them while deleting (30 ms for 500 rows of a 100 000-row log, against 2).
    this.expiredBound = db.prepare<[{ limit: number; cutoff: number }], { bound: number | null }>(
      `SELECT coalesce(
         (SELECT seq FROM (SELECT seq, ts FROM predictions ORDER BY seq LIMIT @limit) WHERE ts >= @cutoff ORDER BY seq LIMIT 1),
         (SELECT max(seq) + 1 FROM (SELECT seq FROM predictions ORDER BY seq LIMIT @limit))) AS bound`,
    );
    this.deleteBefore = db.prepare<[number]>('DELETE FROM predictions WHERE seq < ?');
    this.writeGroup = writer.transaction((batch: readonly PendingWrite[]) =>
      batch.map((w) => w.records.flatMap((r, i) => (this.writeOne(r) ? [] : [i]))),
    );
  }

  putAll(records: readonly PredictionRecord[]): Promise<{ duplicates: number[] }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => this.flush(), GROUP_COMMIT_WINDOW_MS);
  }

  private writeOne(r: PredictionRecord): boolean {
    const { changes } = this.insert.run(
      r.prediction_id,
      r.request_id,
      r.user_id,
      r.ad_id,
      r.probability,
      r.model_id,
      r.model_version,
      r.variant,
      r.experiment_id,
      r.fallback ? 1 : 0,
      r.consent ? 1 : 0,
      JSON.stringify(r.features),
      r.explanation === null ? null : JSON.stringify(r.explanation),
      r.timestamp.getTime(),
      r.exploration_bonus,
      r.model_latency_ms,
    );
    return changes > 0;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    let results: number[][];
    try {
      // IMMEDIATE: the write lock is taken at BEGIN, so a busy lock fails before any row is written.
      results = this.writeGroup.immediate(batch);
    } catch (err) {
      const busy = isBusy(err);
      if (busy) {
        this.busySince = Number.isNaN(this.busySince) ? Date.now() : this.busySince;
        if (Date.now() - this.busySince < this.busyDeadlineMs) {
          // The group stays pending (and grows): the write lock is held for a checkpoint's restart.
          this.scheduleFlush();
          return;
        }
      }
      // The transaction rolled back as a whole: nobody's rows were written, everybody hears why.
      const reason = busy
        ? new DependencyUnavailableError(
            `The prediction log could not be written: SQLite's write lock stayed taken for ${this.busyDeadlineMs} ms (another process writing to the database?). Retry later.`,
          )
        : err;
      this.settled();
      for (const w of batch) w.reject(reason);
      return;
    }
    this.settled();
    batch.forEach((w, k) => {
      w.resolve({ duplicates: results[k]! });
    });
  }

  /** The pending group was written or refused: the next putAll starts a new one. */
  private settled(): void {
    this.pending = [];
    this.busySince = Number.NaN;
  }

  async getMany(predictionIds: readonly string[]): Promise<(PredictionRecord | undefined)[]> {
    return predictionIds.map((id) => {
      const row = this.byId.get(id);
      return row ? fromRow(row) : undefined;
    });
  }

  /**
   * Deletes every prediction of a user (DELETE /users/{user_id}): a full scan, as erasures are
   * rare and an index on user_id would cost every insert. Returns the rows deleted and their
   * time range. The caller scrubs the files afterwards (scrubDeleted).
   */
  eraseUser(userKey: string): { rows: number; span: { from: Date; to: Date } | null } {
    return this.db.transaction(() => {
      const range = this.db
        .prepare<[string], { n: number; first: number | null; last: number | null }>(
          'SELECT count(*) AS n, min(ts) AS first, max(ts) AS last FROM predictions WHERE user_id = ?',
        )
        .get(userKey);
      const { changes } = this.db.prepare<[string]>('DELETE FROM predictions WHERE user_id = ?').run(userKey);
      const span =
        range && range.first !== null && range.last !== null
          ? { from: new Date(range.first), to: new Date(range.last) }
          : null;
      return { rows: changes, span };
    })();
  }

  /**
   * Deletes the oldest predictions logged before `cutoff`, at most `maxRows` of them and none past
   * `exportedThrough` (the lake's export cursor: the lake keeps its own copy for 400 days, and a
   * prediction it has not received yet must stay). Returns how many went; fewer than `maxRows`
   * means nothing more can go now. Bounded so that a caller can spread a large expiry over many
   * short steps instead of holding the event loop for the whole of it.
   */
  expireBefore(cutoff: Date, options: { maxRows?: number; exportedThrough?: number } = {}): number {
    const maxRows = options.maxRows ?? Number.MAX_SAFE_INTEGER;
    const exportedThrough = options.exportedThrough ?? Number.MAX_SAFE_INTEGER;
    const { bound } = this.expiredBound.get({ limit: maxRows, cutoff: cutoff.getTime() })!;
    if (bound === null) return 0;
    return this.deleteBefore.run(Math.min(bound, exportedThrough + 1)).changes;
  }
}
