/**
 * Baseline of the ingest benchmark: the least a node:http server can do to acknowledge events
 * durably. For each POST it reads the body, parses the JSON, appends the body as one line to a
 * file, and answers only after that line is fdatasynced. Group commit, like the adclick event
 * log: bodies that arrive while a write + fdatasync is in flight are written together by the
 * next one. The answer has the same shape as adclick's (`{results:[{index,status}]}` for a batch,
 * 202 `{status,id}` for one event). No validation, no de-duplication, no pseudonymisation, no
 * Parquet: that is what the ratio against it prices.
 *
 *   taskset -c 0 node --import tsx bench/durable-baseline-server.ts --dir /tmp/x
 *
 * Prints `durable-baseline listening on http://HOST:PORT` on stderr; GET /stats gives its
 * counters; SIGTERM flushes and exits.
 */
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    dir: { type: 'string' },
  },
});
if (!values.dir) {
  process.stderr.write('usage: durable-baseline-server.ts --dir DIR [--host H] [--port P]\n');
  process.exit(2);
}
mkdirSync(values.dir, { recursive: true });
const fh = await open(join(values.dir, 'events.jsonl'), 'a');

const NEWLINE = Buffer.from('\n');
const stats = { events: 0, requests: 0, writes: 0, bytes: 0 };
let pending: Buffer[] = [];
let waiters: (() => void)[] = [];
let writing = false;
let scheduled = false;

/** Starts the writer after the current I/O phase, so that bodies arriving together share a write. */
function kick(): void {
  if (writing || scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    writing = true;
    void writeLoop().finally(() => {
      writing = false;
      if (pending.length > 0) kick();
    });
  });
}

async function writeLoop(): Promise<void> {
  while (pending.length > 0) {
    const buffers = pending;
    const done = waiters;
    pending = [];
    waiters = [];
    const { bytesWritten } = await fh.writev(buffers);
    await fh.datasync();
    stats.writes++;
    stats.bytes += bytesWritten;
    for (const w of done) w();
  }
}

function append(body: Buffer): Promise<void> {
  return new Promise((resolveAppend) => {
    pending.push(body, NEWLINE);
    waiters.push(resolveAppend);
    kick();
  });
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 30_000 }, (req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    send(res, 200, JSON.stringify(stats));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    let parsed: { events?: unknown; impression_id?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      send(res, 400, '{"title":"invalid JSON"}');
      return;
    }
    const events = Array.isArray(parsed.events) ? parsed.events.length : undefined;
    append(body).then(() => {
      stats.requests++;
      stats.events += events ?? 1;
      if (events === undefined) {
        send(res, 202, JSON.stringify({ status: 'accepted', id: String(parsed.impression_id) }));
      } else {
        const results = new Array(events);
        for (let i = 0; i < events; i++) results[i] = { index: i, status: 'accepted' };
        send(res, 200, JSON.stringify({ results }));
      }
    }, res.destroy.bind(res));
  });
});

server.listen(Number(values.port), values.host, () => {
  const a = server.address() as AddressInfo;
  process.stderr.write(`durable-baseline listening on http://${a.address}:${a.port} (file ${values.dir})\n`);
});

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  const finish = () => {
    if (writing || pending.length > 0) {
      setTimeout(finish, 10);
      return;
    }
    void fh.close().then(() => process.exit(0));
  };
  finish();
});
