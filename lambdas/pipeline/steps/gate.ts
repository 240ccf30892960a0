/**
 * Step 4 of the retraining pipeline (docs/retraining.md): the gate of DESIGN.md on the
 * evaluation step's numbers, with the very rule `PUT /model/activate` applies
 * (lambdas/core/usecases/gate.ts). In the SageMaker Pipeline it backs the condition step: its
 * JSON output carries `passed`.
 *
 * CLI: `tsx lambdas/pipeline/steps/gate.ts --evaluation evaluation.json [--out gate.json]`; exits 0
 * either way (the verdict is data, not a failure).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { GateReport } from '../../core/schemas/models.js';
import { decideGate } from '../../core/usecases/gate.js';
import type { Evaluation } from './evaluate.js';

export function gateStep(evaluation: Evaluation): GateReport {
  const { candidate, champion } = evaluation;
  return decideGate(
    evaluation.holdout,
    { ...candidate.overall, segments: candidate.segments },
    champion ? { ...champion.overall, segments: champion.segments } : null,
  );
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { evaluation: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  if (!values.evaluation) throw new Error('usage: gate --evaluation FILE [--out FILE]');
  const report = gateStep(JSON.parse(await readFile(values.evaluation, 'utf8')) as Evaluation);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (values.out) await writeFile(values.out, text);
  process.stdout.write(text);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`gate: ${err.message}\n`);
    process.exit(1);
  });
}
