import type { EventLog, Logger } from '../../core/ports.js';
import type { Sqlite } from './sqlite/database.js';
import type { SqlitePredictionLog } from './sqlite/prediction-log.js';

const CURSOR = 'model_predictions_export';
/** Rows per step; the exporter yields to requests between steps so it never blocks them for long. */
const BATCH = 500;

/**
 * Feeds the prediction log into the lake's model_predictions table, as the DynamoDB stream does
 * in AWS: the predict path writes once (SQLite), and this tails it by sequence number. The cursor
 * advances only after the event log holds the rows durably, so a crash replays (at least once;
 * the lake de-duplicates by prediction_id) and never skips.
 */
export class PredictionExporter {
  private readonly getCursor;
  private readonly setCursor;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    db: Sqlite,
    private readonly log: SqlitePredictionLog,
    private readonly events: EventLog,
    private readonly logger: Logger,
  ) {
    this.getCursor = db.prepare<[string], { position: number }>('SELECT position FROM cursors WHERE name = ?');
    this.setCursor = db.prepare<[string, number]>(
      'INSERT INTO cursors (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
    );
  }

  /** Exports everything logged so far; returns how many records it moved. */
  async drain(): Promise<number> {
    let moved = 0;
    for (;;) {
      const from = this.getCursor.get(CURSOR)?.position ?? 0;
      const batch = this.log.lakeRowsAfter(from, BATCH);
      if (batch.length === 0) return moved;
      await this.events.append(batch.map((b) => b.row));
      this.setCursor.run(CURSOR, batch[batch.length - 1]!.seq);
      moved += batch.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.drain()
        .then(() => undefined)
        .catch((err) => this.logger.error('prediction export failed', { error: String(err) }))
        .finally(() => {
          this.running = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.drain();
  }
}
