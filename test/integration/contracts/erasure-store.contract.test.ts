import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTableInputOf, ERASURES_TABLE } from '../../../lambdas/adapters/aws/dynamodb/tables.js';
import { DynamoErasureStore } from '../../../lambdas/adapters/aws/erasure/dynamo-erasure-store.js';
import { openDatabase, type Sqlite } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqliteErasureStore } from '../../../lambdas/adapters/local/sqlite/erasure-store.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import { MemoryErasureStore } from '../../support/memory-ports.js';
import { describeErasureStoreContract } from './erasure-store.contract.js';

let dynamo: Dynalite;
let generation = 0;
const databases: Sqlite[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  for (const db of databases) db.close();
  await dynamo?.stop();
});

describeErasureStoreContract("memory (the unit tests' port)", async () => new MemoryErasureStore());

describeErasureStoreContract('SQLite', async () => {
  const db = openDatabase(':memory:');
  databases.push(db);
  return new SqliteErasureStore(db);
});

describeErasureStoreContract('DynamoDB (dynalite)', async () => {
  const name = `erasures-${++generation}`;
  await dynamo.client.send(new CreateTableCommand(createTableInputOf(ERASURES_TABLE, name)));
  await waitUntilTableExists(
    { client: dynamo.client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.05 },
    { TableName: name },
  );
  return new DynamoErasureStore(dynamo.doc, name);
});
