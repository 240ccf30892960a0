import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DurableEventLog } from '../../../lambdas/adapters/local/event-log/durable-event-log.js';
import { idCounts, type TempDirs, tempDirs } from './lake-helpers.js';

const TSX = resolve('node_modules/.bin/tsx');
const CHILD = resolve(import.meta.dirname, 'crash-child.ts');

function killGroup(proc: ChildProcess): void {
  try {
    process.kill(-proc.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function lakeHasFiles(lakeDir: string): Promise<boolean> {
  const entries = await readdir(lakeDir, { recursive: true }).catch(() => [] as string[]);
  return entries.some((name) => name.endsWith('.parquet'));
}

describe('DurableEventLog after a crash', () => {
  let dirs: TempDirs;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    dirs = await tempDirs('event-log-crash-');
  });

  afterEach(async () => {
    if (child) killGroup(child);
    await dirs.cleanup();
  });

  it('finds every acknowledged id in the lake exactly once after a SIGKILL mid-stream', async () => {
    // Prepare: a child appending in a loop, printing each acknowledged id
    // Its own process group: tsx runs the script in a child node process, and both must die at once.
    const proc = spawn(TSX, [CHILD, dirs.logDir, dirs.lakeDir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = proc;
    const exited = new Promise<void>((done) => proc.once('close', () => done()));
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const acknowledged = () => stdout.split('\n').length - 2;
    while (acknowledged() < 3000 || !(await lakeHasFiles(dirs.lakeDir))) {
      if (proc.exitCode !== null) throw new Error(`child exited early (${proc.exitCode}): ${stderr}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }

    // Act: kill it mid-stream, then reopen the log here and compact what it left
    killGroup(proc);
    await exited;
    const lines = stdout.slice(0, stdout.lastIndexOf('\n')).split('\n').slice(1);
    const log = await DurableEventLog.open({
      dir: dirs.logDir,
      lakeDir: dirs.lakeDir,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    await log.close();

    // Assess
    expect(proc.signalCode).toBe('SIGKILL');
    expect(stdout.startsWith('ready\n')).toBe(true);
    const acked = { ad_impressions: new Set<string>(), clicks: new Set<string>() };
    for (const line of lines) {
      const [table, id] = line.split(' ') as ['ad_impressions' | 'clicks', string];
      acked[table].add(id);
    }
    const impressions = await idCounts(dirs.lakeDir, 'ad_impressions', 'impression_id');
    const clicks = await idCounts(dirs.lakeDir, 'clicks', 'click_id');
    expect([...acked.ad_impressions].filter((id) => impressions.get(id) !== 1)).toEqual([]);
    expect([...acked.clicks].filter((id) => clicks.get(id) !== 1)).toEqual([]);
    expect([...impressions.values(), ...clicks.values()].every((n) => n === 1)).toBe(true);
    expect(await readdir(dirs.logDir)).toEqual([]);
    expect(acked.clicks.size).toBeGreaterThan(1000);
  });
});
