import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  impressionLoad,
  lakeIdCounts,
  type ServerProcess,
  spawnServer,
  stopHard,
  type TempDir,
  tempDir,
  timestampIn,
  waitFor,
} from '../support/e2e-server.js';

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely.
  readonly json: any;
}

interface HeldRequest {
  /** Resolves once the server has read the headers (it answered `100 Continue`): the request is in flight. */
  readonly started: Promise<void>;
  /** Sends the body and resolves with the answer. */
  finish(): Promise<Answer>;
}

async function readAnswer(res: IncomingMessage): Promise<Answer> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return { status: res.statusCode ?? 0, connection: res.headers.connection, json: JSON.parse(text) };
}

/**
 * A request the server has started handling but whose body has not arrived yet: it sends
 * `Expect: 100-continue` and holds the body back until `finish()`. Without an agent it asks for
 * `connection: close`; with a keep-alive agent the connection stays open for the next request.
 */
function holdRequest(base: string, path: string, body: unknown, agent: Agent | false = false): HeldRequest {
  const payload = Buffer.from(JSON.stringify(body));
  const req = httpRequest(new URL(path, base), {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': payload.length, expect: '100-continue' },
  });
  const answer = new Promise<IncomingMessage>((resolveAnswer, rejectAnswer) => {
    req.once('response', resolveAnswer);
    req.once('error', rejectAnswer);
  });
  const started = new Promise<void>((resolveStarted, rejectStarted) => {
    req.once('continue', () => resolveStarted());
    req.once('error', rejectStarted);
  });
  req.flushHeaders();
  return {
    started,
    finish: async () => {
      req.end(payload);
      return readAnswer(await answer);
    },
  };
}

/** A POST on a given agent (its kept-alive socket), resolved with the answer or the socket error. */
function postOn(agent: Agent, base: string, path: string, body: unknown): Promise<Answer | Error> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((done) => {
    const req = httpRequest(new URL(path, base), {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
    });
    req.once('error', (err) => done(err));
    req.once('response', (res) => {
      readAnswer(res).then(done, done);
    });
    req.end(payload);
  });
}

const impression = (impression_id: string) => ({
  impression_id,
  user_id: 'held-user',
  ad_id: 'ad-held',
  timestamp: timestampIn(0),
});

describe('the server stopped with SIGTERM under load', () => {
  let dirs: TempDir[] = [];
  let servers: ServerProcess[] = [];

  beforeAll(() => {
    dirs = [];
    servers = [];
  });

  afterAll(async () => {
    for (const server of servers) await stopHard(server);
    for (const dir of dirs) await dir.cleanup();
  });

  async function start(name: string): Promise<{ server: ServerProcess; dir: TempDir }> {
    const dir = await tempDir(name);
    dirs.push(dir);
    const server = await spawnServer(dir.path, { ADCLICK_LOG_LEVEL: 'warn' });
    servers.push(server);
    return { server, dir };
  }

  it('completes the requests in flight, exits 0 and has every acknowledged event in the lake', async () => {
    // Prepare: load, plus requests the server has started but whose bodies are still coming
    const { server, dir } = await start('shutdown');
    const load = impressionLoad(server.url, { prefix: 'term-imp', workers: 6, batchSize: 20, keepAlive: false });
    await waitFor(() => load.acked.size >= 1_000, '1000 acknowledged impressions');
    const single = impression('held-single');
    const batch = Array.from({ length: 50 }, (_, i) => ({ type: 'impression', ...impression(`held-batch-${i}`) }));
    const heldSingle = holdRequest(server.url, '/event/impression', single);
    const heldBatch = holdRequest(server.url, '/event/batch', { events: batch });
    const heldPredict = holdRequest(server.url, '/predict', { user_id: 'held-user', ad_id: 'ad-held' });
    await Promise.all([heldSingle.started, heldBatch.started, heldPredict.started]);

    // Act: SIGTERM while all of that is going on; the held bodies arrive once it is draining
    server.terminate();
    await waitFor(() => server.stderr().includes('SIGTERM: draining'), 'the server to start draining');
    const [singleRes, batchRes, predictRes] = await Promise.all([
      heldSingle.finish(),
      heldBatch.finish(),
      heldPredict.finish(),
    ]);
    const exit = await server.exited;
    await load.stop();

    // Assess
    expect(singleRes).toMatchObject({ status: 202, json: { status: 'accepted', id: 'held-single' } });
    expect(batchRes.status).toBe(200);
    expect(batchRes.json.results.map((r: { status: string }) => r.status)).toEqual(batch.map(() => 'accepted'));
    expect(predictRes.status).toBe(200);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(load.unexpected).toEqual([]);
    const impressions = await lakeIdCounts(dir.path, 'ad_impressions', 'impression_id');
    const acknowledged = [...load.acked, single.impression_id, ...batch.map((e) => e.impression_id)];
    const missing = acknowledged.filter((id) => impressions.get(id) !== 1);
    expect(missing, `${missing.length} of ${acknowledged.length} acknowledged impressions`).toEqual([]);
    const predictions = await lakeIdCounts(dir.path, 'model_predictions', 'prediction_id');
    expect(predictions.get(predictRes.json.prediction_id)).toBe(1);
  });

  it('closes a kept-alive connection after the request in flight at SIGTERM', async () => {
    // Prepare: a keep-alive client with a request in flight
    const { server } = await start('shutdown-keepalive');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const held = holdRequest(server.url, '/event/impression', impression('ka-held'), agent);
      await held.started;

      // Act
      server.terminate();
      await waitFor(() => server.stderr().includes('SIGTERM: draining'), 'the server to start draining');
      const first = await held.finish();
      const next = await postOn(agent, server.url, '/event/impression', impression('ka-after-sigterm'));

      // Assess
      expect(first.status).toBe(202);
      expect(first.connection).toBe('close');
      expect(next).toBeInstanceOf(Error);
    } finally {
      agent.destroy();
      await stopHard(server);
    }
  });
});
