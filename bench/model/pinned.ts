/**
 * Runs a command to completion pinned to one core (`taskset -c CORE`), timing it, sampling its
 * RSS and measuring how much of the core other processes took meanwhile (the machine may be
 * shared; a disturbed timing must say so).
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT, RssSampler, watchChild } from '../support.js';

export interface PinnedRun {
  readonly stdout: string;
  readonly stderr: string;
  /** Wall seconds from spawn to exit. */
  readonly seconds: number;
  /** Peak sampled VmRSS in MB (the kernel's high-water mark when that is larger). */
  readonly rssPeakMb: number;
  /** Share of the core that other processes took during the run (0..1). */
  readonly otherLoad: number;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs `command args` under `taskset -c core` from the repository root; rejects on a non-zero exit. */
export function runPinned(
  core: number,
  command: string,
  args: readonly string[],
  o: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<PinnedRun> {
  return new Promise((resolveRun, rejectRun) => {
    const t0 = performance.now();
    const child = spawn('taskset', ['-c', String(core), command, ...args], {
      cwd: o.cwd ?? REPO_ROOT,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // taskset execs the command, so the child's pid is the command's own.
    const pid = child.pid;
    const rss = pid === undefined ? undefined : new RssSampler(pid, 100);
    const watch = watchChild(core, pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    child.on('error', (err) => {
      watch();
      rss?.stop();
      rejectRun(err);
    });
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      const otherLoad = watch().other;
      rss?.stop();
      if (code !== 0) {
        rejectRun(
          new CommandError(`${command} ${args.join(' ')} failed (${code ?? signal}):\n${tail(stderr)}`, stdout, stderr),
        );
        return;
      }
      resolveRun({
        stdout,
        stderr,
        seconds,
        rssPeakMb: Math.max(rss?.peakMb() ?? 0, rss?.hwmMb ?? 0),
        otherLoad,
      });
    });
  });
}
