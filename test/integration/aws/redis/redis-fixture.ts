import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import { createRedisClient } from '../../../../lambdas/adapters/aws/redis/redis-client.js';
import type { RedisServer } from '../../../support/redis-server.js';

/**
 * A client with the production defaults except a generous command timeout: two shared cores
 * under a parallel test run can stall a reply past 15 ms, which is not what these tests are about.
 */
export async function connect(server: RedisServer): Promise<Redis> {
  const client = createRedisClient(server.url, { commandTimeout: 2_000, connectTimeout: 2_000 });
  // ioredis reports each failed reconnect as an error event; the tests look at outcomes instead.
  client.on('error', () => {});
  await waitFor(() => client.status === 'ready', 'the client to be ready');
  return client;
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * The commands Redis receives from `client` while `act` runs, through MONITOR. A marker the same
 * client sends after `act` tells when every earlier command has been seen (one connection keeps
 * its order); commands a Lua script runs are left out (they are the script's, not the client's).
 */
export async function commandsDuring(
  server: RedisServer,
  client: Redis,
  act: () => Promise<unknown>,
): Promise<string[][]> {
  const monitorClient = new RedisClient(server.url);
  const monitor = await monitorClient.monitor();
  const source = `127.0.0.1:${(client as unknown as { stream: { localPort: number } }).stream.localPort}`;
  const seen: string[][] = [];
  const marker = `marker-${Math.random()}`;
  let markerSeen = false;
  monitor.on('monitor', (_time: string, args: string[], from: string) => {
    if (from !== source) return;
    if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) markerSeen = true;
    else if (!markerSeen) seen.push(args);
  });
  try {
    await act();
    await client.echo(marker);
    await waitFor(() => markerSeen, 'MONITOR to show the marker');
    return seen;
  } finally {
    monitor.disconnect();
    monitorClient.disconnect();
  }
}
