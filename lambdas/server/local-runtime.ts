import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { LocalArtifactStore } from '../adapters/local/artifact-store.js';
import { DuckDbAnalytics } from '../adapters/local/duckdb/duckdb-analytics.js';
import { LakeDatabase } from '../adapters/local/duckdb/lake-database.js';
import { DuckDbLakeEraser } from '../adapters/local/duckdb/lake-eraser.js';
import {
  HoldoutFileEraser,
  InFlightFlush,
  MemoryFeatureStoreEraser,
  SqlitePredictionLogEraser,
} from '../adapters/local/erasure/local-erasers.js';
import { DurableEventLog } from '../adapters/local/event-log/durable-event-log.js';
import { HOLDOUT_FILE, LocalHoldoutEvaluator } from '../adapters/local/holdout-evaluator.js';
import { systemClock, TimeOrderedIds } from '../adapters/local/ids.js';
import { jsonLogger } from '../adapters/local/logger.js';
import { MemoryFeatureStore } from '../adapters/local/memory-feature-store.js';
import { InProcessModelEndpoint } from '../adapters/local/model-endpoint.js';
import { PredictionExporter } from '../adapters/local/prediction-exporter.js';
import { loadOrCreateKey } from '../adapters/local/pseudonymiser.js';
import { SqliteAdCatalogue } from '../adapters/local/sqlite/ad-catalogue.js';
import { openDatabase, openPredictionWriter, startCheckpointer } from '../adapters/local/sqlite/database.js';
import { SqliteErasureStore } from '../adapters/local/sqlite/erasure-store.js';
import { SqliteExperimentStore } from '../adapters/local/sqlite/experiment-store.js';
import { SqliteModelRegistry } from '../adapters/local/sqlite/model-registry.js';
import { SqlitePredictionLog } from '../adapters/local/sqlite/prediction-log.js';
import { HmacPseudonymiser } from '../adapters/shared/pseudonymiser.js';
import { Router } from '../core/api/dispatch.js';
import { openApiDocument } from '../core/api/openapi.js';
import { MAX_ARTIFACT_BYTES, ROUTES } from '../core/api/routes.js';
import { type App, createApp } from '../core/app.js';
import { RuleFraudDetector } from '../core/fraud/detector.js';
import type { Logger } from '../core/ports.js';
import { DEFAULT_CORE_CONFIG, type Deps } from '../core/usecases/deps.js';
import { scheduleDriftChecks } from '../core/usecases/drift.js';
import { VERSION } from '../core/version.js';
import { AccessControl } from './access.js';
import { resolveAdminToken } from './admin-token.js';
import { ensureBootstrapModel } from './bootstrap.js';
import type { LocalConfig } from './config.js';
import { dashboardDocuments, loadDashboard } from './dashboard-assets.js';
import { createHttpServer, listen } from './http-server.js';
import { startLakeMaintenance } from './lake-maintenance.js';
import { landingPage } from './landing.js';
import { startPredictionLogExpiry } from './prediction-log-expiry.js';
import { type RetrainSchedule, startRetrainSchedule } from './retrain-schedule.js';

/** How long requests in flight get to finish at shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How often the prediction log is exported to the lake (one Parquet file per partition each time). */
const PREDICTION_EXPORT_INTERVAL_MS = 5_000;
/** How often loaded models are checked for idleness (InProcessModelEndpoint drops those idle 30 min). */
const MODEL_EVICTION_INTERVAL_MS = 60_000;

export interface LocalRuntime {
  readonly app: App;
  readonly url: string;
  readonly dataDir: string;
  readonly adminToken: string;
  /** The token was created at this start and printed with its sign-in link. */
  readonly adminTokenShown: boolean;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * The dashboard at `url`, signed in: the page moves the token from the fragment (which browsers
 * never send to a server) into its session storage and drops it from the address bar.
 */
export function signInLink(url: string, token: string): string {
  return `${url}/#token=${encodeURIComponent(token)}`;
}

/**
 * The composition root of the local runtime: builds every local adapter once, wires the use
 * cases, makes sure a model is active, and serves the shared route table over HTTP.
 */
export async function startLocal(
  config: LocalConfig,
  logger: Logger = jsonLogger('adclick', config.ADCLICK_LOG_LEVEL),
): Promise<LocalRuntime> {
  const dataDir = resolve(config.ADCLICK_DATA_DIR);
  // Bundled meanwhile when run from the sources; without it `/` stays the landing page.
  const dashboard = loadDashboard().catch((err: Error) => {
    logger.warn('dashboard unavailable; serving the landing page at /', { error: err.message });
    return null;
  });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const dbFile = join(dataDir, 'adclick.sqlite');
  const db = openDatabase(dbFile);
  const checkpointer = await startCheckpointer(dbFile, logger);
  const events = await DurableEventLog.open({
    dir: join(dataDir, 'events'),
    lakeDir: join(dataDir, 'lake'),
    logger,
    // Compaction holds a segment's rows in memory several times over: smaller segments keep
    // the server's memory bounded under bursts, at the cost of more (small) Parquet files.
    maxSegmentBytes: 8 * 1024 * 1024,
    dedupMaxIds: 2_000_000,
  });
  // Inserts on a connection of their own that never waits for a lock: the checkpoint thread's log
  // restarts then delay the pending group's commit, not the event loop (database.ts).
  const predictionWriter = openPredictionWriter(dbFile);
  const predictions = new SqlitePredictionLog(db, { writer: predictionWriter });
  // Analytics read the lake with DuckDB (one thread: the predict path owns the machine); large
  // queries spill under the data dir rather than into the working directory. Opened at the first
  // analytics request, so a server that only predicts does not carry DuckDB's memory.
  const lake = LakeDatabase.lazy({ lakeDir: join(dataDir, 'lake'), tempDirectory: join(dataDir, 'duckdb-tmp') });
  const ping = db.prepare('SELECT 1');
  const features = new MemoryFeatureStore();
  // The lake's rewrites (erasures, after their 202, and the merging of small files) run one at a
  // time, so they never work on the same files; close() waits for the one running.
  let lakeWork: Promise<void> = Promise.resolve();
  const scheduleLakeWork = (run: () => Promise<void>, failure: string) => {
    lakeWork = lakeWork.then(run).catch((err: unknown) => logger.error(failure, { error: String(err) }));
  };
  const scheduleErasure = (run: () => Promise<void>) =>
    scheduleLakeWork(run, 'erasure could not run; it is resumed at the next start');
  let baseUrl = `http://${config.HOST}:${config.PORT}`;
  const endpoint = new InProcessModelEndpoint();
  const deps: Deps = {
    model: endpoint,
    deployment: endpoint,
    features,
    predictions,
    events,
    fraud: new RuleFraudDetector(),
    ads: new SqliteAdCatalogue(db),
    models: new SqliteModelRegistry(db),
    experiments: new SqliteExperimentStore(db),
    artifacts: new LocalArtifactStore(join(dataDir, 'models'), () => baseUrl, MAX_ARTIFACT_BYTES),
    holdout: new LocalHoldoutEvaluator(join(dataDir, 'holdout')),
    analytics: new DuckDbAnalytics(lake),
    pseudonymiser: new HmacPseudonymiser(loadOrCreateKey(join(dataDir, 'pseudonymisation.key'))),
    // DELETE /users/{user_id}: data in flight first, then each store (docs/decisions.md "Erasure").
    erasure: {
      store: new SqliteErasureStore(db),
      erasers: [
        new InFlightFlush(events, { flush: () => exporter.flush() }),
        new SqlitePredictionLogEraser(db, predictions),
        new MemoryFeatureStoreEraser(features),
        new DuckDbLakeEraser(lake),
        new HoldoutFileEraser(join(dataDir, 'holdout', HOLDOUT_FILE)),
      ],
      schedule: scheduleErasure,
    },
    clock: systemClock,
    ids: new TimeOrderedIds(systemClock),
    logger,
    health: [
      { name: 'sqlite', check: async () => (ping.get() ? { status: 'ok' } : { status: 'down' }) },
      {
        name: 'event-log',
        check: async () => {
          const s = events.stats();
          const detail = `${s.pendingRows} rows waiting for fsync, ${s.sealedSegments} segments to compact, ${s.compactionErrors} compaction errors`;
          // Failing compaction keeps events safe in segments but out of the lake: degraded, not down.
          return { status: s.compactionErrors > 0 && s.sealedSegments > 0 ? 'degraded' : 'ok', detail };
        },
      },
    ],
    config: {
      ...DEFAULT_CORE_CONFIG,
      exploration: {
        budget: config.ADCLICK_EXPLORATION_BUDGET,
        kappa: config.ADCLICK_EXPLORATION_KAPPA,
        minEvidence: config.ADCLICK_EXPLORATION_MIN_EVIDENCE,
      },
    },
  };
  const app = createApp(deps);
  await ensureBootstrapModel(app, join(dataDir, 'holdout'), config.ADCLICK_BOOTSTRAP_ROWS, logger);
  // Loaded before the server listens: the first requests must not wait for the model. A model
  // that cannot load is logged, not fatal: the admin routes must stay up to activate another.
  try {
    const serving = await app.models.prepareServing();
    logger.info('models loaded', { model_ids: serving.map((m) => m.model_id) });
  } catch (err) {
    logger.error(
      'a model in service could not be loaded; requests routed to it answer 503 until another is activated',
      {
        error: (err as Error).message,
      },
    );
  }
  const eviction = setInterval(() => {
    const dropped = endpoint.evictIdle();
    if (dropped.length > 0) logger.info('idle models unloaded', { model_ids: dropped });
  }, MODEL_EVICTION_INTERVAL_MS);
  eviction.unref();
  const drift =
    config.ADCLICK_DRIFT_CHECK_MINUTES > 0
      ? scheduleDriftChecks(
          app.driftMonitor({
            windowMs: config.ADCLICK_DRIFT_WINDOW_HOURS * 3_600_000,
            minImpressions: config.ADCLICK_DRIFT_MIN_IMPRESSIONS,
            minClicks: config.ADCLICK_DRIFT_MIN_CLICKS,
          }),
          config.ADCLICK_DRIFT_CHECK_MINUTES * 60_000,
          logger,
        )
      : undefined;

  const exporter = new PredictionExporter(db, dbFile, events, logger);
  exporter.start(PREDICTION_EXPORT_INTERVAL_MS);
  const maintenance = await startLakeMaintenance({
    dataDir,
    events,
    lake,
    logger,
    compactionMinutes: config.ADCLICK_LAKE_COMPACTION_MINUTES,
    // A retrain reads the lake from its own process: its inputs must not vanish under it.
    paused: () => retrain?.busy === true,
    schedule: scheduleLakeWork,
  });
  // Erasures a stop or a crash interrupted run again from where their receipt says they were.
  await app.erasures.resume();
  const expiry = startPredictionLogExpiry({
    log: predictions,
    exportedThrough: () => exporter.exportedThrough(),
    retentionDays: config.ADCLICK_PREDICTION_LOG_DAYS,
    logger,
  });

  const admin = resolveAdminToken(config.ADCLICK_ADMIN_TOKEN, join(dataDir, 'admin-token'));
  const http = createHttpServer({
    app,
    router: new Router(ROUTES),
    access: new AccessControl({ apiKeys: config.ADCLICK_API_KEYS, adminToken: admin.token }),
    logger,
    openApiJson: JSON.stringify(openApiDocument(ROUTES, VERSION)),
    landingHtml: landingPage(VERSION),
    documents: await dashboard.then((bundle) => (bundle ? dashboardDocuments(bundle, { auth: 'bearer' }) : undefined)),
  });
  const { server } = http;
  const address = await listen(server, config.PORT, config.HOST);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  if (admin.created) {
    process.stderr.write(
      `\nAdmin token (shown once, also in ${join(dataDir, 'admin-token')}):\n  ${admin.token}\n` +
        `Dashboard sign-in link (keep it private):\n  ${signInLink(baseUrl, admin.token)}\n\n`,
    );
  }

  const retrain: RetrainSchedule | null =
    config.ADCLICK_RETRAIN_INTERVAL_MINUTES > 0
      ? startRetrainSchedule({
          minutes: config.ADCLICK_RETRAIN_INTERVAL_MINUTES,
          activate: config.ADCLICK_RETRAIN_ACTIVATE,
          warmStart: config.ADCLICK_RETRAIN_WARM_START,
          url: baseUrl,
          dataDir,
          adminToken: admin.token,
          logger,
        })
      : null;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await retrain?.stop();
      await http.shutdown(SHUTDOWN_GRACE_MS);
      await expiry.stop();
      clearInterval(eviction);
      await drift?.stop();
      maintenance.stop();
      await lakeWork;
      await exporter.stop();
      await events.close();
      lake.close();
      await checkpointer.stop();
      predictionWriter.close();
      db.close();
    })();
    return closing;
  };
  return { app, url: baseUrl, dataDir, adminToken: admin.token, adminTokenShown: admin.created, server, close };
}
