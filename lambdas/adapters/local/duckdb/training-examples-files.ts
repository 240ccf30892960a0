/**
 * Puts a training-set build's staged Parquet files into the lake's `training_examples` table, so
 * that building the same impression hours again replaces their rows instead of adding a copy.
 *
 * A row sits in the partition of its prediction time (the table's event time), but a build owns
 * rows by the hour of their impression, so a file's name says which impression hour it holds:
 *
 *   staged: <staging>/dt=D/hour=H/impression_hour=K/part_<i>.parquet   (DuckDB's partitioned COPY)
 *   lake:   <lake>/training_examples/dt=D/hour=H/impressions-K-<i>.parquet
 *
 * Publishing renames each staged file over its lake name (atomic per file), then deletes every
 * other file of the build's impression hours, wherever it sits: what an earlier build of those
 * hours wrote and this one did not (e.g. rows since erased, or a negative no longer sampled). For a
 * moment a reader may see both an old and a new copy of a row in different partitions; readers
 * de-duplicate on prediction_id anyway (the lake is at least once), so the answer is unchanged.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../event-log/segment.js';

export const TRAINING_EXAMPLES_DIR = 'training_examples';

/** `impressions-<YYYY-MM-DDTHH>-<i>.parquet`: the impression hour and the part number. */
const LAKE_FILE = /^impressions-(\d{4}-\d{2}-\d{2}T\d{2})-(\d+)\.parquet$/;
const STAGED_FILE = /^part_(\d+)\.parquet$/;

export interface StagedFile {
  readonly path: string;
  /** `dt=D` and `hour=H` directory names. */
  readonly dtDir: string;
  readonly hourDir: string;
  readonly impressionHour: string;
  readonly part: number;
}

async function subdirs(dir: string, prefix: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && e.name.startsWith(prefix)).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The Parquet files of a staged build (none when the build had no rows). */
export async function stagedFiles(stagingDir: string): Promise<StagedFile[]> {
  const out: StagedFile[] = [];
  for (const dtDir of await subdirs(stagingDir, 'dt=')) {
    for (const hourDir of await subdirs(join(stagingDir, dtDir), 'hour=')) {
      for (const impressionDir of await subdirs(join(stagingDir, dtDir, hourDir), 'impression_hour=')) {
        const dir = join(stagingDir, dtDir, hourDir, impressionDir);
        for (const name of await readdir(dir)) {
          const m = STAGED_FILE.exec(name);
          if (!m) continue;
          out.push({
            path: join(dir, name),
            dtDir,
            hourDir,
            impressionHour: impressionDir.slice('impression_hour='.length),
            part: Number(m[1]),
          });
        }
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface PublishResult {
  /** The lake files written, absolute paths. */
  readonly written: string[];
  /** Files of earlier builds of the same impression hours that were deleted. */
  readonly removed: string[];
}

/**
 * Moves the staged files into the lake and deletes the other files of the build's impression
 * hours. `dtRange` bounds the `dt=` partitions searched (inclusive, `YYYY-MM-DD`): every row of
 * those hours has its prediction time in it.
 */
export async function publishTrainingExamples(
  staged: readonly StagedFile[],
  lakeDir: string,
  impressionHours: readonly string[],
  dtRange: { readonly from: string; readonly to: string },
): Promise<PublishResult> {
  const tableDir = join(lakeDir, TRAINING_EXAMPLES_DIR);
  const written: string[] = [];
  const touched = new Set<string>();
  for (const file of staged) {
    const dir = join(tableDir, file.dtDir, file.hourDir);
    await mkdir(dir, { recursive: true });
    const target = join(dir, `impressions-${file.impressionHour}-${file.part}.parquet`);
    await rename(file.path, target);
    written.push(target);
    touched.add(dir);
  }

  const hours = new Set(impressionHours);
  const keep = new Set(written);
  const removed: string[] = [];
  for (const dtDir of await subdirs(tableDir, 'dt=')) {
    const dt = dtDir.slice('dt='.length);
    if (dt < dtRange.from || dt > dtRange.to) continue;
    for (const hourDir of await subdirs(join(tableDir, dtDir), 'hour=')) {
      const dir = join(tableDir, dtDir, hourDir);
      for (const name of await readdir(dir)) {
        const m = LAKE_FILE.exec(name);
        const path = join(dir, name);
        if (!m || !hours.has(m[1]!) || keep.has(path)) continue;
        await rm(path, { force: true });
        removed.push(path);
        touched.add(dir);
      }
    }
  }
  for (const dir of touched) await fsyncDir(dir);
  return { written, removed };
}
