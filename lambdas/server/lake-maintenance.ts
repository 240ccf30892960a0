import { join } from 'node:path';
import type { LakeDatabase } from '../adapters/local/duckdb/lake-database.js';
import type { DurableEventLog } from '../adapters/local/event-log/durable-event-log.js';
import { LakePartitionCompaction } from '../adapters/local/lake/partition-compaction.js';
import { expireLakePartitions } from '../adapters/local/lake/retention.js';
import type { Logger } from '../core/ports.js';

/** How often the lake is checked for partitions past their retention. */
const RETENTION_INTERVAL_MS = 3_600_000;

export interface LakeMaintenanceOptions {
  readonly dataDir: string;
  readonly events: Pick<DurableEventLog, 'mergePartition'>;
  readonly lake: Pick<LakeDatabase, 'exclusive'>;
  readonly logger: Logger;
  /** Minutes between merges of closed partitions' small files; 0: never. */
  readonly compactionMinutes: number;
  /** While true, no partition's files are replaced (a retrain reads the lake from its own process). */
  readonly paused: () => boolean;
  /** Runs lake rewrites one at a time, with the erasures; logs `failure` if one throws. */
  readonly schedule: (run: () => Promise<void>, failure: string) => void;
}

export interface LakeMaintenance {
  stop(): void;
}

/**
 * The local lake's upkeep: the merging of closed partitions' small files (every
 * `compactionMinutes`) and the retention each table promises (docs/lake-tables.md; at start and
 * hourly, and not optional: it is a privacy promise). Both go through `schedule`, the queue
 * erasures use. Before it returns it clears what an interrupted merge staged, so an erasure
 * resumed next leaves no stray copy of the user's rows.
 */
export async function startLakeMaintenance(o: LakeMaintenanceOptions): Promise<LakeMaintenance> {
  const lakeDir = join(o.dataDir, 'lake');
  const partitions = new LakePartitionCompaction(lakeDir, o.events, o.lake, {
    tempDirectory: join(o.dataDir, 'duckdb-tmp'),
    stagingDir: join(o.dataDir, 'lake-staging'),
    logger: o.logger,
    paused: o.paused,
  });
  await partitions.clearStaging();

  let compacting = false;
  const compact = () => {
    // A run that outlasts the interval is not queued twice.
    if (compacting) return;
    compacting = true;
    o.schedule(async () => {
      try {
        const result = await partitions.run();
        if (result.partitions > 0 || result.failed > 0) o.logger.info('lake partitions compacted', { ...result });
      } finally {
        compacting = false;
      }
    }, 'lake compaction failed; the next interval tries again');
  };
  const expire = () =>
    o.schedule(async () => {
      const { expired } = await expireLakePartitions(lakeDir, o.lake, Date.now());
      if (Object.keys(expired).length > 0) o.logger.info('lake partitions past their retention deleted', { expired });
    }, 'lake retention failed; the next hour tries again');

  const compaction = o.compactionMinutes > 0 ? setInterval(compact, o.compactionMinutes * 60_000) : undefined;
  compaction?.unref();
  expire();
  const retention = setInterval(expire, RETENTION_INTERVAL_MS);
  retention.unref();
  return {
    stop() {
      clearInterval(compaction);
      clearInterval(retention);
    },
  };
}
