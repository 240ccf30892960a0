/**
 * The Python peer benchmark (outside this repository: `peers.py` trains XGBoost, a hashed
 * logistic regression and the constant click rate; `score_preds.py` scores any prediction file
 * with the same metric code) and the typed shapes of what they print.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type PinnedRun, REPO_ROOT, runPinned } from '../support.js';

/** Debian's python with python3-xgboost; a virtualenv's python would lack it. */
export const PYTHON = '/usr/bin/python3';

export const APT_INSTALL = 'sudo apt-get install -y python3-xgboost python3-sklearn python3-pandas python3-numpy';

/** Where peers.py, score_preds.py and prepare_real.py live: ADCLICK_PEERS_DIR or ../shared/bench. */
export function defaultPeersDir(): string {
  return process.env.ADCLICK_PEERS_DIR ?? resolve(REPO_ROOT, '..', 'shared', 'bench');
}

/** Why the peers cannot run, or null when they can. */
export function peersProblem(peersDir: string): string | null {
  for (const script of ['peers.py', 'score_preds.py']) {
    if (!existsSync(join(peersDir, script))) {
      return `${join(peersDir, script)} not found; point --peers (or ADCLICK_PEERS_DIR) at the peer benchmark's folder`;
    }
  }
  const r = spawnSync(PYTHON, ['-c', 'import xgboost, sklearn, pandas, numpy; print(xgboost.__version__)'], {
    encoding: 'utf8',
  });
  if (r.error) return `${PYTHON} not found; the peers need Debian's python3 with:\n  ${APT_INSTALL}`;
  if (r.status !== 0) {
    const missing = /No module named '([^']+)'/.exec(r.stderr)?.[1] ?? 'a module';
    return `${PYTHON} cannot import ${missing}; install the peers' packages:\n  ${APT_INSTALL}`;
  }
  return null;
}

export function xgboostVersion(): string {
  const r = spawnSync(PYTHON, ['-c', 'import xgboost; print(xgboost.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** One model's metrics, as score_preds.py and peers.py print them (null: not finite). */
export interface Metrics {
  readonly logloss: number;
  readonly auc: number | null;
  readonly ne: number | null;
  readonly calibration: number | null;
  readonly mean_pred: number;
  readonly kl_to_truth?: number;
  readonly excess_logloss_vs_oracle?: number;
}

export interface PeerModel extends Metrics {
  readonly train_s: number;
  readonly predict_s: number;
  readonly info?: unknown;
}

export interface PeersOutput {
  readonly train_rows: number;
  readonly test_rows: number;
  readonly train_ctr: number;
  readonly test_ctr: number;
  readonly threads: number;
  readonly columns: unknown;
  readonly models: Record<string, PeerModel>;
}

export interface ScoreOutput {
  readonly test_rows: number;
  readonly test_ctr: number;
  readonly models: Record<string, Metrics>;
}

function parseJson<T>(what: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${what} printed no JSON (${String(e)}):\n${text.slice(0, 2000)}`);
  }
}

/** peers.py on one core, one xgboost thread: the time comparison is one core against one core. */
export async function runPeers(
  peersDir: string,
  core: number,
  o: {
    readonly train: string;
    readonly test: string;
    readonly predsDir: string;
    /** Subset of xgb,lr,const (default all three). */
    readonly models?: readonly string[];
  },
): Promise<{ output: PeersOutput; run: PinnedRun }> {
  const run = await runPinned(core, PYTHON, [
    join(peersDir, 'peers.py'),
    '--train',
    o.train,
    '--test',
    o.test,
    '--save-preds',
    o.predsDir,
    '--threads',
    '1',
    ...(o.models ? ['--models', o.models.join(',')] : []),
  ]);
  return { output: parseJson<PeersOutput>('peers.py', run.stdout), run };
}

/** score_preds.py over prediction files named NAME.pred.txt (the model's name in the output). */
export function scorePredictions(
  peersDir: string,
  test: string,
  predictions: readonly string[],
  truth?: string,
): ScoreOutput {
  const args = [join(peersDir, 'score_preds.py'), test, ...predictions, ...(truth ? ['--truth', truth] : [])];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`score_preds.py failed (${r.status}):\n${r.stderr}`);
  return parseJson<ScoreOutput>('score_preds.py', r.stdout);
}

/** prepare_real.py: splits the Criteo and Avazu samples into OUT/{criteo,avazu}/{train,test}.csv. */
export function prepareReal(peersDir: string, out: string): void {
  const r = spawnSync(PYTHON, [join(peersDir, 'prepare_real.py'), '--out', out], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`prepare_real.py failed (${r.status}):\n${r.stderr}`);
}

/** The real samples prepare_real.py reads: `<peers>/../data`. */
export function realDataDir(peersDir: string): string {
  return resolve(peersDir, '..', 'data');
}
