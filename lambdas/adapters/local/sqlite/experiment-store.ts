import type { Experiment, ExperimentStore } from '../../../core/ports.js';
import type { Sqlite } from './database.js';

export class SqliteExperimentStore implements ExperimentStore {
  private readonly runningStmt;

  constructor(db: Sqlite) {
    this.runningStmt = db.prepare<[], { record: string }>(
      "SELECT record FROM experiments WHERE status = 'running' ORDER BY created_at, experiment_id",
    );
  }

  async running(): Promise<Experiment[]> {
    return this.runningStmt.all().map((r) => JSON.parse(r.record) as Experiment);
  }
}
