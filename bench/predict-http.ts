/**
 * POST /predict over HTTP, against a hello-world node:http baseline measured in the same run.
 *
 * 1. Closed loop (wrk, N keep-alive connections): the most requests/s each server answers,
 *    with p50/p99 under that saturation, and the server's peak RSS.
 * 2. Open loop at half the /predict throughput just measured (bench/paced-load.ts): latency
 *    from the scheduled send time, p50/p99/p99.9, for /predict and for hello at the same rate.
 *
 * Each server runs alone, pinned to core 0; wrk and paced-load run pinned to core 1.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProfile, type ProfileSummary, summariseProfile } from './profile-summary.js';
import {
  ADCLICK_NODE_FLAGS,
  fmtInt,
  fmtMb,
  fmtMs,
  fmtRatio,
  leastDisturbed,
  log,
  type PacedResult,
  type PinnedProcess,
  ratio,
  runPaced,
  runWrk,
  SERVER_CORE,
  startPinned,
  table,
  verdict,
  type WrkResult,
  waitQuiet,
  watchCore,
} from './support.js';

export interface PredictBenchOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  readonly bootstrapRows: number;
  readonly users: number;
  readonly ads: number;
  /** Where to write the server's CPU profile (none when undefined). */
  readonly cpuProfDir?: string;
  readonly keepData: boolean;
  /** Wait up to this long for the machine to be idle before each measurement. */
  readonly quietWaitS: number;
  /** Measure again (at most this many times) when other processes disturbed a run. */
  readonly retries: number;
}

export interface ServerFigures {
  readonly wrk: WrkResult;
  readonly paced: PacedResult;
  /** Peak sampled VmRSS during the wrk and paced runs. */
  readonly rssPeakMb: number;
  /** VmHWM at exit: lifetime peak, start-up (bootstrap training) included. */
  readonly rssHwmMb: number;
  /** Share of core 0 that other processes used during the wrk run (0..1). */
  readonly otherLoadWrk: number;
  readonly otherLoadPaced: number;
  /** Share of core 0 the server itself used during the wrk run. */
  readonly serverLoadWrk: number;
  /** Interference (other processes' share of the worse core) of each attempt; the least disturbed was kept. */
  readonly attemptsWrk: number[];
  readonly attemptsPaced: number[];
}

export interface Target {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly met: boolean;
}

export interface PredictBenchResult {
  readonly responseBytes: number;
  readonly halfRate: number;
  readonly ours: ServerFigures;
  readonly hello: ServerFigures;
  readonly ratios: {
    readonly rps: number;
    readonly p50: number;
    readonly p99: number;
    readonly pacedP50: number;
    readonly pacedP99: number;
    readonly pacedP999: number;
  };
  readonly targets: Target[];
  /** adclick's CPU profile, over the wrk run (saturated) and over the paced run (half load). */
  readonly profile?: { readonly file: string; readonly saturated: ProfileSummary; readonly halfLoad: ProfileSummary };
}

async function measure(
  server: PinnedProcess,
  url: string,
  o: PredictBenchOptions,
  rateFor: (wrk: WrkResult) => number,
): Promise<Omit<ServerFigures, 'rssHwmMb'>> {
  const scriptArgs = [String(o.users), String(o.ads)];
  const retry = { retries: o.retries, quietWaitS: o.quietWaitS };
  await waitQuiet(o.quietWaitS);
  log(`  ${server.name}: warm-up ${o.warmupS} s (wrk)`);
  await runWrk({ url, script: 'predict.lua', scriptArgs, connections: o.connections, durationS: o.warmupS });
  const from = Date.now();
  const closed = await leastDisturbed(
    `${server.name} wrk`,
    async () => {
      log(`  ${server.name}: wrk ${o.durationS} s, ${o.connections} connections`);
      const watch = watchCore(SERVER_CORE, server.pid);
      const wrk = await runWrk({
        url,
        script: 'predict.lua',
        scriptArgs,
        connections: o.connections,
        durationS: o.durationS,
      });
      return { wrk, cpu: watch() };
    },
    (r) => Math.max(r.cpu.otherLoad, r.wrk.otherLoadCore1),
    retry,
  );
  const { wrk } = closed.best;
  const rate = rateFor(wrk);
  const open = await leastDisturbed(
    `${server.name} paced`,
    async () => {
      log(`  ${server.name}: paced ${fmtInt(rate)} req/s for ${o.durationS} s (+${o.warmupS} s warm-up)`);
      const watch = watchCore(SERVER_CORE, server.pid);
      const paced = await runPaced({
        url,
        rate,
        durationS: o.durationS,
        warmupS: o.warmupS,
        connections: o.connections,
      });
      return { paced, cpu: watch() };
    },
    (r) => Math.max(r.cpu.otherLoad, r.paced.otherLoadCore1),
    retry,
  );
  const { paced } = open.best;
  return {
    wrk,
    paced,
    rssPeakMb: server.rss.peakMb(from, Date.now()),
    otherLoadWrk: closed.best.cpu.otherLoad,
    otherLoadPaced: open.best.cpu.otherLoad,
    serverLoadWrk: closed.best.cpu.serverLoad,
    attemptsWrk: closed.interference,
    attemptsPaced: open.interference,
  };
}

function findMainProfile(dir: string, pid: number): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  return (
    files.map((f) => join(dir, f)).find((f) => f.includes(`.${pid}.0.`)) ?? (files[0] ? join(dir, files[0]) : undefined)
  );
}

export async function runPredictBench(o: PredictBenchOptions): Promise<PredictBenchResult> {
  log('\n== /predict over HTTP ==');
  // ---- ours
  const dataDir = mkdtempSync(join(tmpdir(), 'adclick-bench-predict-'));
  log(`  starting adclick (data ${dataDir}, bootstrap ${fmtInt(o.bootstrapRows)} rows), pinned to core ${SERVER_CORE}`);
  const ours = await startPinned({
    name: 'adclick',
    script: 'dist/bin/adclick.js',
    args: ['serve'],
    nodeArgs: [
      ...ADCLICK_NODE_FLAGS,
      ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProfDir, 'predict')] : []),
    ],
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      ADCLICK_DATA_DIR: dataDir,
      ADCLICK_LOG_LEVEL: 'silent',
      ADCLICK_BOOTSTRAP_ROWS: String(o.bootstrapRows),
    },
    core: SERVER_CORE,
  });
  let oursFigures: Omit<ServerFigures, 'rssHwmMb'>;
  let responseBytes: number;
  let profile: PredictBenchResult['profile'];
  let oursHwm: number;
  try {
    const probe = await fetch(`${ours.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        user_id: 'user_000001',
        ad_id: 'ad_00001',
        features: { device_type: 'mobile', location: 'US-CA', site_id: 'site_0001', position: 1 },
      }),
    });
    const text = await probe.text();
    if (probe.status !== 200) throw new Error(`/predict answered ${probe.status}: ${text}`);
    responseBytes = Buffer.byteLength(text);
    log(`  adclick pid ${ours.pid} at ${ours.url}; a /predict response is ${responseBytes} bytes`);
    oursFigures = await measure(ours, `${ours.url}/predict`, o, (wrk) => wrk.rps / 2);
  } finally {
    const stopped = await ours.stop();
    oursHwm = ours.rss.hwmMb;
    if (o.cpuProfDir) {
      const file = findMainProfile(join(o.cpuProfDir, 'predict'), ours.pid);
      if (file && oursFigures!) {
        const { wrk, paced } = oursFigures;
        const window = (from: number, to: number) => [stopped.exitedAt - from, stopped.exitedAt - to] as const;
        profile = {
          file,
          saturated: summariseProfile(file, 15, window(wrk.startedAt, wrk.endedAt)),
          halfLoad: summariseProfile(file, 15, window(paced.startedAt, paced.endedAt)),
        };
      }
    }
    if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
  }
  const halfRate = oursFigures.wrk.rps / 2;

  // ---- hello
  log(`  starting hello-server (response ${responseBytes} bytes), pinned to core ${SERVER_CORE}`);
  const hello = await startPinned({
    name: 'hello',
    script: 'bench/hello-server.ts',
    args: ['--response-bytes', String(responseBytes)],
    core: SERVER_CORE,
  });
  let helloFigures: Omit<ServerFigures, 'rssHwmMb'>;
  try {
    helloFigures = await measure(hello, `${hello.url}/predict`, o, () => halfRate);
  } finally {
    await hello.stop();
  }

  const oursAll: ServerFigures = { ...oursFigures, rssHwmMb: oursHwm };
  const helloAll: ServerFigures = { ...helloFigures, rssHwmMb: hello.rss.hwmMb };
  const ratios = {
    rps: ratio(oursAll.wrk.rps, helloAll.wrk.rps),
    p50: ratio(oursAll.wrk.latencyMs.p50, helloAll.wrk.latencyMs.p50),
    p99: ratio(oursAll.wrk.latencyMs.p99, helloAll.wrk.latencyMs.p99),
    pacedP50: ratio(oursAll.paced.latencyMs.p50, helloAll.paced.latencyMs.p50),
    pacedP99: ratio(oursAll.paced.latencyMs.p99, helloAll.paced.latencyMs.p99),
    pacedP999: ratio(oursAll.paced.latencyMs.p999, helloAll.paced.latencyMs.p999),
  };
  const targets: Target[] = [
    {
      name: '/predict req/s vs hello',
      value: fmtRatio(ratios.rps),
      target: '≥ 0.50×',
      met: ratios.rps >= 0.5,
    },
    {
      name: '/predict p99 at half load',
      value: fmtMs(oursAll.paced.latencyMs.p99),
      target: '< 5 ms',
      met: oursAll.paced.latencyMs.p99 < 5,
    },
    {
      name: '/predict server peak RSS',
      value: fmtMb(oursAll.rssPeakMb),
      target: '≤ 300 MB',
      met: oursAll.rssPeakMb <= 300,
    },
  ];
  const result: PredictBenchResult = { responseBytes, halfRate, ours: oursAll, hello: helloAll, ratios, targets };
  if (profile) Object.assign(result, { profile });
  printPredict(result, o);
  return result;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const attempts = (list: readonly number[]) => `${list.length} (${list.map(pct).join(', ')})`;

export function printPredict(r: PredictBenchResult, o: PredictBenchOptions): void {
  const { ours, hello, ratios } = r;
  const errs = (w: WrkResult) => w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout;
  log(
    `\n/predict closed loop: wrk, 1 thread, ${o.connections} connections, ${o.durationS} s after ${o.warmupS} s warm-up`,
  );
  log(
    table(
      ['', 'adclick /predict', 'hello-server', 'ratio (ours/hello)', 'target'],
      [
        [
          'requests/s',
          fmtInt(ours.wrk.rps),
          fmtInt(hello.wrk.rps),
          fmtRatio(ratios.rps),
          `≥ 0.50× ${verdict(ratios.rps >= 0.5)}`,
        ],
        ['p50', fmtMs(ours.wrk.latencyMs.p50), fmtMs(hello.wrk.latencyMs.p50), fmtRatio(ratios.p50), ''],
        ['p99', fmtMs(ours.wrk.latencyMs.p99), fmtMs(hello.wrk.latencyMs.p99), fmtRatio(ratios.p99), ''],
        ['requests', fmtInt(ours.wrk.requests), fmtInt(hello.wrk.requests), '', ''],
        ['errors (socket + non-2xx)', fmtInt(errs(ours.wrk)), fmtInt(errs(hello.wrk)), '', ''],
        [
          'server CPU (share of core 0)',
          `${(ours.serverLoadWrk * 100).toFixed(0)}%`,
          `${(hello.serverLoadWrk * 100).toFixed(0)}%`,
          '',
          '',
        ],
        ['wrk CPU (share of core 1)', pct(ours.wrk.loadgenCpu), pct(hello.wrk.loadgenCpu), '', ''],
        [
          'other load on core 0 / core 1',
          `${pct(ours.otherLoadWrk)} / ${pct(ours.wrk.otherLoadCore1)}`,
          `${pct(hello.otherLoadWrk)} / ${pct(hello.wrk.otherLoadCore1)}`,
          '',
          '',
        ],
        ['attempts (other load of each)', attempts(ours.attemptsWrk), attempts(hello.attemptsWrk), '', ''],
      ],
    ),
  );
  log(
    `\n/predict open loop at half the /predict throughput: ${fmtInt(r.halfRate)} req/s for both, ` +
      `${o.durationS} s, latency from the scheduled send time`,
  );
  log(
    table(
      ['', 'adclick /predict', 'hello-server', 'ratio (ours/hello)', 'target'],
      [
        ['achieved req/s', fmtInt(ours.paced.achievedRate), fmtInt(hello.paced.achievedRate), '', ''],
        ['p50', fmtMs(ours.paced.latencyMs.p50), fmtMs(hello.paced.latencyMs.p50), fmtRatio(ratios.pacedP50), ''],
        [
          'p99',
          fmtMs(ours.paced.latencyMs.p99),
          fmtMs(hello.paced.latencyMs.p99),
          fmtRatio(ratios.pacedP99),
          `< 5 ms ${verdict(ours.paced.latencyMs.p99 < 5)}`,
        ],
        ['p99.9', fmtMs(ours.paced.latencyMs.p999), fmtMs(hello.paced.latencyMs.p999), fmtRatio(ratios.pacedP999), ''],
        ['max', fmtMs(ours.paced.latencyMs.max), fmtMs(hello.paced.latencyMs.max), '', ''],
        [
          'p99 on the wire (from actual send)',
          fmtMs(ours.paced.wireLatencyMs.p99),
          fmtMs(hello.paced.wireLatencyMs.p99),
          '',
          '',
        ],
        [
          'generator send lag p99 / max',
          `${fmtMs(ours.paced.sendLagMs.p99)} / ${fmtMs(ours.paced.sendLagMs.max)}`,
          `${fmtMs(hello.paced.sendLagMs.p99)} / ${fmtMs(hello.paced.sendLagMs.max)}`,
          '',
          '',
        ],
        [
          'errors / non-2xx',
          `${ours.paced.errors} / ${ours.paced.non2xx}`,
          `${hello.paced.errors} / ${hello.paced.non2xx}`,
          '',
          '',
        ],
        ['max queued in generator', fmtInt(ours.paced.maxQueued), fmtInt(hello.paced.maxQueued), '', ''],
        [
          'other load on core 0 / core 1',
          `${pct(ours.otherLoadPaced)} / ${pct(ours.paced.otherLoadCore1)}`,
          `${pct(hello.otherLoadPaced)} / ${pct(hello.paced.otherLoadCore1)}`,
          '',
          '',
        ],
        ['attempts (other load of each)', attempts(ours.attemptsPaced), attempts(hello.attemptsPaced), '', ''],
      ],
    ),
  );
  log('\nserver memory (VmRSS of the serving node process)');
  log(
    table(
      ['', 'adclick', 'hello-server', 'ratio (ours/hello)', 'target'],
      [
        [
          'peak RSS during the runs',
          fmtMb(ours.rssPeakMb),
          fmtMb(hello.rssPeakMb),
          fmtRatio(ratio(ours.rssPeakMb, hello.rssPeakMb)),
          `≤ 300 MB ${verdict(ours.rssPeakMb <= 300)}`,
        ],
        ['VmHWM (lifetime, incl. start-up)', fmtMb(ours.rssHwmMb), fmtMb(hello.rssHwmMb), '', ''],
      ],
    ),
  );
  const timeline = (p: PacedResult) => p.timeline.map((b) => b.p99.toFixed(1)).join(' ');
  log('\nper-second p99 (ms) during the open-loop run:');
  log(`  adclick: ${timeline(ours.paced)}`);
  log(`  hello:   ${timeline(hello.paced)}`);
  if (r.profile) {
    log(`\nadclick CPU profile (${r.profile.file})`);
    log(`\n-- during the wrk run (saturated):\n${formatProfile(r.profile.saturated)}`);
    log(`\n-- during the open-loop run at ${fmtInt(r.halfRate)} req/s:\n${formatProfile(r.profile.halfLoad)}`);
  }
}
