/**
 * User erasure (DELETE /users/{user_id}, GET /erasures/{id}): removes one user's data from every
 * store the composition root lists, in its order, and keeps a receipt of what went where.
 *
 * The receipt is written before the 202 (durable), the work runs afterwards (`schedule`), and an
 * unfinished erasure is resumed after a restart (`resume`), store by store: a store already in
 * the receipt is not erased again. The pseudonym is kept with the receipt only while the erasure
 * is unfinished; a completed or failed receipt no longer names anybody.
 */
import { DependencyUnavailableError, NotFoundError } from '../errors.js';
import type { ErasureTarget, StoredErasure, UserDataEraser } from '../ports.js';
import type { ErasureAccepted, ErasureReceipt, StoreErasureReceipt } from '../schemas/erasures.js';
import { MAX_ERASURE_IDS, type ModelRecord } from '../schemas/models.js';
import type { Deps, ErasureDeps } from './deps.js';

/** The receipt's entry for experiment assignments: nothing per user is stored (DESIGN.md "sticky by a hash"). */
export const EXPERIMENT_ASSIGNMENTS = 'experiment_assignments';
const ASSIGNMENTS_DETAIL =
  'Nothing to remove: a variant is assigned by a hash of (experiment, user pseudonym) at each request; no assignment is stored per user.';

interface Span {
  from: number;
  to: number;
}

export class ErasureUseCase {
  /** Erasures running in this process, so a resume and a schedule never run one twice at once. */
  private readonly running = new Map<string, Promise<ErasureReceipt | undefined>>();

  constructor(private readonly deps: Deps) {}

  private get erasure(): ErasureDeps {
    if (!this.deps.erasure) throw new DependencyUnavailableError('User erasure is not configured in this deployment.');
    return this.deps.erasure;
  }

  /** Records the erasure (durably) and schedules it; the caller answers 202. */
  async request(userId: string): Promise<ErasureAccepted> {
    const { store, schedule } = this.erasure;
    const userKey = this.deps.pseudonymiser.pseudonymise('user', userId);
    const erasureId = this.deps.ids.next('er');
    const receipt: ErasureReceipt = {
      erasure_id: erasureId,
      status: 'pending',
      requested_at: this.deps.clock.now().toISOString(),
      started_at: null,
      completed_at: null,
      stores: [],
      data_span: null,
      models_flagged: [],
      error: null,
    };
    await store.create({ receipt, userKey });
    schedule(async () => {
      await this.run(erasureId);
    });
    return { erasure_id: erasureId, status: 'pending', receipt: `/erasures/${erasureId}` };
  }

  async get(erasureId: string): Promise<ErasureReceipt> {
    const stored = await this.erasure.store.get(erasureId);
    if (!stored) throw new NotFoundError(`Erasure ${erasureId} does not exist.`);
    return stored.receipt;
  }

  /** Schedules every unfinished erasure again (at start); returns how many. */
  async resume(): Promise<number> {
    const { store, schedule } = this.erasure;
    const unfinished = await store.unfinished();
    for (const e of unfinished) {
      schedule(async () => {
        await this.run(e.receipt.erasure_id);
      });
    }
    return unfinished.length;
  }

  /**
   * Runs an erasure to its end (or resumes it) and returns its receipt. Never rejects for a
   * store's failure: the receipt says `failed` and why; a new DELETE starts it again.
   */
  run(erasureId: string): Promise<ErasureReceipt | undefined> {
    const current = this.running.get(erasureId);
    if (current) return current;
    const run = this.runOnce(erasureId).finally(() => this.running.delete(erasureId));
    this.running.set(erasureId, run);
    return run;
  }

  private async runOnce(erasureId: string): Promise<ErasureReceipt | undefined> {
    const { store, erasers } = this.erasure;
    const stored = await store.get(erasureId);
    if (
      !stored ||
      stored.userKey === null ||
      stored.receipt.status === 'completed' ||
      stored.receipt.status === 'failed'
    )
      return stored?.receipt;
    const { userKey } = stored;
    const now = () => this.deps.clock.now().toISOString();
    let receipt: ErasureReceipt = {
      ...stored.receipt,
      status: 'running',
      started_at: stored.receipt.started_at ?? now(),
    };
    const save = (r: ErasureReceipt, key: string | null) =>
      store.save({ receipt: r, userKey: key } satisfies StoredErasure);
    await save(receipt, userKey);
    const target: ErasureTarget = { erasureId, userKey, requestedAt: new Date(receipt.requested_at) };
    let span: Span | null = receipt.data_span
      ? { from: Date.parse(receipt.data_span.from), to: Date.parse(receipt.data_span.to) }
      : null;
    try {
      // A store whose data is still arriving, or whose job has not finished, leaves the erasure
      // running: a later run (the worker's next tick, the next start) picks it up from there.
      let waiting = false;
      for (const eraser of [...erasers, ASSIGNMENTS]) {
        const done = receipt.stores.find((s) => s.store === eraser.store);
        if (done) {
          if (done.status !== 'submitted' || !eraser.confirm) continue;
          const check = await eraser.confirm(done.jobs ?? []);
          if (check.failed) throw new Error(`${eraser.store}: ${check.failed}`);
          if (!check.done) {
            waiting = true;
            continue;
          }
          const confirmed: StoreErasureReceipt = { ...done, status: 'completed', completed_at: now() };
          receipt = { ...receipt, stores: receipt.stores.map((s) => (s === done ? confirmed : s)) };
          await save(receipt, userKey);
          continue;
        }
        if (eraser.readyAt && eraser.readyAt(target).getTime() > this.deps.clock.now().getTime()) {
          waiting = true;
          break;
        }
        const result = await eraser.erase(target);
        if (result.span) span = widen(span, result.span.from.getTime(), result.span.to.getTime());
        const entry: StoreErasureReceipt = {
          store: eraser.store,
          status: result.status ?? 'completed',
          ...(result.jobs && result.jobs.length > 0 ? { jobs: [...result.jobs] } : {}),
          removed: { ...result.removed },
          detail: result.detail ?? null,
          completed_at: now(),
        };
        receipt = { ...receipt, stores: [...receipt.stores, entry], data_span: spanText(span) };
        await save(receipt, userKey);
        if (entry.status === 'submitted' && eraser.confirm) waiting = true;
      }
      if (waiting) return receipt;
      const flagged = await this.flagModels(erasureId, span);
      receipt = { ...receipt, status: 'completed', completed_at: now(), models_flagged: flagged };
      await save(receipt, null);
      this.deps.logger.info('erasure completed', { erasure_id: erasureId, stores: receipt.stores.length });
    } catch (err) {
      // The message may come from a driver that quoted its input: never let it carry the pseudonym.
      const message = (err instanceof Error ? err.message : String(err)).replaceAll(userKey, '<user>');
      this.deps.logger.error('erasure failed', { erasure_id: erasureId, error: message });
      receipt = { ...receipt, status: 'failed', completed_at: now(), error: message };
      await save(receipt, null);
    }
    return receipt;
  }

  /**
   * Flags every registered model that may have been trained on the user's data: registered by
   * now (an upload finished), and trained over a window that overlaps the span of the data found,
   * or over an unknown window. Nothing found of the user flags nothing.
   */
  private async flagModels(erasureId: string, span: Span | null): Promise<string[]> {
    if (span === null) return [];
    const nowMs = this.deps.clock.now().getTime();
    const flagged: string[] = [];
    for (const model of await this.deps.models.list()) {
      if (model.status === 'uploading' || Date.parse(model.created_at) > nowMs || !overlaps(model, span)) continue;
      const previous = model.retrain_required_by_erasure;
      if (previous?.erasure_ids.includes(erasureId)) {
        flagged.push(model.model_id);
        continue;
      }
      await this.deps.models.update(model.model_id, {
        retrain_required_by_erasure: {
          since: previous?.since ?? new Date(nowMs).toISOString(),
          erasures: (previous?.erasures ?? 0) + 1,
          erasure_ids: [...(previous?.erasure_ids ?? []), erasureId].slice(-MAX_ERASURE_IDS),
        },
      });
      flagged.push(model.model_id);
    }
    return flagged;
  }
}

const ASSIGNMENTS: UserDataEraser = {
  store: EXPERIMENT_ASSIGNMENTS,
  erase: async () => ({ removed: {}, detail: ASSIGNMENTS_DETAIL }),
};

function widen(span: Span | null, from: number, to: number): Span {
  return span === null ? { from, to } : { from: Math.min(span.from, from), to: Math.max(span.to, to) };
}

function spanText(span: Span | null): ErasureReceipt['data_span'] {
  return span === null ? null : { from: new Date(span.from).toISOString(), to: new Date(span.to).toISOString() };
}

/** The model's training window overlaps the span (an unknown bound overlaps everything). */
function overlaps(model: ModelRecord, span: Span): boolean {
  const w = model.training_window;
  if (w === null) return true;
  const fromOk = w.from === null || Date.parse(w.from) <= span.to;
  const toOk = w.to === null || Date.parse(w.to) > span.from;
  return fromOk && toOk;
}
