/**
 * Shared helpers for the end-to-end tests: temp data dirs, the real server (in process through
 * `startLocal`, or as a child process through the CLI), a small HTTP client and DuckDB over the lake.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseLocalConfig } from '../../lambdas/server/config.js';
import { type LocalRuntime, startLocal } from '../../lambdas/server/local-runtime.js';
import { queryDuckDb } from './duckdb.js';

/** Simulated rows the bootstrap model trains on in the e2e tests (the smallest sizes train fastest). */
export const E2E_BOOTSTRAP_ROWS = '20000';

export const TSX = resolve('node_modules/.bin/tsx');
export const CLI = resolve('bin/adclick.ts');

export interface TempDir {
  readonly path: string;
  cleanup(): Promise<void>;
}

export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `adclick-e2e-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** The env of a test server: a free port on loopback, quiet unless asked, a fast bootstrap. */
export function serverEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    ADCLICK_DATA_DIR: dataDir,
    ADCLICK_LOG_LEVEL: 'silent',
    ADCLICK_BOOTSTRAP_ROWS: E2E_BOOTSTRAP_ROWS,
    ...extra,
  };
}

/** The real local runtime, in this process. */
export function startInProcess(dataDir: string, extra: Record<string, string> = {}): Promise<LocalRuntime> {
  return startLocal(parseLocalConfig(serverEnv(dataDir, extra)));
}

// ------------------------------------------------------------------ the server as a child process

export interface ServerProcess {
  readonly url: string;
  readonly proc: ChildProcess;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited (with its code, or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the CLI process (tsx relays it to the server), as `kill PID` would. */
  terminate(): void;
  /** SIGKILL to the whole process group: tsx and the node process running the server. */
  killHard(): void;
}

const LISTENING = /adclick listening on (http:\/\/\S+) \(data in /;

/**
 * Starts `tsx bin/adclick.ts serve` in its own process group and resolves once it prints where it
 * listens; rejects (and kills it) if it exits first or is not ready in time.
 */
export function spawnServer(
  dataDir: string,
  extra: Record<string, string> = {},
  readyTimeoutMs = 90_000,
  /** The command before `serve`: the sources through tsx, or e.g. node on the compiled dist/. */
  command: readonly string[] = [TSX, CLI],
): Promise<ServerProcess> {
  const proc = spawn(command[0]!, [...command.slice(1), 'serve'], {
    env: { ...process.env, ...serverEnv(dataDir, { ADCLICK_LOG_LEVEL: 'info', ...extra }) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  proc.stdout?.resume();
  proc.stderr?.setEncoding('utf8');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    proc.once('close', (code, signal) => done({ code, signal })),
  );
  const killHard = () => {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return new Promise((resolveReady, rejectReady) => {
    const timer = setTimeout(() => {
      killHard();
      rejectReady(new Error(`server not ready after ${readyTimeoutMs} ms; stderr:\n${stderr}`));
    }, readyTimeoutMs);
    proc.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      const m = LISTENING.exec(stderr);
      if (m && m[1] !== undefined) {
        clearTimeout(timer);
        resolveReady({
          url: m[1],
          proc,
          stderr: () => stderr,
          exited,
          terminate: () => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          },
          killHard,
        });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rejectReady(new Error(`server exited before it was ready (${code ?? signal}); stderr:\n${stderr}`));
    });
  });
}

/** Stops a child server whatever state it is in (for afterAll): SIGKILL to its group, then waits. */
export async function stopHard(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  server.killHard();
  await server.exited;
}

// ------------------------------------------------------------------ HTTP

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely.
  readonly json: any;
}

export interface CallOptions {
  /** An object is sent as JSON; a string or bytes as they are. */
  readonly body?: unknown;
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
  readonly token?: string;
  readonly apiKey?: string;
}

export async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined;
  if (options.body instanceof Uint8Array || typeof options.body === 'string') body = options.body;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  const contentType =
    options.contentType === undefined ? (body === undefined ? null : 'application/json') : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** An RFC 3339 UTC timestamp `offsetMs` from now. */
export function timestampIn(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

// ------------------------------------------------------------------ files and the lake

/** Every file under `dir`, recursively (absolute paths). */
export async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** `read_parquet` over one lake table of a data dir, with its Hive partition columns. */
export function lakeTable(dataDir: string, table: string): string {
  return `read_parquet('${join(dataDir, 'lake', table).replaceAll("'", "''")}/**/*.parquet', hive_partitioning = true)`;
}

/** How often each id occurs in a lake table. */
export async function lakeIdCounts(dataDir: string, table: string, idColumn: string): Promise<Map<string, number>> {
  const rows = await queryDuckDb(
    `SELECT ${idColumn} AS id, CAST(count(*) AS INTEGER) AS n FROM ${lakeTable(dataDir, table)} GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.id as string, r.n as number]));
}

/** Tables of the lake that hold at least one Parquet file. */
export async function lakeTablesWithFiles(dataDir: string): Promise<string[]> {
  const lake = join(dataDir, 'lake');
  const names = await readdir(lake).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names) {
    const files = await readdir(join(lake, name), { recursive: true }).catch(() => [] as string[]);
    if (files.some((f) => f.endsWith('.parquet'))) out.push(name);
  }
  return out.sort();
}

export interface PostResult {
  readonly status: number;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely.
  readonly json: any;
}

/** POSTs JSON on a connection of its own, closed after the answer (`connection: close`). */
export function postOnce(base: string, path: string, body: unknown): Promise<PostResult> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolvePost, rejectPost) => {
    const req = httpRequest(new URL(path, base), {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': payload.length, connection: 'close' },
    });
    req.once('error', rejectPost);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.once('error', rejectPost);
      res.once('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolvePost({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.end(payload);
  });
}

// ------------------------------------------------------------------ load

export interface ImpressionLoad {
  /** impression_ids the server acknowledged (202, or 'accepted'/'duplicate' in a batch result). */
  readonly acked: Set<string>;
  /** Requests that failed without an answer (connection refused or reset). */
  readonly failures: number;
  /** Answers that were neither an acknowledgement nor a connection failure, e.g. `503 ...`. */
  readonly unexpected: string[];
  /** Stops starting new requests and waits for the ones in flight. */
  stop(): Promise<void>;
}

/**
 * Sends impressions from `workers` concurrent loops, alternating single impressions and batches,
 * until stopped. Every id gets recorded once the server acknowledges it; nothing else counts.
 */
export function impressionLoad(
  base: string,
  options: {
    workers?: number;
    batchSize?: number;
    prefix: string;
    userId?: (n: number) => string;
    /** false: one connection per request (`connection: close`) instead of fetch's kept-alive pool. */
    keepAlive?: boolean;
  },
): ImpressionLoad {
  const post =
    options.keepAlive === false
      ? (path: string, body: unknown) => postOnce(base, path, body)
      : (path: string, body: unknown) => call(base, 'POST', path, { body });
  const workers = options.workers ?? 8;
  const batchSize = options.batchSize ?? 25;
  const userId = options.userId ?? ((n: number) => `load-user-${n % 100}`);
  const acked = new Set<string>();
  const unexpected: string[] = [];
  let failures = 0;
  let next = 0;
  let stopped = false;
  const impression = () => {
    const n = next++;
    return {
      impression_id: `${options.prefix}-${n}`,
      user_id: userId(n),
      ad_id: `ad-${n % 7}`,
      timestamp: timestampIn(0),
    };
  };
  const loop = async (worker: number) => {
    for (let round = 0; !stopped; round++) {
      try {
        if ((round + worker) % 2 === 0) {
          const body = impression();
          const res = await post('/event/impression', body);
          if (res.status === 202) acked.add(body.impression_id);
          else unexpected.push(`${res.status} ${res.text.slice(0, 200)}`);
        } else {
          const events = Array.from({ length: batchSize }, () => ({ type: 'impression', ...impression() }));
          const res = await post('/event/batch', { events });
          if (res.status !== 200) {
            unexpected.push(`${res.status} ${res.text.slice(0, 200)}`);
            continue;
          }
          for (const r of res.json.results as { index: number; status: string }[]) {
            if (r.status === 'accepted' || r.status === 'duplicate') acked.add(events[r.index]!.impression_id);
            else unexpected.push(`batch result ${JSON.stringify(r)}`);
          }
        }
      } catch {
        failures++;
        // The server is gone or going: back off a little rather than spin.
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const running = Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return {
    acked,
    get failures() {
      return failures;
    },
    unexpected,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

/** Polls `condition` every 10 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { queryDuckDb };

/** Asks until `done` holds for the answer (events reach the lake in the background), for 90 s at most. */
export async function pollUntil(
  ask: () => Promise<HttpResult>,
  done: (res: HttpResult) => boolean,
  what: string,
): Promise<HttpResult> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await ask();
    if (done(res)) return res;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last answer: ${res.text}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
