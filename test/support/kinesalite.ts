/**
 * An in-process Kinesis emulator (kinesalite) for integration tests: started on a free port,
 * with a client wired to it and helpers to create streams and read every record back.
 */

import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

interface KinesaliteServer {
  listen(port: number, host: string, callback: (err?: Error) => void): void;
  close(callback: (err?: Error) => void): void;
  address(): AddressInfo | string | null;
}

// kinesalite is CommonJS without type declarations.
const kinesalite = createRequire(import.meta.url)('kinesalite') as (options: {
  createStreamMs: number;
  deleteStreamMs: number;
  updateStreamMs: number;
  shardLimit: number;
}) => KinesaliteServer;

export interface StoredRecord {
  readonly partitionKey: string;
  readonly data: string;
  readonly shardId: string;
}

export interface Kinesalite {
  readonly endpoint: string;
  /** A client on the emulator; `NodeHttpHandler` because the SDK's default handler fails against it. */
  readonly client: KinesisClient;
  createStream(name: string, shards?: number): Promise<void>;
  /** Every record of the stream, shard by shard, from the trim horizon to the tip. */
  readRecords(name: string): Promise<StoredRecord[]>;
  stop(): Promise<void>;
}

export async function startKinesalite(): Promise<Kinesalite> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = kinesisClientFor(endpoint);

  async function createStream(name: string, shards = 1): Promise<void> {
    await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    // kinesalite makes the stream ACTIVE on a timer even at 0 ms; wait for it.
    for (;;) {
      const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: name }));
      if (StreamDescription?.StreamStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function readRecords(name: string): Promise<StoredRecord[]> {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: name }));
    const records: StoredRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId!;
      let iterator = (
        await client.send(
          new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator;
      while (iterator) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        const got = page.Records ?? [];
        for (const r of got) {
          records.push({ partitionKey: r.PartitionKey!, data: Buffer.from(r.Data!).toString('utf8'), shardId });
        }
        if (got.length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return records;
  }

  async function stop(): Promise<void> {
    client.destroy();
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  }

  return { endpoint, client, createStream, readRecords, stop };
}

export function kinesisClientFor(endpoint: string): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
    // Failures are injected by the tests; the SDK's own retries would only hide them.
    maxAttempts: 1,
  });
}
