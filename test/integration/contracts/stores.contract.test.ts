/**
 * The store ports' contract suites, each run against every adapter of the port: SQLite (the
 * local server), DynamoDB on dynalite (AWS), and the in-memory fakes the use-case tests use (so
 * a fake cannot drift from the real stores unnoticed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DynamoAdCatalogue } from '../../../lambdas/adapters/aws/dynamodb/ad-catalogue.js';
import { DynamoExperimentStore } from '../../../lambdas/adapters/aws/dynamodb/experiment-store.js';
import { DynamoModelRegistry } from '../../../lambdas/adapters/aws/dynamodb/model-registry.js';
import { DynamoPredictionLog } from '../../../lambdas/adapters/aws/dynamodb/prediction-log.js';
import { SqliteAdCatalogue } from '../../../lambdas/adapters/local/sqlite/ad-catalogue.js';
import { openDatabase, type Sqlite } from '../../../lambdas/adapters/local/sqlite/database.js';
import { SqliteExperimentStore } from '../../../lambdas/adapters/local/sqlite/experiment-store.js';
import { SqliteModelRegistry } from '../../../lambdas/adapters/local/sqlite/model-registry.js';
import { SqlitePredictionLog } from '../../../lambdas/adapters/local/sqlite/prediction-log.js';
import { type Dynalite, startDynalite } from '../../support/dynalite.js';
import {
  MemoryAdCatalogue,
  MemoryExperimentStore,
  MemoryModelRegistry,
  MemoryPredictionLog,
} from '../../support/memory-ports.js';
import { describeAdCatalogueContract } from './ad-catalogue.contract.js';
import { describeExperimentStoreContract } from './experiment-store.contract.js';
import { describeModelRegistryContract } from './model-registry.contract.js';
import { describePredictionLogContract } from './prediction-log.contract.js';

let dynalite: Dynalite;
const dir = mkdtempSync(join(tmpdir(), 'adclick-contracts-'));
const databases: Sqlite[] = [];
let opened = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(async () => {
  await dynalite?.stop();
  for (const db of databases) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh SQLite database file per test: the local server's stores start from empty too. */
function sqlite(): Sqlite {
  const db = openDatabase(join(dir, `db-${++opened}.sqlite`));
  databases.push(db);
  return db;
}

describePredictionLogContract('SQLite', async () => new SqlitePredictionLog(sqlite()));
describePredictionLogContract(
  'DynamoDB',
  async () => new DynamoPredictionLog(dynalite.doc, (await dynalite.freshTables()).predictions),
);
describePredictionLogContract('in-memory fake', async () => new MemoryPredictionLog());

describeAdCatalogueContract('SQLite', async () => new SqliteAdCatalogue(sqlite()));
describeAdCatalogueContract(
  'DynamoDB',
  async () => new DynamoAdCatalogue(dynalite.doc, (await dynalite.freshTables()).ads),
);
describeAdCatalogueContract('in-memory fake', async () => new MemoryAdCatalogue());

describeModelRegistryContract('SQLite', async () => new SqliteModelRegistry(sqlite()));
describeModelRegistryContract(
  'DynamoDB',
  async () => new DynamoModelRegistry(dynalite.doc, (await dynalite.freshTables()).models),
);
describeModelRegistryContract('in-memory fake', async () => new MemoryModelRegistry());

describeExperimentStoreContract('SQLite', async () => {
  const db = sqlite();
  return {
    store: new SqliteExperimentStore(db),
    seed: async (experiments) => {
      const insert = db.prepare(
        'INSERT INTO experiments (experiment_id, status, record, created_at) VALUES (?, ?, ?, ?)',
      );
      for (const e of experiments) insert.run(e.experiment_id, e.status, JSON.stringify(e), e.created_at);
    },
  };
});
describeExperimentStoreContract('DynamoDB', async () => {
  const store = new DynamoExperimentStore(dynalite.doc, (await dynalite.freshTables()).experiments);
  return {
    store,
    seed: async (experiments) => {
      for (const e of experiments) await store.put(e);
    },
  };
});
describeExperimentStoreContract('in-memory fake', async () => {
  const store = new MemoryExperimentStore();
  return { store, seed: async (experiments) => store.set([...experiments]) };
});
