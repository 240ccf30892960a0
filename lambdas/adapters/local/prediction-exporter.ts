import type { Logger } from '../../core/ports.js';
import type { DurableEventLog } from './event-log/durable-event-log.js';
import type { Sqlite } from './sqlite/database.js';

const CURSOR = 'model_predictions_export';
/** Rows per export step: one Parquet file per partition per step. */
const BATCH = 10_000;

/**
 * Feeds the prediction log into the lake's model_predictions table, as the DynamoDB stream does
 * in AWS: the predict path writes once (SQLite), and this tails it by sequence number. The rows
 * are read and encoded on the compaction thread, not here. The cursor advances only after their
 * Parquet files are durable, so a crash replays (rewriting the same files) and never skips.
 */
export class PredictionExporter {
  private readonly getCursor;
  private readonly setCursor;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    db: Sqlite,
    private readonly dbFile: string,
    private readonly lake: Pick<DurableEventLog, 'exportPredictions'>,
    private readonly logger: Logger,
  ) {
    this.getCursor = db.prepare<[string], { position: number }>('SELECT position FROM cursors WHERE name = ?');
    this.setCursor = db.prepare<[string, number]>(
      'INSERT INTO cursors (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
    );
  }

  /** The sequence number of the last prediction the lake has received (0: none yet). */
  exportedThrough(): number {
    return this.getCursor.get(CURSOR)?.position ?? 0;
  }

  /** Exports everything logged so far; returns how many records it moved. */
  async drain(): Promise<number> {
    let moved = 0;
    for (;;) {
      const from = this.exportedThrough();
      const result = await this.lake.exportPredictions(this.dbFile, from, BATCH);
      if (result.rows === 0) return moved;
      this.setCursor.run(CURSOR, result.lastSeq);
      moved += result.rows;
      if (result.rows < BATCH) return moved;
    }
  }

  /**
   * Exports everything logged so far, after any export already running (an erasure calls it so
   * that no prediction is still on its way to the lake when the lake is rewritten).
   */
  async flush(): Promise<number> {
    while (this.running) await this.running;
    const run = this.drain();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.running = settled;
    void settled.finally(() => {
      if (this.running === settled) this.running = undefined;
    });
    return run;
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
