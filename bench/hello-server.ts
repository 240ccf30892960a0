/**
 * Baseline of the /predict benchmark: the least a node:http server can do for the same
 * exchange. It reads the whole POST body (without parsing it) and answers a fixed JSON of
 * exactly `--response-bytes` bytes (the size of a real /predict response), with the same
 * keep-alive settings as the adclick server. Run as its own process, pinned like the server:
 *
 *   taskset -c 0 node --import tsx bench/hello-server.ts --response-bytes 167
 *
 * Prints `hello listening on http://HOST:PORT` on stderr when ready; exits on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'response-bytes': { type: 'string', default: '167' },
  },
});

/** A JSON object shaped like a prediction, padded to exactly `size` bytes. */
function fixedSizeJson(size: number): string {
  const base = { prediction_id: 'p_hello', ad_id: 'ad_00001', probability: 0.5, model_version: 'hello', variant: '' };
  const empty = JSON.stringify(base);
  const pad = Math.max(0, size - empty.length);
  return JSON.stringify({ ...base, variant: 'x'.repeat(pad) });
}

const payload = Buffer.from(fixedSizeJson(Number(values['response-bytes'])));
const headers = { 'content-type': 'application/json', 'content-length': String(payload.length) };

const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 30_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(payload);
  });
});

server.listen(Number(values.port), values.host, () => {
  const a = server.address() as AddressInfo;
  process.stderr.write(`hello listening on http://${a.address}:${a.port} (response ${payload.length} bytes)\n`);
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
