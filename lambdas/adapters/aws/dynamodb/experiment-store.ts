import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../../core/errors.js';
import type { Experiment, ExperimentStore } from '../../../core/ports.js';
import { type Item, isConditionalCheckFailed } from './retry.js';
import { DYNAMO_TABLES } from './tables.js';

const KEY = DYNAMO_TABLES.experiments.partitionKey;

function fromItem(item: Item): Experiment {
  return {
    experiment_id: item[KEY] as string,
    name: item.name as string,
    status: item.status as Experiment['status'],
    variants: item.variants as Experiment['variants'],
    campaign_ids: (item.campaign_ids as string[] | null | undefined) ?? null,
    created_at: item.created_at as string,
    stopped_at: (item.stopped_at as string | null | undefined) ?? null,
  };
}

const byId = (a: Experiment, b: Experiment) =>
  a.experiment_id < b.experiment_id ? -1 : a.experiment_id > b.experiment_id ? 1 : 0;

/**
 * Experiments on DynamoDB, one item each with native attributes (variants a list of maps), so an
 * operator can read and edit them in the console. The table holds a handful of items and the
 * routing layer caches `running()`, so a paginated Scan is cheaper to run and to keep right than
 * a status index. Writes are conditional: create only if absent, stop only if running.
 */
export class DynamoExperimentStore implements ExperimentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async scan(filter?: 'running'): Promise<Experiment[]> {
    const found: Experiment[] = [];
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          ...(filter
            ? {
                FilterExpression: '#s = :running',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':running': 'running' },
              }
            : {}),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) found.push(fromItem(item));
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }

  async running(): Promise<Experiment[]> {
    // The local store's order: oldest first, ties by id.
    return (await this.scan('running')).sort((a, b) => a.created_at.localeCompare(b.created_at) || byId(a, b));
  }

  async list(): Promise<Experiment[]> {
    return (await this.scan()).sort((a, b) => b.created_at.localeCompare(a.created_at) || byId(b, a));
  }

  async get(experimentId: string): Promise<Experiment | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [KEY]: experimentId }, ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async create(experiment: Experiment): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...experiment },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': KEY },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new ConflictError(`Experiment ${experiment.experiment_id} already exists.`);
      }
      throw err;
    }
  }

  async stop(experimentId: string, at: Date): Promise<Experiment | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: experimentId },
          UpdateExpression: 'SET #s = :stopped, stopped_at = :at',
          ConditionExpression: '#s = :running',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':stopped': 'stopped', ':running': 'running', ':at': at.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes ? fromItem(out.Attributes) : undefined;
    } catch (err) {
      // Absent or stopped already: the stored item (if any) is the answer, the first stopped_at kept.
      if (isConditionalCheckFailed(err)) return this.get(experimentId);
      throw err;
    }
  }

  /** Writes an experiment whole, unconditionally (operators' repairs and test seeding). */
  async put(experiment: Experiment): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...experiment } }));
  }
}
