/**
 * An in-process DynamoDB (dynalite) on a free loopback port, with the tables of
 * lambdas/adapters/aws/dynamodb/tables.ts created under names unique to the instance.
 */

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createTableInput,
  DYNAMO_TABLES,
  type DynamoTableKey,
  type DynamoTableNames,
} from '../../lambdas/adapters/aws/dynamodb/tables.js';

interface DynaliteServer {
  listen(port: number, host: string, cb: (err?: Error) => void): void;
  close(cb: (err?: Error) => void): void;
  address(): AddressInfo;
}

// dynalite is CommonJS without type declarations.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: Record<string, number>) => DynaliteServer;

export interface Dynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Creates every table anew under fresh names, so a test starts from empty tables. */
  freshTables(): Promise<DynamoTableNames>;
  stop(): Promise<void>;
}

/** Clients built as the composition root builds them, pointed at the emulator. */
export function dynamoClients(endpoint: string): { client: DynamoDBClient; doc: DynamoDBDocumentClient } {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, doc };
}

export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  const { client, doc } = dynamoClients(endpoint);
  let generation = 0;
  const freshTables = async (): Promise<DynamoTableNames> => {
    const keys = Object.keys(DYNAMO_TABLES) as DynamoTableKey[];
    const prefix = `t${++generation}`;
    const tables = Object.fromEntries(keys.map((k) => [k, `${prefix}-${k}`])) as Record<DynamoTableKey, string>;
    await Promise.all(
      keys.map(async (k) => {
        await client.send(new CreateTableCommand(createTableInput(k, tables[k])));
        await waitUntilTableExists(
          { client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.05 },
          { TableName: tables[k] },
        );
      }),
    );
    return tables;
  };
  return {
    endpoint,
    client,
    doc,
    freshTables,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
