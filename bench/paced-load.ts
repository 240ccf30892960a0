/**
 * Open-loop, constant-rate load generator for POST /predict (wrk cannot pace requests).
 *
 * Request i is *scheduled* at t0 + i / rate, whatever happened to the earlier ones, and its
 * latency is measured from that scheduled instant to the last byte of its response. A request
 * that had to wait (every connection busy, or the generator late) carries that wait in its
 * latency, so a server stall shows up in the percentiles instead of being hidden by a load
 * generator that politely slowed down (no coordinated omission).
 *
 * Keep-alive connections over raw sockets (one request in flight per connection, no
 * pipelining), opened before the run; when all are busy, due requests queue in the generator.
 * The sender spins on setImmediate, so it wants a core of its own: run it pinned
 * (`taskset -c 1`). Prints one JSON object (see PacedResult in support.ts) on stdout.
 *
 *   taskset -c 1 node --import tsx bench/paced-load.ts --url http://127.0.0.1:3000/predict \
 *     --rate 2000 --duration 10 --warmup 2 --connections 64
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type PacedResult, percentile, summarise } from './support.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    users: { type: 'string', default: '10000' },
    ads: { type: 'string', default: '200' },
  },
});
if (!values.url || !values.rate) {
  process.stderr.write('usage: paced-load.ts --url URL --rate N [--duration S] [--warmup S] [--connections N]\n');
  process.exit(2);
}

const url = new URL(values.url);
const rate = Number(values.rate);
const durationMs = Number(values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const poolSize = Number(values.connections);
const users = Number(values.users);
const ads = Number(values.ads);
const host = url.hostname;
const port = Number(url.port || 80);
const path = url.pathname;

const DEVICES = ['mobile', 'desktop', 'tablet'];
const LOCATIONS = ['US-CA', 'US-NY', 'US-TX', 'GB', 'FR', 'DE', 'BR', 'JP'];
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const rnd = (n: number) => 1 + Math.floor(Math.random() * n);

/** The same body as bench/lua/predict.lua. */
function requestText(): string {
  const u = rnd(users);
  const body =
    `{"user_id":"user_${pad(u, 6)}","ad_id":"ad_${pad(rnd(ads), 5)}","features":{"device_type":"${DEVICES[u % 3]}",` +
    `"location":"${LOCATIONS[u % LOCATIONS.length]}","site_id":"site_${pad(rnd(60), 4)}","position":${rnd(5)}}}`;
  return (
    `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`
  );
}

interface Job {
  readonly scheduled: number;
  readonly record: boolean;
  sentAt: number;
}

const expected = Math.ceil((rate * durationMs) / 1000) + 16;
const latencies = new Float64Array(expected);
/** Scheduled time (ms after the measured start) of each recorded latency, for the per-second timeline. */
const at = new Float64Array(expected);
const wire = new Float64Array(expected);
const lags = new Float64Array(expected);
let recorded = 0;
let lagCount = 0;
let sent = 0;
let sentRecorded = 0;
let completed = 0;
let errors = 0;
let non2xx = 0;
let outstanding = 0;

const queue: Job[] = [];
let queueHead = 0;
let maxQueued = 0;
const idle: Conn[] = [];

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

class Conn {
  socket!: Socket;
  job: Job | null = null;
  private buf: Buffer = Buffer.alloc(0);

  open(): Promise<void> {
    return new Promise((resolveOpen, rejectOpen) => {
      const s = connect({ host, port, noDelay: true });
      this.socket = s;
      this.buf = Buffer.alloc(0);
      let connected = false;
      s.once('connect', () => {
        connected = true;
        resolveOpen();
      });
      s.on('error', (err) => {
        if (!connected) rejectOpen(err);
      });
      s.on('data', (chunk: Buffer) => this.onData(chunk));
      s.on('close', () => this.onClose());
    });
  }

  send(job: Job): void {
    this.job = job;
    job.sentAt = performance.now();
    this.socket.write(requestText(), 'latin1');
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEADER_END);
    if (end === -1) return;
    const head = this.buf.toString('latin1', 0, end);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    if (this.buf.length < end + 4 + length) return;
    const status = Number(head.slice(9, 12));
    this.buf = this.buf.subarray(end + 4 + length);
    const job = this.job;
    this.job = null;
    if (job) done(job, status);
    next(this);
  }

  private onClose(): void {
    const job = this.job;
    this.job = null;
    if (job) {
      errors++;
      outstanding--;
    }
    if (!stopping) {
      this.open().then(
        () => next(this),
        () => {
          errors++;
        },
      );
    }
  }
}

function done(job: Job, status: number): void {
  const now = performance.now();
  outstanding--;
  completed++;
  if (status < 200 || status > 299) non2xx++;
  if (job.record && recorded < expected) {
    latencies[recorded] = now - job.scheduled;
    at[recorded] = job.scheduled - measureFrom;
    wire[recorded] = now - job.sentAt;
    recorded++;
  }
}

/** Gives a free connection the oldest queued job, or parks it. */
function next(conn: Conn): void {
  if (queueHead < queue.length) {
    const job = queue[queueHead++]!;
    if (queueHead > 4096 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    conn.send(job);
  } else {
    idle.push(conn);
  }
}

function dispatch(job: Job, now: number): void {
  outstanding++;
  sent++;
  if (job.record) {
    sentRecorded++;
    if (lagCount < expected) lags[lagCount++] = now - job.scheduled;
  }
  const conn = idle.pop();
  if (conn) {
    conn.send(job);
    return;
  }
  queue.push(job);
  const depth = queue.length - queueHead;
  if (depth > maxQueued) maxQueued = depth;
}

let stopping = false;
const conns = Array.from({ length: poolSize }, () => new Conn());
await Promise.all(conns.map((c) => c.open()));
idle.push(...conns);

const interval = 1000 / rate;
const t0 = performance.now() + 20;
const measureFrom = t0 + warmupMs;
const end = measureFrom + durationMs;
const startedAt = Date.now() + 20 + warmupMs;
let index = 0;

await new Promise<void>((finishSchedule) => {
  const tick = () => {
    const now = performance.now();
    for (;;) {
      const scheduled = t0 + index * interval;
      if (scheduled > now || scheduled >= end) break;
      dispatch({ scheduled, record: scheduled >= measureFrom, sentAt: 0 }, now);
      index++;
    }
    if (t0 + index * interval < end) setImmediate(tick);
    else finishSchedule();
  };
  setImmediate(tick);
});
const endedAt = Date.now();

// Let the last requests finish (at most 10 s), then report.
const drainUntil = performance.now() + 10_000;
while (outstanding > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
stopping = true;
errors += outstanding;
for (const c of conns) c.socket.destroy();

const seconds = Math.ceil(durationMs / 1000);
const buckets: number[][] = Array.from({ length: seconds }, () => []);
for (let i = 0; i < recorded; i++) buckets[Math.min(seconds - 1, Math.floor(at[i]! / 1000))]!.push(latencies[i]!);
const timeline = buckets.map((b) => {
  const s = summarise(Float64Array.from(b));
  return { n: b.length, p50: s.p50, p99: s.p99, max: s.max };
});
const sortedLags = lags.slice(0, lagCount).sort();
const result: Omit<PacedResult, 'otherLoadCore1'> = {
  targetRate: rate,
  achievedRate: sentRecorded / (durationMs / 1000),
  sent,
  completed,
  errors,
  non2xx,
  latencyMs: summarise(latencies.subarray(0, recorded)),
  wireLatencyMs: summarise(wire.subarray(0, recorded)),
  sendLagMs: { p99: percentile(sortedLags, 99), max: sortedLags.length ? sortedLags[sortedLags.length - 1]! : 0 },
  connections: poolSize,
  maxQueued,
  timeline,
  startedAt,
  endedAt,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
