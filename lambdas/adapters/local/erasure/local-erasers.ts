/**
 * The local stores' erasers (DELETE /users/{user_id}), in the order the local composition root
 * runs them: the data in flight first (event log segments and the prediction export into the
 * lake), then the prediction log, the feature store, the lake (duckdb/lake-eraser.ts) and the
 * holdout file.
 */
import { createReadStream, existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ErasureTarget, StoreErasure, UserDataEraser } from '../../../core/ports.js';
import type { DurableEventLog } from '../event-log/durable-event-log.js';
import type { MemoryFeatureStore } from '../memory-feature-store.js';
import type { PredictionExporter } from '../prediction-exporter.js';
import { type Sqlite, scrubDeleted } from '../sqlite/database.js';
import type { SqlitePredictionLog } from '../sqlite/prediction-log.js';

/**
 * Flushes what is on its way to the lake: every acknowledged event is compacted out of the event
 * log's segments (which are then deleted) and every logged prediction exported. The lake eraser
 * that runs after it then sees every row acknowledged before the erasure started.
 */
export class InFlightFlush implements UserDataEraser {
  readonly store = 'event_log';

  constructor(
    private readonly events: Pick<DurableEventLog, 'compact' | 'stats'>,
    private readonly exporter: Pick<PredictionExporter, 'flush'>,
  ) {}

  async erase(): Promise<StoreErasure> {
    const before = this.events.stats().rowsCompacted;
    await this.events.compact();
    const events = this.events.stats().rowsCompacted - before;
    const predictions = await this.exporter.flush();
    return {
      removed: {},
      detail: `Nothing left in flight: ${events} acknowledged events compacted from the log's segments (then deleted) and ${predictions} logged predictions exported into the lake, before the lake was rewritten.`,
    };
  }
}

export class SqlitePredictionLogEraser implements UserDataEraser {
  readonly store = 'prediction_log';

  constructor(
    private readonly db: Sqlite,
    private readonly log: Pick<SqlitePredictionLog, 'eraseUser'>,
  ) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    const { rows, span } = this.log.eraseUser(target.userKey);
    scrubDeleted(this.db);
    return {
      removed: { predictions: rows },
      detail: 'Deleted from SQLite with secure_delete; the WAL was checkpointed and truncated.',
      span,
    };
  }
}

export class MemoryFeatureStoreEraser implements UserDataEraser {
  readonly store = 'feature_store';

  constructor(private readonly features: Pick<MemoryFeatureStore, 'eraseUser'>) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    const removed = this.features.eraseUser(target.userKey);
    return {
      removed,
      detail:
        "In-memory counters: the user's counters and the recent impressions that would credit a click to them. Ad counters are aggregates and stay.",
    };
  }
}

/**
 * The gate's holdout (`holdout.jsonl`): feature snapshots and labels, which hold no user id;
 * a line holding the pseudonym all the same (a caller-supplied feature) is removed.
 */
export class HoldoutFileEraser implements UserDataEraser {
  readonly store = 'holdout';

  constructor(private readonly file: string) {}

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    if (!existsSync(this.file)) return { removed: { rows: 0 }, detail: 'No holdout file.' };
    const kept: string[] = [];
    let removed = 0;
    const input = createReadStream(this.file);
    try {
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        if (line.includes(target.userKey)) removed++;
        else kept.push(line);
      }
    } finally {
      input.destroy();
    }
    if (removed > 0) {
      const tmp = `${this.file}.${target.erasureId}.tmp`;
      await writeFile(tmp, kept.length > 0 ? `${kept.join('\n')}\n` : '', { mode: 0o600 });
      await rename(tmp, this.file);
    }
    return {
      removed: { rows: removed },
      detail:
        'Feature snapshots and labels only (no user id is written to it); lines holding the pseudonym would be removed. Training CSVs are written outside the data dir (adclick retrain works in a temp dir).',
    };
  }
}
