/**
 * Shared plumbing of the benchmarks: pinned processes, RSS sampling, wrk and the paced load
 * generator as child processes, percentiles and formatting. Nothing here imports server code:
 * the benchmarks only talk to the servers over HTTP, as an ad server would.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(BENCH_DIR, '..');
export const LUA_DIR = join(BENCH_DIR, 'lua');

/** The server under test and every baseline server run on this core... */
export const SERVER_CORE = 0;
/** ...and the load generators (wrk, paced-load.ts) on this one, so they never share a core. */
export const LOADGEN_CORE = 1;

// ------------------------------------------------------------------ prerequisites

export function wrkVersion(): string | null {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error) return null;
  const line = `${r.stdout}${r.stderr}`.split('\n').find((l) => l.startsWith('wrk'));
  return line?.trim() ?? 'wrk (unknown version)';
}

export function hasTaskset(): boolean {
  return !spawnSync('taskset', ['-c', '0', 'true']).error;
}

/** Busy fraction of each CPU over `ms`, from /proc/stat: other work on the machine skews every figure. */
export async function cpuBusy(ms = 1000): Promise<number[]> {
  const read = () =>
    readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l))
      .map((l) => {
        const v = l.trim().split(/\s+/).slice(1).map(Number);
        const idle = (v[3] ?? 0) + (v[4] ?? 0);
        const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
        return { idle, total };
      });
  const a = read();
  await sleep(ms);
  const b = read();
  return b.map((x, i) => {
    const dt = x.total - (a[i]?.total ?? 0);
    return dt <= 0 ? 0 : 1 - (x.idle - (a[i]?.idle ?? 0)) / dt;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ------------------------------------------------------------------ /proc

interface ProcStatus {
  readonly rssKb: number;
  readonly hwmKb: number;
}

function readStatus(pid: number): ProcStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * The process that really serves: the deepest `node` among `root` and its descendants. With
 * `taskset … node …` that is `root` itself (taskset execs), with `tsx`/`npm` wrappers it is the
 * child node process they start, whose memory is the one that matters.
 */
export function servingPid(root: number): number {
  let best = commOf(root) === 'node' ? root : -1;
  let level = [root];
  for (let depth = 0; depth < 6 && level.length > 0; depth++) {
    const next = level.flatMap(children);
    for (const pid of next) if (commOf(pid) === 'node') best = pid;
    level = next;
  }
  return best === -1 ? root : best;
}

/** Samples VmRSS (and the kernel's high-water mark VmHWM) of one process every `intervalMs`. */
export class RssSampler {
  private readonly samples: { t: number; rssKb: number }[] = [];
  private lastHwmKb = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const s = readStatus(this.pid);
    if (!s || Number.isNaN(s.rssKb)) return;
    this.samples.push({ t: Date.now(), rssKb: s.rssKb });
    if (s.hwmKb > this.lastHwmKb) this.lastHwmKb = s.hwmKb;
  }

  /** Peak sampled VmRSS in MB between two Date.now() instants (the whole life when omitted). */
  peakMb(from = 0, to = Number.POSITIVE_INFINITY): number {
    let peak = 0;
    for (const s of this.samples) if (s.t >= from && s.t <= to && s.rssKb > peak) peak = s.rssKb;
    return peak / 1024;
  }

  /** The kernel's lifetime peak (VmHWM) at the last sample, in MB: includes start-up and shutdown. */
  get hwmMb(): number {
    return this.lastHwmKb / 1024;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

// ------------------------------------------------------------------ pinned servers

export interface PinnedProcess {
  readonly name: string;
  /** The serving node process (see servingPid). */
  readonly pid: number;
  /** From the `… listening on http://HOST:PORT` line. */
  readonly url: string;
  readonly rss: RssSampler;
  /** Last lines of stderr, for diagnostics. */
  stderrTail(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); resolves with the exit code and time taken. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: string | null; ms: number; exitedAt: number }>;
}

export interface StartOptions {
  readonly name: string;
  /** Node arguments before the script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Script path relative to the repository root, run with tsx's loader. */
  readonly script: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly core: number;
  readonly readyTimeoutMs?: number;
}

const LISTENING = /listening on (http:\/\/[^\s]+)/;

/** Starts `node --import tsx SCRIPT` pinned to one core and waits for its "listening on" line. */
export function startPinned(o: StartOptions): Promise<PinnedProcess> {
  const child: ChildProcess = spawn(
    'taskset',
    [
      '-c',
      String(o.core),
      process.execPath,
      ...(o.nodeArgs ?? []),
      // TypeScript sources go through tsx; compiled JavaScript (dist/) runs as it is.
      ...(o.script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      o.script,
      ...(o.args ?? []),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tail: string[] = [];
  let buffered = '';
  let exited: { code: number | null; signal: string | null; at: number } | null = null;
  const exitWaiters: (() => void)[] = [];
  child.on('exit', (code, signal) => {
    exited = { code, signal, at: Date.now() };
    for (const w of exitWaiters.splice(0)) w();
  });
  child.stdout?.resume();
  return new Promise((resolveStart, rejectStart) => {
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`${o.name} did not start within ${o.readyTimeoutMs ?? 120_000} ms:\n${tail.join('\n')}`));
    }, o.readyTimeoutMs ?? 120_000);
    let ready = false;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        const m = LISTENING.exec(line);
        if (!ready && m) {
          ready = true;
          clearTimeout(timeout);
          const pid = servingPid(child.pid!);
          const rss = new RssSampler(pid);
          resolveStart({
            name: o.name,
            pid,
            url: m[1]!,
            rss,
            stderrTail: () => [...tail, buffered].join('\n').trim(),
            stop: async (timeoutMs = 300_000) => {
              const t0 = Date.now();
              if (!exited) {
                const done = new Promise<void>((r) => exitWaiters.push(r));
                child.kill('SIGTERM');
                const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
                await done;
                clearTimeout(killer);
              }
              rss.stop();
              const e = exited as unknown as { code: number | null; signal: string | null; at: number };
              return { code: e.code, signal: e.signal, ms: Date.now() - t0, exitedAt: e.at };
            },
          });
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timeout);
      rejectStart(new Error(`${o.name} exited (${code ?? signal}) before listening:\n${tail.join('\n')}\n${buffered}`));
    });
    child.on('error', (err) => {
      clearTimeout(timeout);
      rejectStart(err);
    });
  });
}

// ------------------------------------------------------------------ load generators

export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Watches `core` while the child process `pid` runs on it: the shares of the core the child and
 * other processes took. The child's counters are sampled every 100 ms, since they vanish when it
 * exits.
 */
function watchChild(core: number, pid: number | undefined): () => { other: number; own: number } {
  const c0 = coreJiffies(core);
  let own = 0;
  const sample = () => {
    const j = pid === undefined ? Number.NaN : processJiffies(pid);
    if (!Number.isNaN(j)) own = j;
  };
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    const c1 = coreJiffies(core);
    const total = c1.total - c0.total;
    if (total <= 0) return { other: 0, own: 0 };
    return { other: Math.max(0, (c1.busy - c0.busy - own) / total), own: own / total };
  };
}

export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly latencyMs: LatencyMs;
  readonly errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** Counters the Lua script kept (events accepted, duplicates, ...), summed over wrk's threads. */
  readonly counters: Record<string, number>;
  /** Date.now() at start and end of the run. */
  readonly startedAt: number;
  readonly endedAt: number;
  /** Share of the load-generator core that other processes took during the run (0..1). */
  readonly otherLoadCore1: number;
  /** Share of its core wrk itself used (near 1: wrk, not the server, was the limit). */
  readonly loadgenCpu: number;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  errors: WrkResult['errors'];
  latency_us: { mean: number; max: number; p50: number; p90: number; p99: number; p999: number };
  counters?: Record<string, number>;
}

export interface WrkOptions {
  readonly url: string;
  /** Lua file under bench/lua/. */
  readonly script: string;
  readonly scriptArgs?: readonly string[];
  readonly connections: number;
  readonly durationS: number;
  readonly threads?: number;
}

/** Runs wrk pinned to the load-generator core; the Lua script's done() prints one `WRK_JSON {...}` line. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [
    '-t',
    String(o.threads ?? 1),
    '-c',
    String(o.connections),
    '-d',
    `${o.durationS}s`,
    '--timeout',
    '10s',
    '-s',
    join(LUA_DIR, o.script),
    o.url,
    '--',
    ...(o.scriptArgs ?? []),
  ];
  const run = await runPinned(LOADGEN_CORE, 'wrk', args).catch((e: unknown) => {
    throw new Error(`wrk failed: ${(e as Error).message}`);
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no WRK_JSON line:\n${run.stdout}\n${run.stderr}`);
  const j = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const durationS = j.duration_us / 1e6;
  const ms = (us: number) => us / 1000;
  return {
    requests: j.requests,
    durationS,
    rps: j.requests / durationS,
    latencyMs: {
      p50: ms(j.latency_us.p50),
      p90: ms(j.latency_us.p90),
      p99: ms(j.latency_us.p99),
      p999: ms(j.latency_us.p999),
      max: ms(j.latency_us.max),
      mean: ms(j.latency_us.mean),
    },
    errors: j.errors,
    counters: j.counters ?? {},
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    otherLoadCore1: run.otherLoad,
    loadgenCpu: run.ownLoad,
  };
}

export interface PacedResult {
  readonly targetRate: number;
  readonly achievedRate: number;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly non2xx: number;
  /** Latency from each request's scheduled send time to its full response (no coordinated omission). */
  readonly latencyMs: LatencyMs;
  /** Latency from the actual write to the response (service time as seen on the wire). */
  readonly wireLatencyMs: LatencyMs;
  /** How late the generator itself was in sending, p99 and max (large values: the generator was the bottleneck). */
  readonly sendLagMs: { p99: number; max: number };
  readonly connections: number;
  readonly maxQueued: number;
  /** Per second of the measured run (by scheduled time): requests, p50, p99, max latency in ms. */
  readonly timeline: { n: number; p50: number; p99: number; max: number }[];
  readonly startedAt: number;
  readonly endedAt: number;
  /** Share of the load-generator core that other processes took during the run (0..1). */
  readonly otherLoadCore1: number;
}

export interface PacedOptions {
  readonly url: string;
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
}

/** Runs bench/paced-load.ts pinned to the load-generator core and parses its JSON. */
export async function runPaced(o: PacedOptions): Promise<PacedResult> {
  const args = [
    '--import',
    'tsx',
    join('bench', 'paced-load.ts'),
    '--url',
    o.url,
    '--rate',
    String(Math.round(o.rate)),
    '--duration',
    String(o.durationS),
    '--warmup',
    String(o.warmupS),
    '--connections',
    String(o.connections),
  ];
  const run = await runPinned(LOADGEN_CORE, process.execPath, args).catch((e: unknown) => {
    throw new Error(`paced-load failed: ${(e as Error).message}`);
  });
  try {
    return { ...(JSON.parse(run.stdout) as Omit<PacedResult, 'otherLoadCore1'>), otherLoadCore1: run.otherLoad };
  } catch (e) {
    throw new Error(`paced-load printed no JSON: ${String(e)}\n${run.stdout}\n${run.stderr}`);
  }
}

// ------------------------------------------------------------------ pinned commands

/*
 * Runs a command to completion pinned to one core (`taskset -c CORE`), timing it, sampling its
 * RSS and measuring how much of the core other processes took meanwhile (the machine may be
 * shared; a disturbed timing must say so). The load generators and the model runs all go through it.
 */
export interface PinnedRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Wall seconds from spawn to exit. */
  readonly seconds: number;
  /** Peak sampled VmRSS in MB (the kernel's high-water mark when that is larger). */
  readonly rssPeakMb: number;
  /** Share of the core that other processes took during the run (0..1). */
  readonly otherLoad: number;
  /** Share of the core the command itself took (0..1). */
  readonly ownLoad: number;
  /** Date.now() at spawn and at exit. */
  readonly startedAt: number;
  readonly endedAt: number;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs `command args` under `taskset -c core` from the repository root; rejects on a non-zero exit. */
export function runPinned(
  core: number,
  command: string,
  args: readonly string[],
  o: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<PinnedRun> {
  return new Promise((resolveRun, rejectRun) => {
    const t0 = performance.now();
    const startedAt = Date.now();
    const child = spawn('taskset', ['-c', String(core), command, ...args], {
      cwd: o.cwd ?? REPO_ROOT,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // taskset execs the command, so the child's pid is the command's own.
    const pid = child.pid;
    const rss = pid === undefined ? undefined : new RssSampler(pid, 100);
    const watch = watchChild(core, pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.on('error', (err) => {
      watch();
      rss?.stop();
      rejectRun(err);
    });
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      const endedAt = Date.now();
      const load = watch();
      rss?.stop();
      if (code !== 0) {
        rejectRun(
          new CommandError(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${tail(stderr)}`, stdout, stderr),
        );
        return;
      }
      resolveRun({
        stdout,
        stderr,
        seconds,
        rssPeakMb: Math.max(rss?.peakMb() ?? 0, rss?.hwmMb ?? 0),
        otherLoad: load.other,
        ownLoad: load.own,
        startedAt,
        endedAt,
      });
    });
  });
}

// ------------------------------------------------------------------ numbers

/** The median (the mean of the two middle values when there are two); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarise(values: Float64Array): LatencyMs {
  const sorted = values.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

export function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

export function fmtMb(n: number): string {
  return `${n.toFixed(0)} MB`;
}

/** ours / baseline, as "0.42×". */
export function ratio(ours: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : ours / baseline;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

export function verdict(ok: boolean): string {
  return ok ? 'MET' : 'MISSED';
}

/** Prints rows as an aligned text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

// ------------------------------------------------------------------ interference

function coreJiffies(core: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  const v = (line ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy, total };
}

function processJiffies(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime (all threads) + cutime + cstime (children it waited for)
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  } catch {
    return Number.NaN;
  }
}

/**
 * Measures how much of the server's core something else used while a run went on: user + system
 * time of the core minus the server's own CPU time (interrupt and softirq time is left out, since
 * loopback networking for the server lands there). Returns a stopper giving the fraction of the
 * core (0..1) that other processes took; above a few per cent the figures are disturbed.
 */
export function watchCore(core: number, serverPid: number): () => { otherLoad: number; serverLoad: number } {
  const c0 = coreJiffies(core);
  const p0 = processJiffies(serverPid);
  return () => {
    const c1 = coreJiffies(core);
    const p1 = processJiffies(serverPid);
    const total = c1.total - c0.total;
    if (total <= 0) return { otherLoad: 0, serverLoad: 0 };
    const server = Number.isNaN(p1) ? 0 : p1 - p0;
    return { otherLoad: Math.max(0, (c1.busy - c0.busy - server) / total), serverLoad: server / total };
  };
}

/**
 * Waits (up to `maxWaitS`) until both cores are nearly idle, since other work on this shared
 * machine would skew the run; returns the busy fractions last seen.
 */
export async function waitQuiet(maxWaitS: number, threshold = 0.1): Promise<{ busy: number[]; waitedS: number }> {
  const t0 = Date.now();
  for (;;) {
    const busy = await cpuBusy(1000);
    const waitedS = (Date.now() - t0) / 1000;
    if (busy.every((b) => b < threshold) || waitedS >= maxWaitS) return { busy, waitedS };
  }
}

export interface Attempts<T> {
  /** The attempt least disturbed by other processes. */
  readonly best: T;
  /** Interference (share of a core other processes took, the worse of the two cores) of each attempt. */
  readonly interference: number[];
}

/**
 * Runs a measurement, and again (up to `retries` more times, each after waiting for a quiet
 * machine) while other processes took more than `threshold` of either core during it; keeps the
 * least disturbed attempt. On a shared machine this is what keeps the figures about the server.
 */
export async function leastDisturbed<T>(
  label: string,
  run: () => Promise<T>,
  interference: (t: T) => number,
  o: { readonly retries: number; readonly quietWaitS: number; readonly threshold?: number },
): Promise<Attempts<T>> {
  const threshold = o.threshold ?? 0.1;
  const seen: number[] = [];
  let best: T | undefined;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    const quiet = await waitQuiet(o.quietWaitS);
    if (quiet.busy.some((b) => b >= 0.1)) {
      log(`  note: cores still busy before the run (${quiet.busy.map((b) => `${(b * 100).toFixed(0)}%`).join(', ')})`);
    }
    const t = await run();
    const load = interference(t);
    seen.push(load);
    if (load < bestLoad) {
      best = t;
      bestLoad = load;
    }
    if (load <= threshold) break;
    log(
      `  ${label}: other processes took ${(load * 100).toFixed(0)}% of a core during the run` +
        (attempt < o.retries ? '; measuring again' : '; keeping the least disturbed attempt'),
    );
  }
  return { best: best as T, interference: seen };
}

/**
 * The Node flags adclick runs with (package.json `start`, bin/adclick.js): a larger young
 * generation, because ingestion allocates a few short-lived objects per event and scavenges
 * otherwise take a fifth of the CPU.
 */
export const ADCLICK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--enable-source-maps'];
