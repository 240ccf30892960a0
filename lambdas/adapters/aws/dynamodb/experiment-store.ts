import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Experiment, ExperimentStore } from '../../../core/ports.js';
import type { Item } from './retry.js';
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

/**
 * Experiments on DynamoDB, one item each with native attributes (variants a list of maps), so an
 * operator can read and edit them in the console. The table holds a handful of items and the
 * routing layer caches `running()`, so a paginated Scan with a filter is cheaper to run and to
 * keep right than a status index.
 */
export class DynamoExperimentStore implements ExperimentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async running(): Promise<Experiment[]> {
    const found: Experiment[] = [];
    let start: Item | undefined;
    do {
      const out = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#s = :running',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':running': 'running' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of out.Items ?? []) found.push(fromItem(item));
      start = out.LastEvaluatedKey;
    } while (start);
    // The local store's order: oldest first, ties by id.
    return found.sort(
      (a, b) =>
        a.created_at.localeCompare(b.created_at) ||
        (a.experiment_id < b.experiment_id ? -1 : a.experiment_id > b.experiment_id ? 1 : 0),
    );
  }

  /** Writes an experiment whole (operators and tests; the API has no experiment route yet). */
  async put(experiment: Experiment): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...experiment } }));
  }
}
