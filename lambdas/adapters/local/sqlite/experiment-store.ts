import { ConflictError } from '../../../core/errors.js';
import type { Experiment, ExperimentStore } from '../../../core/ports.js';
import type { Sqlite } from './database.js';

type Row = { record: string };
const parse = (r: Row) => JSON.parse(r.record) as Experiment;

/** `experiments` in SQLite: the whole record is JSON, status and created_at beside it for the queries. */
export class SqliteExperimentStore implements ExperimentStore {
  private readonly runningStmt;
  private readonly allStmt;
  private readonly byIdStmt;
  private readonly insertStmt;
  private readonly stopStmt;

  constructor(private readonly db: Sqlite) {
    this.runningStmt = db.prepare<[], Row>(
      "SELECT record FROM experiments WHERE status = 'running' ORDER BY created_at, experiment_id",
    );
    this.allStmt = db.prepare<[], Row>('SELECT record FROM experiments ORDER BY created_at DESC, experiment_id DESC');
    this.byIdStmt = db.prepare<[string], Row>('SELECT record FROM experiments WHERE experiment_id = ?');
    this.insertStmt = db.prepare(
      'INSERT INTO experiments (experiment_id, status, record, created_at) VALUES (@experiment_id, @status, @record, @created_at)',
    );
    this.stopStmt = db.prepare(
      "UPDATE experiments SET status = 'stopped', record = @record WHERE experiment_id = @experiment_id AND status = 'running'",
    );
  }

  async running(): Promise<Experiment[]> {
    return this.runningStmt.all().map(parse);
  }

  async create(experiment: Experiment): Promise<void> {
    try {
      this.insertStmt.run({
        experiment_id: experiment.experiment_id,
        status: experiment.status,
        record: JSON.stringify(experiment),
        created_at: experiment.created_at,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ConflictError(`Experiment ${experiment.experiment_id} already exists.`);
      }
      throw err;
    }
  }

  async get(experimentId: string): Promise<Experiment | undefined> {
    const row = this.byIdStmt.get(experimentId);
    return row ? parse(row) : undefined;
  }

  async list(): Promise<Experiment[]> {
    return this.allStmt.all().map(parse);
  }

  async stop(experimentId: string, at: Date): Promise<Experiment | undefined> {
    // One transaction, so a concurrent stop from the CLI cannot overwrite the first stopped_at.
    return this.db
      .transaction(() => {
        const row = this.byIdStmt.get(experimentId);
        if (!row) return undefined;
        const current = parse(row);
        if (current.status !== 'running') return current;
        const stopped: Experiment = { ...current, status: 'stopped', stopped_at: at.toISOString() };
        this.stopStmt.run({ experiment_id: experimentId, record: JSON.stringify(stopped) });
        return stopped;
      })
      .immediate();
  }
}
