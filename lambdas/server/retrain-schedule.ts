/**
 * Retraining on an interval (ADCLICK_RETRAIN_INTERVAL_MINUTES): every interval the server runs
 * `adclick retrain --json` against itself as a child process and logs the outcome. A child rather
 * than in-process: training holds hundreds of MB that go with the process, a crash in it cannot
 * take the server down, and it is exactly the command a person runs. One run at a time: a tick
 * that finds the previous run still going is skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/ports.js';

export interface RetrainScheduleOptions {
  readonly minutes: number;
  readonly activate: boolean;
  /** Continue from the champion (`--warm-start`) instead of training fresh (docs/retraining.md). */
  readonly warmStart?: boolean;
  readonly url: string;
  readonly dataDir: string;
  readonly adminToken: string;
  readonly logger: Logger;
  /** What runs `adclick`: node and bin/adclick.js unless told (a test hook). */
  readonly command?: { readonly executable: string; readonly args: readonly string[] };
}

export interface RetrainSchedule {
  /** A retrain is running (it reads the lake from another process). */
  readonly busy: boolean;
  stop(): Promise<void>;
}

/** The CLI beside this module: bin/adclick.js from the sources (it loads tsx), dist/bin from a build. */
const CLI = fileURLToPath(new URL('../../bin/adclick.js', import.meta.url));

export function startRetrainSchedule(options: RetrainScheduleOptions): RetrainSchedule {
  const { logger } = options;
  let running: ChildProcess | null = null;
  let finished: Promise<void> = Promise.resolve();

  const runOnce = () => {
    if (running) {
      logger.warn('retrain skipped: the previous run is still going');
      return;
    }
    const command = options.command ?? { executable: process.execPath, args: [CLI] };
    const args = [...command.args, 'retrain', '--json', '--server', options.url, '--data-dir', options.dataDir];
    if (options.activate) args.push('--activate');
    if (options.warmStart) args.push('--warm-start');
    // The token goes through the environment, never the command line (which `ps` shows).
    const child = spawn(command.executable, args, {
      env: { ...process.env, ADCLICK_ADMIN_TOKEN: options.adminToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr = (stderr + d).slice(-4096);
    });
    logger.info('retrain started', { pid: child.pid });
    finished = new Promise((done) => {
      child.on('close', (code) => {
        running = null;
        if (code === 0) {
          try {
            const s = JSON.parse(stdout) as {
              model: { model_id: string; status: string };
              gate: { passed: boolean; reasons: string[] };
              candidate: { logloss: number };
              champion: { logloss: number } | null;
              activation: { activated: boolean } | null;
            };
            logger.info('retrain finished', {
              model_id: s.model.model_id,
              status: s.model.status,
              gate_passed: s.gate.passed,
              gate_reasons: s.gate.reasons,
              candidate_logloss: s.candidate.logloss,
              champion_logloss: s.champion?.logloss ?? null,
              activated: s.activation?.activated ?? false,
            });
          } catch {
            logger.warn('retrain finished without a readable summary');
          }
        } else {
          const reason = stderr.trim().split('\n').pop() ?? '';
          logger.warn('retrain failed', { exit_code: code, reason });
        }
        done();
      });
    });
  };

  const timer = setInterval(runOnce, options.minutes * 60_000);
  timer.unref();
  return {
    get busy() {
      return running !== null;
    },
    async stop() {
      clearInterval(timer);
      running?.kill('SIGTERM');
      await finished;
    },
  };
}
