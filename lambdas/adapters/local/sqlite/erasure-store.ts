import { ConflictError } from '../../../core/errors.js';
import type { ErasureStore, StoredErasure } from '../../../core/ports.js';
import type { ErasureReceipt } from '../../../core/schemas/erasures.js';
import { type Sqlite, scrubDeleted } from './database.js';

type Row = { record: string; user_key: string | null };
const parse = (r: Row): StoredErasure => ({ receipt: JSON.parse(r.record) as ErasureReceipt, userKey: r.user_key });

/**
 * `erasures` in SQLite: the receipt as JSON, the pseudonym beside it while the erasure is
 * unfinished. Forgetting the pseudonym scrubs the files (secure_delete + WAL truncation), so a
 * finished erasure leaves no copy of it behind.
 */
export class SqliteErasureStore implements ErasureStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly saveStmt;
  private readonly unfinishedStmt;

  constructor(private readonly db: Sqlite) {
    this.insertStmt = db.prepare(
      'INSERT INTO erasures (erasure_id, status, user_key, record, requested_at) VALUES (@erasure_id, @status, @user_key, @record, @requested_at)',
    );
    this.byIdStmt = db.prepare<[string], Row>('SELECT record, user_key FROM erasures WHERE erasure_id = ?');
    this.saveStmt = db.prepare(
      'UPDATE erasures SET status = @status, user_key = @user_key, record = @record WHERE erasure_id = @erasure_id',
    );
    this.unfinishedStmt = db.prepare<[], Row>(
      "SELECT record, user_key FROM erasures WHERE status IN ('pending', 'running') ORDER BY requested_at, erasure_id",
    );
  }

  private params(e: StoredErasure) {
    return {
      erasure_id: e.receipt.erasure_id,
      status: e.receipt.status,
      user_key: e.userKey,
      record: JSON.stringify(e.receipt),
      requested_at: e.receipt.requested_at,
    };
  }

  async create(erasure: StoredErasure): Promise<void> {
    try {
      this.insertStmt.run(this.params(erasure));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
        throw new ConflictError(`Erasure ${erasure.receipt.erasure_id} exists.`);
      throw err;
    }
  }

  async get(erasureId: string): Promise<StoredErasure | undefined> {
    const row = this.byIdStmt.get(erasureId);
    return row ? parse(row) : undefined;
  }

  async save(erasure: StoredErasure): Promise<void> {
    const { requested_at: _, ...params } = this.params(erasure);
    this.saveStmt.run(params);
    if (erasure.userKey === null) scrubDeleted(this.db);
  }

  async unfinished(): Promise<StoredErasure[]> {
    return this.unfinishedStmt.all().map(parse);
  }
}
