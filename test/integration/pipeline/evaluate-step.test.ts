/**
 * The evaluate step reads models in the shapes the pipeline hands it: a SageMaker training job's
 * model.tar.gz, alone or in the folder a processing input downloads it to, as well as the model
 * folders `adclick retrain` passes; the numbers do not depend on the shape.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateStep } from '../../../lambdas/pipeline/steps/evaluate.js';
import { packModel } from '../../../sagemaker/model/pack.js';
import { trainStep, writeHyperparameters } from '../../../sagemaker/pipeline/train-step.js';
import { simulatedExamples } from '../../../sagemaker/simulate.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const WORLD = { seed: 31 };
const COLUMNS = ['device_type', 'location', 'ad_id', 'category', 'position'];

async function writeCsv(file: string, from: number, to: number): Promise<void> {
  const lines = [['click', ...COLUMNS].join(',')];
  for (const e of simulatedExamples(WORLD, from, to)) {
    const f = e.features as Record<string, unknown>;
    lines.push([e.label, ...COLUMNS.map((c) => String(f[c] ?? ''))].join(','));
  }
  await writeFile(file, `${lines.join('\n')}\n`);
}

async function writeHoldout(file: string, from: number, to: number): Promise<void> {
  const lines = [...simulatedExamples(WORLD, from, to)].map((e) =>
    JSON.stringify({
      features: Object.fromEntries(COLUMNS.map((c) => [c, (e.features as Record<string, unknown>)[c]])),
      label: e.label,
    }),
  );
  await writeFile(file, `${lines.join('\n')}\n`);
}

function runEvaluate(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'lambdas/pipeline/steps/evaluate.ts'), ...args],
      {
        cwd: ROOT,
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.resume();
    child.on('exit', (code) => done({ code, stderr }));
  });
}

describe('the evaluate step', () => {
  let work: string;
  let candidateDir: string;
  let championDir: string;
  let holdout: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'adclick-evaluate-step-'));
    await writeHyperparameters(join(work, 'hp.json'), { bits: '14', passes: '2', categorical: 'position' });
    await writeCsv(join(work, 'a.csv'), 0, 6000);
    await writeCsv(join(work, 'b.csv'), 6000, 9000);
    candidateDir = join(work, 'candidate');
    championDir = join(work, 'champion');
    await trainStep({ data: join(work, 'a.csv'), hyperparametersFile: join(work, 'hp.json'), modelDir: candidateDir });
    await trainStep({ data: join(work, 'b.csv'), hyperparametersFile: join(work, 'hp.json'), modelDir: championDir });
    holdout = join(work, 'holdout.jsonl');
    await writeHoldout(holdout, 9000, 11_000);
  }, 60_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('scores model.tar.gz archives exactly as the model folders they hold', async () => {
    // Prepare: the candidate as a training job writes it, the champion in a processing input folder.
    const candidateArchive = join(work, 'candidate.tar.gz');
    await writeFile(candidateArchive, await packModel(candidateDir));
    const championInput = join(work, 'input-champion');
    await mkdir(championInput);
    await writeFile(join(championInput, 'model.tar.gz'), await packModel(championDir));

    // Act
    const fromFolders = await evaluateStep({ holdoutFile: holdout, candidateDir, championDir });
    const fromArchives = await evaluateStep({
      holdoutFile: holdout,
      candidateDir: candidateArchive,
      championDir: championInput,
    });

    // Assess
    expect(fromArchives.candidate).toEqual(fromFolders.candidate);
    expect(fromArchives.champion).toEqual(fromFolders.champion);
    expect(fromFolders.candidate.overall.logloss).not.toBe(fromFolders.champion?.overall.logloss);
  }, 60_000);

  it('writes evaluation.json into an output folder that does not exist yet, from the command line', async () => {
    // Prepare: the pipeline's Evaluate step mounts each input as a folder holding model.tar.gz.
    const candidateInput = join(work, 'input-candidate');
    await mkdir(candidateInput);
    await writeFile(join(candidateInput, 'model.tar.gz'), await packModel(candidateDir));
    const out = join(work, 'output', 'gate', 'evaluation.json');

    // Act
    const run = await runEvaluate([
      '--holdout',
      holdout,
      '--candidate',
      candidateInput,
      '--champion',
      championDir,
      '--out',
      out,
    ]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const evaluation = JSON.parse(await readFile(out, 'utf8'));
    expect(evaluation.candidate.overall.rows).toBe(2000);
    expect(evaluation.champion.overall.rows).toBe(2000);
  }, 60_000);

  it('fails naming the input when it holds no model', async () => {
    // Prepare
    const empty = join(work, 'input-empty');
    await mkdir(empty);

    // Act
    const run = await runEvaluate(['--holdout', holdout, '--candidate', empty]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${empty} holds neither model.json nor a model.tar.gz`);
  }, 30_000);
});
