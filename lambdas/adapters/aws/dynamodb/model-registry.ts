import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../../core/errors.js';
import type { ModelRegistry } from '../../../core/ports.js';
import type { GateReport, ModelRecord } from '../../../core/schemas/models.js';
import { versionExists } from '../../../core/usecases/models.js';
import { realTiming } from '../backoff.js';
import { backoffMs, DEFAULT_RETRY, type Item, isConditionalCheckFailed } from './retry.js';
import { DYNAMO_TABLES } from './tables.js';

const PK = DYNAMO_TABLES.models.partitionKey;
const modelKey = (modelId: string) => `model#${modelId}`;
const versionKey = (version: string) => `version#${version}`;
const CHAMPION_KEY = 'alias#champion';

const FIELDS = [
  'model_id',
  'version',
  'status',
  'alias',
  'algorithm',
  'artifact_uri',
  'artifact_bytes',
  'metadata',
  'training_window',
  'holdout_metrics',
  'negative_sampling_rate',
  'gate',
  'previous_champion_id',
  'created_at',
  'activated_at',
  'drift_events',
  'retrain_required_by_erasure',
] as const satisfies readonly (keyof ModelRecord)[];

/**
 * Free-form nested fields are JSON text: they are read whole, and JSON keeps what the local
 * registry keeps (DynamoDB numbers refuse NaN, which a gate report can hold, and JSON turns into null).
 */
const JSON_FIELDS: ReadonlySet<string> = new Set([
  'metadata',
  'training_window',
  'holdout_metrics',
  'gate',
  'drift_events',
  'retrain_required_by_erasure',
]);
/** Optional fields: absent from a record that never had them, as in the local registry (not null). */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(['drift_events', 'retrain_required_by_erasure']);

const encode = (field: string, value: unknown): unknown =>
  JSON_FIELDS.has(field) && value !== null && value !== undefined ? JSON.stringify(value) : value;
const decode = (field: string, value: unknown): unknown =>
  JSON_FIELDS.has(field) && typeof value === 'string' ? JSON.parse(value) : value;

interface StoredModel {
  readonly record: ModelRecord;
  /** The champion pointer generation whose writes this item holds, if it was ever promoted. */
  readonly generation: number | undefined;
}

function fromItem(item: Item): StoredModel {
  const record = Object.fromEntries(
    FIELDS.filter((f) => !OPTIONAL_FIELDS.has(f) || (item[f] ?? null) !== null).map((f) => [
      f,
      decode(f, item[f] ?? null),
    ]),
  ) as ModelRecord;
  return { record, generation: item.champion_generation as number | undefined };
}

/** The `alias#champion` item: who the champion is, and the fields its promotion gave it. */
interface ChampionPointer {
  readonly model_id: string;
  /** Incremented by every promotion; the condition of the next one. */
  readonly generation: number;
  readonly previous_champion_id: string | null;
  readonly activated_at: string;
  readonly gate: GateReport | null;
}

function pointerFromItem(item: Item | undefined): ChampionPointer | undefined {
  if (!item) return undefined;
  return {
    model_id: item.model_id as string,
    generation: item.generation as number,
    previous_champion_id: (item.previous_champion_id as string | null | undefined) ?? null,
    activated_at: item.activated_at as string,
    gate: decode('gate', item.gate ?? null) as GateReport | null,
  };
}

/**
 * What a stored model is, given the champion pointer: the pointer is the truth about who is
 * champion, and the model items follow it (written after it, so they can lag after a failure).
 */
function reconcile(stored: StoredModel, pointer: ChampionPointer | undefined): ModelRecord {
  const { record } = stored;
  if (!pointer) return record;
  if (pointer.model_id === record.model_id) {
    if (stored.generation === pointer.generation) return record;
    return {
      ...record,
      status: 'champion',
      alias: 'champion',
      previous_champion_id: pointer.previous_champion_id,
      activated_at: pointer.activated_at,
      gate: pointer.gate,
    };
  }
  if (record.alias === 'champion' || record.status === 'champion') return { ...record, status: 'retired', alias: null };
  return record;
}

export interface DynamoModelRegistryOptions {
  /**
   * How old a version claim whose model item never appeared must be before another create may
   * take it over. It must exceed the longest a create can run (the Lambda timeout), so that a
   * create still in flight is never mistaken for a dead one.
   */
  readonly claimGraceMs?: number;
  /** Promotions that lose the race on the pointer re-read and try again this many times. */
  readonly promoteAttempts?: number;
  readonly now?: () => number;
}

/**
 * model_metadata on DynamoDB, without transactions (the emulator has none, and none is needed):
 *
 * - A model is a `model#<id>` item, its fields as attributes (nested ones as JSON text), so
 *   `update` is one UpdateItem of the patched fields and never overwrites a concurrent change to
 *   another field.
 * - A version is unique through a `version#<version>` claim item, put with a condition before
 *   the model item. A create that dies between the two leaves a claim with no model; it blocks
 *   the version for `claimGraceMs`, after which a create of the same version takes it over.
 * - The champion is the `alias#champion` pointer item. `promote` writes it with a condition on
 *   its generation (so concurrent promotions serialize: the loser re-reads and retries), then
 *   updates the new champion's item and retires the old one. Those two writes are idempotent and
 *   may be missing after a failure: every read reconciles model items with the pointer, so the
 *   registry never shows two champions, and the next promotion (or `repair`) rewrites the items.
 */
export class DynamoModelRegistry implements ModelRegistry {
  private readonly claimGraceMs: number;
  private readonly promoteAttempts: number;
  private readonly now: () => number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoModelRegistryOptions = {},
  ) {
    this.claimGraceMs = options.claimGraceMs ?? 5 * 60_000;
    this.promoteAttempts = options.promoteAttempts ?? 5;
    this.now = options.now ?? Date.now;
  }

  private async getItem(key: string): Promise<Item | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: key }, ConsistentRead: true }),
    );
    return out.Item;
  }

  private async pointer(): Promise<ChampionPointer | undefined> {
    return pointerFromItem(await this.getItem(CHAMPION_KEY));
  }

  async get(modelId: string): Promise<ModelRecord | undefined> {
    const [item, pointer] = await Promise.all([this.getItem(modelKey(modelId)), this.pointer()]);
    return item ? reconcile(fromItem(item), pointer) : undefined;
  }

  async findByVersion(version: string): Promise<ModelRecord | undefined> {
    const claim = await this.getItem(versionKey(version));
    if (!claim) return undefined;
    const model = await this.get(claim.model_id as string);
    return model?.version === version ? model : undefined;
  }

  async champion(): Promise<ModelRecord | undefined> {
    const pointer = await this.pointer();
    if (!pointer) return undefined;
    const item = await this.getItem(modelKey(pointer.model_id));
    return item ? reconcile(fromItem(item), pointer) : undefined;
  }

  /** Newest first, as the local registry; the table holds models by the hundred, so a Scan. */
  async list(): Promise<ModelRecord[]> {
    const { models, pointer } = await this.scan();
    return models
      .map((m) => reconcile(m, pointer))
      .sort(
        (a, b) =>
          b.created_at.localeCompare(a.created_at) || (a.model_id < b.model_id ? 1 : a.model_id > b.model_id ? -1 : 0),
      );
  }

  private async scan(): Promise<{ models: StoredModel[]; pointer: ChampionPointer | undefined }> {
    const models: StoredModel[] = [];
    let pointer: ChampionPointer | undefined;
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) {
        const key = item[PK] as string;
        if (key.startsWith('model#')) models.push(fromItem(item));
        else if (key === CHAMPION_KEY) pointer = pointerFromItem(item);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return { models, pointer };
  }

  async create(record: ModelRecord): Promise<void> {
    await this.claimVersion(record.version, record.model_id);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PK]: modelKey(record.model_id), ...this.encodeFields(record) },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new ConflictError(`Model ${record.model_id} already exists.`);
      throw err;
    }
  }

  private encodeFields(fields: Partial<ModelRecord>): Item {
    return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, encode(k, v)]));
  }

  /** Puts the version's claim for `modelId`, or takes over a dead one; refuses a live one. */
  private async claimVersion(version: string, modelId: string): Promise<void> {
    const now = this.now();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PK]: versionKey(version), model_id: modelId, claimed_at: now },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
    const claim = await this.getItem(versionKey(version));
    // Gone in between: a claim is never deleted, so only an operator did that; refuse rather than guess.
    if (!claim) throw versionExists(version);
    const owner = claim.model_id as string;
    // Our own claim, left by an earlier attempt of this create that failed after it.
    if (owner === modelId) return;
    if ((await this.getItem(modelKey(owner))) || now - (claim.claimed_at as number) < this.claimGraceMs) {
      throw versionExists(version, owner);
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: versionKey(version) },
          UpdateExpression: 'SET model_id = :me, claimed_at = :now',
          ConditionExpression: 'model_id = :owner AND claimed_at = :claimedAt',
          ExpressionAttributeValues: { ':me': modelId, ':now': now, ':owner': owner, ':claimedAt': claim.claimed_at },
        }),
      );
    } catch (err) {
      // Another create took the dead claim over first.
      if (isConditionalCheckFailed(err)) throw versionExists(version);
      throw err;
    }
  }

  async update(modelId: string, patch: Partial<Omit<ModelRecord, 'model_id'>>): Promise<ModelRecord> {
    const fields = Object.entries(patch).filter(([k, v]) => k !== 'model_id' && v !== undefined);
    if (fields.some(([k]) => k === 'version')) {
      throw new Error('The registry does not change the version of a model (the version claim would not follow).');
    }
    const names: Record<string, string> = { '#pk': PK };
    const values: Item = {};
    const sets = fields.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = encode(k, v);
      return `#f${i} = :v${i}`;
    });
    const [item, pointer] = await Promise.all([
      sets.length === 0
        ? this.getItem(modelKey(modelId))
        : this.doc
            .send(
              new UpdateCommand({
                TableName: this.tableName,
                Key: { [PK]: modelKey(modelId) },
                UpdateExpression: `SET ${sets.join(', ')}`,
                ConditionExpression: 'attribute_exists(#pk)',
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
                ReturnValues: 'ALL_NEW',
              }),
            )
            .then(
              (out) => out.Attributes,
              (err: unknown) => {
                if (isConditionalCheckFailed(err)) return undefined;
                throw err;
              },
            ),
      this.pointer(),
    ]);
    if (!item) throw new NotFoundError(`Model ${modelId} does not exist.`);
    return reconcile(fromItem(item), pointer);
  }

  async promote(modelId: string, now: Date, gate: GateReport | null): Promise<ModelRecord> {
    for (let attempt = 0; attempt < this.promoteAttempts; attempt++) {
      if (attempt > 0) await realTiming.sleep(backoffMs(attempt - 1, DEFAULT_RETRY));
      const [item, pointer] = await Promise.all([this.getItem(modelKey(modelId)), this.pointer()]);
      if (!item) throw new NotFoundError(`Model ${modelId} does not exist.`);
      const current = reconcile(fromItem(item), pointer);
      const previous = pointer && pointer.model_id !== modelId ? pointer.model_id : null;
      const next: ChampionPointer = {
        model_id: modelId,
        generation: (pointer?.generation ?? 0) + 1,
        previous_champion_id: previous ?? current.previous_champion_id,
        activated_at: now.toISOString(),
        gate: gate ?? current.gate,
      };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { [PK]: CHAMPION_KEY, ...next, gate: encode('gate', next.gate) },
            ConditionExpression: pointer ? 'generation = :g' : 'attribute_not_exists(#pk)',
            ...(pointer
              ? { ExpressionAttributeValues: { ':g': pointer.generation } }
              : { ExpressionAttributeNames: { '#pk': PK } }),
          }),
        );
      } catch (err) {
        if (isConditionalCheckFailed(err)) continue;
        throw err;
      }
      // From here the promotion has happened: the writes below only bring the items in line.
      const [promoted] = await Promise.all([this.applyChampion(next), previous ? this.retire(previous) : undefined]);
      return reconcile(promoted ?? fromItem(item), next);
    }
    throw new ConflictError(`Model ${modelId} was not activated: other activations kept racing it. Try again.`);
  }

  /** Writes the pointer's fields onto the champion's item; idempotent. */
  private async applyChampion(pointer: ChampionPointer): Promise<StoredModel | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: modelKey(pointer.model_id) },
          UpdateExpression:
            'SET #s = :champion, alias = :champion, previous_champion_id = :prev, activated_at = :at, gate = :gate, champion_generation = :g',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK, '#s': 'status' },
          ExpressionAttributeValues: {
            ':champion': 'champion',
            ':prev': pointer.previous_champion_id,
            ':at': pointer.activated_at,
            ':gate': encode('gate', pointer.gate),
            ':g': pointer.generation,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes!);
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  /** Retires a model that still says it is champion; a no-op for any other. */
  private async retire(modelId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: modelKey(modelId) },
          UpdateExpression: 'SET #s = :retired, alias = :null',
          ConditionExpression: 'alias = :champion',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':retired': 'retired', ':null': null, ':champion': 'champion' },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  /**
   * Brings every model item in line with the champion pointer (after a promotion that failed
   * between its writes). Reads never need it; anything reading the table directly does.
   * Returns the ids of the items it rewrote.
   */
  async repair(): Promise<string[]> {
    const { models, pointer } = await this.scan();
    if (!pointer) return [];
    const repaired: string[] = [];
    for (const m of models) {
      const id = m.record.model_id;
      if (id === pointer.model_id && m.generation !== pointer.generation) {
        await this.applyChampion(pointer);
        repaired.push(id);
      } else if (id !== pointer.model_id && m.record.alias === 'champion') {
        await this.retire(id);
        repaired.push(id);
      }
    }
    return repaired;
  }
}
