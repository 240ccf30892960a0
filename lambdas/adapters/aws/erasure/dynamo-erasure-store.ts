import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../../core/errors.js';
import type { ErasureStore, StoredErasure } from '../../../core/ports.js';
import type { ErasureReceipt } from '../../../core/schemas/erasures.js';
import { isConditionalCheckFailed } from '../dynamodb/retry.js';
import { ERASURES_TABLE } from '../dynamodb/tables.js';

const KEY = ERASURES_TABLE.partitionKey;

interface ErasureItem {
  erasure_id: string;
  status: string;
  requested_at: string;
  /** The receipt as JSON text (read whole). */
  receipt: string;
  /** The pseudonym, only while the erasure is unfinished (the attribute is removed after). */
  user_key?: string;
}

const toItem = (e: StoredErasure): ErasureItem => ({
  [KEY]: e.receipt.erasure_id,
  status: e.receipt.status,
  requested_at: e.receipt.requested_at,
  receipt: JSON.stringify(e.receipt),
  ...(e.userKey === null ? {} : { user_key: e.userKey }),
});

const fromItem = (item: Record<string, unknown>): StoredErasure => {
  const i = item as unknown as ErasureItem;
  return { receipt: JSON.parse(i.receipt) as ErasureReceipt, userKey: i.user_key ?? null };
};

/**
 * Erasure receipts in DynamoDB (ERASURES_TABLE). `save` replaces the whole item, so a finished
 * erasure's item no longer holds the pseudonym. Unfinished erasures are found by a scan: the
 * table holds one small item per erasure ever requested, and only the erasure worker asks.
 */
export class DynamoErasureStore implements ErasureStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(erasure: StoredErasure): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(erasure),
          ConditionExpression: 'attribute_not_exists(#k)',
          ExpressionAttributeNames: { '#k': KEY },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new ConflictError(`Erasure ${erasure.receipt.erasure_id} exists.`);
      throw err;
    }
  }

  async get(erasureId: string): Promise<StoredErasure | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: erasureId }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async save(erasure: StoredErasure): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: toItem(erasure) }));
  }

  async unfinished(): Promise<StoredErasure[]> {
    const out: StoredErasure[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: '#s IN (:pending, :running)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending', ':running': 'running' },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort(
      (a, b) =>
        a.receipt.requested_at.localeCompare(b.receipt.requested_at) ||
        a.receipt.erasure_id.localeCompare(b.receipt.erasure_id),
    );
  }
}
