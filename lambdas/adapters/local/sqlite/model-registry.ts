import { NotFoundError } from '../../../core/errors.js';
import type { ModelRegistry } from '../../../core/ports.js';
import type { GateReport, ModelRecord } from '../../../core/schemas/models.js';
import { versionExists } from '../../../core/usecases/models.js';
import type { Sqlite } from './database.js';

/** model_metadata in SQLite; the whole record is JSON, with the columns that need indexes beside it. */
export class SqliteModelRegistry implements ModelRegistry {
  private readonly byId;
  private readonly byVersion;
  private readonly byAlias;
  private readonly all;
  private readonly insert;
  private readonly save;

  constructor(private readonly db: Sqlite) {
    this.byId = db.prepare<[string], { record: string }>('SELECT record FROM model_metadata WHERE model_id = ?');
    this.byVersion = db.prepare<[string], { record: string }>('SELECT record FROM model_metadata WHERE version = ?');
    this.byAlias = db.prepare<[string], { record: string }>('SELECT record FROM model_metadata WHERE alias = ?');
    this.all = db.prepare<[], { record: string }>(
      'SELECT record FROM model_metadata ORDER BY created_at DESC, model_id DESC',
    );
    this.insert = db.prepare(
      'INSERT INTO model_metadata (model_id, version, status, alias, record, created_at) VALUES (@model_id, @version, @status, @alias, @record, @created_at)',
    );
    this.save = db.prepare(
      'UPDATE model_metadata SET status = @status, alias = @alias, record = @record WHERE model_id = @model_id',
    );
  }

  private read(stmt: { get(arg: string): { record: string } | undefined }, key: string): ModelRecord | undefined {
    const row = stmt.get(key);
    return row ? (JSON.parse(row.record) as ModelRecord) : undefined;
  }

  private write(m: ModelRecord): void {
    this.save.run({ model_id: m.model_id, status: m.status, alias: m.alias, record: JSON.stringify(m) });
  }

  async get(modelId: string) {
    return this.read(this.byId, modelId);
  }

  async findByVersion(version: string) {
    return this.read(this.byVersion, version);
  }

  async champion() {
    return this.read(this.byAlias, 'champion');
  }

  async list() {
    return this.all.all().map((r) => JSON.parse(r.record) as ModelRecord);
  }

  async create(record: ModelRecord) {
    try {
      this.insert.run({ ...record, record: JSON.stringify(record) });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /version/.test((err as Error).message)) {
        throw versionExists(record.version);
      }
      throw err;
    }
  }

  async update(modelId: string, patch: Partial<Omit<ModelRecord, 'model_id'>>) {
    const current = this.read(this.byId, modelId);
    if (!current) throw new NotFoundError(`Model ${modelId} does not exist.`);
    const next = { ...current, ...patch };
    this.write(next);
    return next;
  }

  async promote(modelId: string, now: Date, gate: GateReport | null) {
    return this.db.transaction(() => {
      const next = this.read(this.byId, modelId);
      if (!next) throw new NotFoundError(`Model ${modelId} does not exist.`);
      const previous = this.read(this.byAlias, 'champion');
      if (previous && previous.model_id !== modelId) {
        this.write({ ...previous, status: 'retired', alias: null });
      }
      const promoted: ModelRecord = {
        ...next,
        status: 'champion',
        alias: 'champion',
        gate: gate ?? next.gate,
        previous_champion_id: previous && previous.model_id !== modelId ? previous.model_id : next.previous_champion_id,
        activated_at: now.toISOString(),
      };
      this.write(promoted);
      return promoted;
    })();
  }
}
