/**
 * Durable ingest: events/s acknowledged through POST /event/batch (500 impressions a request)
 * and POST /event/impression (one a request), each against bench/durable-baseline-server.ts
 * (read, JSON.parse, append, fdatasync with group commit) measured in the same run.
 *
 * Every id is unique (run tag, phase, wrk thread, request counter, index), so every event must be
 * written. After the run the adclick server is stopped with SIGTERM (it flushes the log and
 * compacts it into the lake) and the rows of the run are counted in
 * `<data>/lake/ad_impressions/**\/*.parquet` with DuckDB: acknowledged vs in-lake.
 *
 * Each server runs alone (a fresh one per route, so that one route's compaction backlog does not
 * load the other's run), pinned to core 0; wrk runs pinned to core 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Target } from './predict-http.js';
import { formatProfile, type ProfileSummary, summariseProfile } from './profile-summary.js';
import {
  ADCLICK_NODE_FLAGS,
  fmtInt,
  fmtMb,
  fmtMs,
  fmtRatio,
  leastDisturbed,
  log,
  type PinnedProcess,
  ratio,
  runWrk,
  SERVER_CORE,
  startPinned,
  table,
  verdict,
  type WrkResult,
  waitQuiet,
  watchCore,
} from './support.js';

export interface IngestBenchOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly bootstrapRows: number;
  readonly batchSize: number;
  readonly cpuProfDir?: string;
  readonly keepData: boolean;
  readonly quietWaitS: number;
  /** Measure again (at most this many times) when other processes disturbed a run. */
  readonly retries: number;
  /** Distinct IPs in the events: 0 leaves the ip field out, -1 draws a random 10.x.y.z each time. */
  readonly ipPool: number;
}

export type IngestRoute = 'batch' | 'single';

export interface IngestServerFigures {
  readonly wrk: WrkResult;
  /** Events the server reported accepted during the measured run, per second. */
  readonly eventsPerS: number;
  readonly rssPeakMb: number;
  readonly rssHwmMb: number;
  readonly otherLoad: number;
  readonly serverLoad: number;
  /** Interference (other processes' share of the worse core) of each attempt; the least disturbed was kept. */
  readonly attempts: number[];
  /** Events acknowledged as accepted over warm-up and measured run. */
  readonly acknowledged: number;
  /** Events wrk generated over warm-up and measured run (the last requests of each may not have been answered). */
  readonly sent: number;
}

export interface LakeCheck {
  /** What GET /health said about the event log just before SIGTERM. */
  readonly healthBeforeStop: string;
  readonly shutdownMs: number;
  /** Peak sampled VmRSS between SIGTERM and exit (flush and compaction of what is left). */
  readonly shutdownRssPeakMb: number;
  readonly exit: string;
  readonly acknowledged: number;
  readonly sent: number;
  readonly duplicatesReported: number;
  readonly inLake: number;
  readonly distinctInLake: number;
}

export interface IngestRouteResult {
  readonly route: IngestRoute;
  readonly path: string;
  readonly eventsPerRequest: number;
  readonly ours: IngestServerFigures;
  readonly baseline: IngestServerFigures;
  readonly ratio: number;
  readonly lake: LakeCheck;
  readonly profile?: { readonly file: string; readonly summary: ProfileSummary };
}

export interface IngestBenchResult {
  readonly routes: IngestRouteResult[];
  readonly targets: Target[];
}

async function load(
  server: PinnedProcess,
  url: string,
  route: IngestRoute,
  tag: string,
  o: IngestBenchOptions,
): Promise<IngestServerFigures> {
  const per = route === 'batch' ? o.batchSize : 1;
  // Ids are `${tag}-${phase}-${thread}-${request}-${index}`: unique across phases and attempts.
  const args = (phase: string) => [`${tag}-${phase}`, route, String(per), '10000', '200', String(o.ipPool)];
  let acknowledged = 0;
  let sent = 0;
  const count = (w: WrkResult) => {
    acknowledged += w.counters.accepted ?? 0;
    sent += w.counters.sent ?? 0;
  };
  await waitQuiet(o.quietWaitS);
  log(`  ${server.name}: warm-up ${o.warmupS} s (wrk)`);
  count(
    await runWrk({
      url,
      script: 'events.lua',
      scriptArgs: args('w'),
      connections: o.connections,
      durationS: o.warmupS,
    }),
  );
  let attempt = 0;
  const run = await leastDisturbed(
    `${server.name} wrk`,
    async () => {
      log(`  ${server.name}: wrk ${o.durationS} s, ${o.connections} connections`);
      const watch = watchCore(SERVER_CORE, server.pid);
      const wrk = await runWrk({
        url,
        script: 'events.lua',
        scriptArgs: args(`m${attempt++}`),
        connections: o.connections,
        durationS: o.durationS,
      });
      count(wrk);
      return { wrk, cpu: watch() };
    },
    (r) => Math.max(r.cpu.otherLoad, r.wrk.otherLoadCore1),
    { retries: o.retries, quietWaitS: o.quietWaitS },
  );
  const { wrk, cpu } = run.best;
  return {
    wrk,
    eventsPerS: (wrk.counters.accepted ?? 0) / wrk.durationS,
    rssPeakMb: server.rss.peakMb(wrk.startedAt, wrk.endedAt),
    rssHwmMb: 0,
    otherLoad: cpu.otherLoad,
    serverLoad: cpu.serverLoad,
    attempts: run.interference,
    acknowledged,
    sent,
  };
}

async function countLake(lakeDir: string, tag: string): Promise<{ rows: number; distinct: number }> {
  const dir = join(lakeDir, 'ad_impressions');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT CAST(count(*) AS INTEGER) AS n, CAST(count(DISTINCT impression_id) AS INTEGER) AS d
       FROM read_parquet('${dir.replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true)
       WHERE starts_with(impression_id, '${tag}-')`,
    );
    const row = reader.getRowObjectsJS()[0] as { n: number; d: number } | undefined;
    return { rows: row?.n ?? 0, distinct: row?.d ?? 0 };
  } catch (err) {
    if (/no files found/i.test(String(err))) return { rows: 0, distinct: 0 };
    throw err;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function runRoute(route: IngestRoute, o: IngestBenchOptions): Promise<IngestRouteResult> {
  const path = route === 'batch' ? '/event/batch' : '/event/impression';
  const per = route === 'batch' ? o.batchSize : 1;
  const tag = `b${randomBytes(4).toString('hex')}${route === 'batch' ? 'B' : 'S'}`;
  const ips = o.ipPool < 0 ? 'a random ip each' : o.ipPool === 0 ? 'no ip' : `ip from a pool of ${o.ipPool}`;
  log(`\n== POST ${path} (${per} event${per === 1 ? '' : 's'} a request, ${ips}, ids ${tag}-*) ==`);

  // ---- baseline
  const baseDir = mkdtempSync(join(tmpdir(), 'adclick-bench-baseline-'));
  log(`  starting durable-baseline-server (file in ${baseDir}), pinned to core ${SERVER_CORE}`);
  const base = await startPinned({
    name: 'durable-baseline',
    script: 'bench/durable-baseline-server.ts',
    args: ['--dir', baseDir],
    core: SERVER_CORE,
  });
  let baseline: IngestServerFigures;
  try {
    baseline = await load(base, `${base.url}${path}`, route, `${tag}x`, o);
  } finally {
    await base.stop();
    rmSync(baseDir, { recursive: true, force: true });
  }
  baseline = { ...baseline, rssHwmMb: base.rss.hwmMb };

  // ---- ours
  const dataDir = mkdtempSync(join(tmpdir(), 'adclick-bench-ingest-'));
  const profDir = o.cpuProfDir ? join(o.cpuProfDir, `ingest-${route}`) : undefined;
  log(`  starting adclick (data ${dataDir}), pinned to core ${SERVER_CORE}`);
  const ours = await startPinned({
    name: 'adclick',
    script: 'dist/bin/adclick.js',
    args: ['serve'],
    nodeArgs: [...ADCLICK_NODE_FLAGS, ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])],
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      ADCLICK_DATA_DIR: dataDir,
      ADCLICK_LOG_LEVEL: 'silent',
      ADCLICK_BOOTSTRAP_ROWS: String(o.bootstrapRows),
    },
    core: SERVER_CORE,
  });
  let figures: IngestServerFigures | undefined;
  let health = '';
  let stopped: Awaited<ReturnType<PinnedProcess['stop']>> | undefined;
  let lake = { rows: 0, distinct: 0 };
  let profile: IngestRouteResult['profile'];
  try {
    log(`  adclick pid ${ours.pid} at ${ours.url}`);
    figures = await load(ours, `${ours.url}${path}`, route, tag, o);
    try {
      const h = (await (await fetch(`${ours.url}/health`)).json()) as {
        dependencies?: Record<string, { detail?: string }>;
      };
      health = h.dependencies?.['event-log']?.detail ?? JSON.stringify(h);
    } catch (err) {
      health = `GET /health failed: ${String(err)}`;
    }
  } finally {
    log('  adclick: SIGTERM (flush + compaction into the lake)...');
    stopped = await ours.stop();
    log(`  adclick exited (${stopped.code ?? stopped.signal}) after ${(stopped.ms / 1000).toFixed(1)} s`);
    if (figures) lake = await countLake(join(dataDir, 'lake'), tag);
    if (profDir && figures) {
      const file = readdirSync(profDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(profDir, f))
        .find((f) => f.includes(`.${ours.pid}.0.`));
      if (file) {
        const w = figures.wrk;
        profile = {
          file,
          summary: summariseProfile(file, 20, [stopped.exitedAt - w.startedAt, stopped.exitedAt - w.endedAt]),
        };
      }
    }
    if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
  const oursAll: IngestServerFigures = { ...figures, rssHwmMb: ours.rss.hwmMb };
  const result: IngestRouteResult = {
    route,
    path,
    eventsPerRequest: per,
    ours: oursAll,
    baseline,
    ratio: ratio(oursAll.eventsPerS, baseline.eventsPerS),
    lake: {
      healthBeforeStop: health,
      shutdownMs: stopped.ms,
      shutdownRssPeakMb: ours.rss.peakMb(stopped.exitedAt - stopped.ms, stopped.exitedAt),
      exit: String(stopped.code ?? stopped.signal),
      acknowledged: oursAll.acknowledged,
      sent: oursAll.sent,
      duplicatesReported: oursAll.wrk.counters.duplicate ?? 0,
      inLake: lake.rows,
      distinctInLake: lake.distinct,
    },
  };
  if (profile) Object.assign(result, { profile });
  printRoute(result, o);
  return result;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function lakeOk(l: LakeCheck): boolean {
  return l.acknowledged <= l.inLake && l.inLake <= l.sent && l.distinctInLake === l.inLake;
}

function printRoute(r: IngestRouteResult, o: IngestBenchOptions): void {
  const { ours, baseline } = r;
  const errs = (w: WrkResult) => w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout;
  const isBatch = r.route === 'batch';
  log(
    `\nPOST ${r.path}: wrk, 1 thread, ${o.connections} connections, ${o.durationS} s after ${o.warmupS} s warm-up, ` +
      `${r.eventsPerRequest} event(s) a request`,
  );
  log(
    table(
      ['', 'adclick', 'durable-baseline', 'ratio (ours/baseline)', 'target'],
      [
        [
          'durable events/s',
          fmtInt(ours.eventsPerS),
          fmtInt(baseline.eventsPerS),
          fmtRatio(r.ratio),
          isBatch ? `≥ 100,000 ${verdict(ours.eventsPerS >= 100_000)}` : '',
        ],
        [
          'requests/s',
          fmtInt(ours.wrk.rps),
          fmtInt(baseline.wrk.rps),
          fmtRatio(ratio(ours.wrk.rps, baseline.wrk.rps)),
          '',
        ],
        [
          'p50',
          fmtMs(ours.wrk.latencyMs.p50),
          fmtMs(baseline.wrk.latencyMs.p50),
          fmtRatio(ratio(ours.wrk.latencyMs.p50, baseline.wrk.latencyMs.p50)),
          '',
        ],
        [
          'p99',
          fmtMs(ours.wrk.latencyMs.p99),
          fmtMs(baseline.wrk.latencyMs.p99),
          fmtRatio(ratio(ours.wrk.latencyMs.p99, baseline.wrk.latencyMs.p99)),
          '',
        ],
        [
          'peak RSS during the run',
          fmtMb(ours.rssPeakMb),
          fmtMb(baseline.rssPeakMb),
          fmtRatio(ratio(ours.rssPeakMb, baseline.rssPeakMb)),
          `≤ 300 MB ${verdict(ours.rssPeakMb <= 300)}`,
        ],
        ['VmHWM (lifetime, incl. start-up, shutdown)', fmtMb(ours.rssHwmMb), fmtMb(baseline.rssHwmMb), '', ''],
        [
          'events accepted / duplicate / rejected',
          `${fmtInt(ours.wrk.counters.accepted ?? 0)} / ${fmtInt(ours.wrk.counters.duplicate ?? 0)} / ${fmtInt(ours.wrk.counters.rejected ?? 0)}`,
          `${fmtInt(baseline.wrk.counters.accepted ?? 0)} / 0 / 0`,
          '',
          '',
        ],
        [
          'errors (socket + non-2xx)',
          fmtInt(errs(ours.wrk) + (ours.wrk.counters.non2xx ?? 0)),
          fmtInt(errs(baseline.wrk) + (baseline.wrk.counters.non2xx ?? 0)),
          '',
          '',
        ],
        [
          'server CPU (share of core 0)',
          `${(ours.serverLoad * 100).toFixed(0)}%`,
          `${(baseline.serverLoad * 100).toFixed(0)}%`,
          '',
          '',
        ],
        ['wrk CPU (share of core 1)', pct(ours.wrk.loadgenCpu), pct(baseline.wrk.loadgenCpu), '', ''],
        [
          'other load on core 0 / core 1',
          `${pct(ours.otherLoad)} / ${pct(ours.wrk.otherLoadCore1)}`,
          `${pct(baseline.otherLoad)} / ${pct(baseline.wrk.otherLoadCore1)}`,
          '',
          '',
        ],
        [
          'attempts (other load of each)',
          `${ours.attempts.length} (${ours.attempts.map(pct).join(', ')})`,
          `${baseline.attempts.length} (${baseline.attempts.map(pct).join(', ')})`,
          '',
          '',
        ],
      ],
    ),
  );
  const l = r.lake;
  log(
    `\nadclick lake check: acknowledged ${fmtInt(l.acknowledged)} ≤ in lake ${fmtInt(l.inLake)} ` +
      `(${fmtInt(l.distinctInLake)} distinct ids) ≤ sent ${fmtInt(l.sent)} (warm-up + run) → ` +
      `${lakeOk(l) ? 'every acknowledged event is in the lake, once' : 'MISMATCH'}`,
  );
  if (l.inLake > l.acknowledged) {
    log(
      `  the ${fmtInt(l.inLake - l.acknowledged)} in the lake but not acknowledged were in flight when wrk stopped: ` +
        'made durable, their answers never read',
    );
  }
  log(
    `  shutdown (SIGTERM → exit ${l.exit}) took ${(l.shutdownMs / 1000).toFixed(1)} s, peak RSS meanwhile ` +
      `${fmtMb(l.shutdownRssPeakMb)}; event log just before: ${l.healthBeforeStop}`,
  );
  if (r.profile) log(`\nadclick CPU profile during the run (${r.profile.file}):\n${formatProfile(r.profile.summary)}`);
}

export async function runIngestBench(o: IngestBenchOptions): Promise<IngestBenchResult> {
  const routes = [await runRoute('batch', o), await runRoute('single', o)];
  const batch = routes[0]!;
  const targets: Target[] = [
    {
      name: '/event/batch durable events/s (1 core)',
      value: fmtInt(batch.ours.eventsPerS),
      target: '≥ 100,000',
      met: batch.ours.eventsPerS >= 100_000,
    },
    ...routes.map((r) => ({
      name: `${r.path} server peak RSS`,
      value: fmtMb(r.ours.rssPeakMb),
      target: '≤ 300 MB',
      met: r.ours.rssPeakMb <= 300,
    })),
    ...routes.map((r) => ({
      name: `${r.path} acknowledged events in lake`,
      value: `${fmtInt(r.lake.inLake)} in lake / ${fmtInt(r.lake.acknowledged)} acked`,
      target: 'all, once',
      met: lakeOk(r.lake),
    })),
  ];
  return { routes, targets };
}
