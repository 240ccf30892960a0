/**
 * The lake in AWS (DELETE /users/{user_id}): Athena finds the partitions that hold the user's
 * rows (`sql/glue/user-partitions.sql`), then the Glue erasure job (glue-jobs/rewrite_partition.py,
 * the same rewrite SQL as the local lake eraser) is started once per table with those partitions.
 * The job rewrites them and deletes every old object version. The receipt entry is `submitted` with
 * the job runs, and the erasure completes once every run SUCCEEDED (`confirm`, at the worker's next
 * ticks); a run that FAILED, TIMEOUT, STOPPED or ERROR fails the erasure, and DELETE starts it again.
 *
 * It waits for the lake's delivery buffer first (`readyAt`): an event or prediction the API
 * acknowledged before the erasure can still sit in Firehose's buffer, and would land in the lake
 * after a rewrite that ran at once.
 */
import { GetJobRunCommand, type GlueClient, StartJobRunCommand } from '@aws-sdk/client-glue';
import type { ErasureTarget, StoreErasure, UserDataEraser } from '../../../core/ports.js';
import type { SqlParam, SqlRow } from '../../shared/sql-values.js';

export const USER_PARTITIONS_QUERY = 'glue/user-partitions';

export interface GlueLakeEraserOptions {
  /** The rewrite job's name (lakeJobName(prefix, 'rewritePartition') in lib/). */
  readonly jobName: string;
  readonly bucket: string;
  readonly lakePrefix: string;
  /** How long after the request the lake is rewritten: Firehose's buffer interval and a margin. */
  readonly deliveryDelayMs: number;
}

/** Glue job run states that will not change any more, other than SUCCEEDED. */
const FAILED_STATES = new Set(['FAILED', 'TIMEOUT', 'STOPPED', 'ERROR', 'EXPIRED']);

export class GlueLakeEraser implements UserDataEraser {
  readonly store = 'lake';

  constructor(
    private readonly athena: { run(name: string, params: readonly SqlParam[]): Promise<SqlRow[]> },
    private readonly glue: Pick<GlueClient, 'send'>,
    private readonly options: GlueLakeEraserOptions,
  ) {}

  readyAt(target: ErasureTarget): Date {
    return new Date(target.requestedAt.getTime() + this.options.deliveryDelayMs);
  }

  async confirm(jobs: readonly string[]): Promise<{ done: boolean; failed?: string }> {
    let done = true;
    for (const job of jobs) {
      const runId = job.slice(job.indexOf(':') + 1);
      const out = await this.glue.send(new GetJobRunCommand({ JobName: this.options.jobName, RunId: runId }));
      const state = out.JobRun?.JobRunState ?? 'UNKNOWN';
      if (FAILED_STATES.has(state)) {
        return { done: false, failed: `Glue run ${job} ended ${state}: ${out.JobRun?.ErrorMessage ?? 'no message'}` };
      }
      if (state !== 'SUCCEEDED') done = false;
    }
    return { done };
  }

  async erase(target: ErasureTarget): Promise<StoreErasure> {
    const rows = await this.athena.run(USER_PARTITIONS_QUERY, Array(4).fill(target.userKey));
    const byTable = new Map<string, { partitions: string[]; rows: number }>();
    let first: string | null = null;
    let last: string | null = null;
    for (const r of rows) {
      const table = String(r.lake_table);
      const partition = `${String(r.dt)}/${String(r.hour).padStart(2, '0')}`;
      const entry = byTable.get(table) ?? { partitions: [], rows: 0 };
      entry.partitions.push(partition);
      entry.rows += Number(r.row_count);
      byTable.set(table, entry);
      if (first === null || partition < first) first = partition;
      if (last === null || partition > last) last = partition;
    }
    const runs: string[] = [];
    const removed: Record<string, number> = {};
    for (const [table, { partitions, rows: count }] of byTable) {
      const out = await this.glue.send(
        new StartJobRunCommand({
          JobName: this.options.jobName,
          Arguments: {
            '--bucket': this.options.bucket,
            '--lake_prefix': this.options.lakePrefix,
            '--table': table,
            '--partitions': partitions.join(','),
            '--users': target.userKey,
            '--erasure_id': target.erasureId,
          },
        }),
      );
      if (!out.JobRunId) throw new Error(`Glue started no run for ${table}`);
      runs.push(`${table}:${out.JobRunId}`);
      removed[table] = count;
    }
    const hourStart = (p: string) => new Date(`${p.slice(0, 10)}T${p.slice(11, 13)}:00:00Z`);
    return {
      status: runs.length > 0 ? 'submitted' : 'completed',
      jobs: runs,
      removed,
      detail:
        runs.length > 0
          ? `Glue job ${this.options.jobName} rewrites the partitions holding the user and deletes their old object versions (runs in jobs). training_examples (derived, 90 days) drop the user when their hours are rebuilt.`
          : 'No partition of the lake holds the user.',
      span:
        first !== null && last !== null
          ? { from: hourStart(first), to: new Date(hourStart(last).getTime() + 3_599_999) }
          : null,
    };
  }
}
