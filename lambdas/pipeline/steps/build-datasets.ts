/**
 * Step 1 of the retraining pipeline (docs/retraining.md): the training set of [train.from,
 * train.to) as the csv `adclick train` reads, and the time-later holdout of [holdout.from,
 * holdout.to) as the holdout.jsonl the gate reads (`{"features": {...}, "label": 0|1}` a line,
 * lambdas/adapters/shared/holdout-metrics.ts). Both come from the same training-set build
 * (sql/training/training-set.sql on the local lake), so the holdout is labelled exactly as the
 * training rows are; the holdout keeps every negative (its metrics are the traffic's), and its
 * features are the logged JSON snapshots, typed as the scorer sees them online.
 *
 * In AWS the pipeline's first step runs the same SQL on Athena (`buildDatasetsOnAthena`).
 * CLI: `tsx lambdas/pipeline/steps/build-datasets.ts --lake DIR --from T --to T --holdout-to T
 * --out DIR [--cutoff T] [--negative-rate r]` writes DIR/train.csv, DIR/holdout.jsonl and
 * DIR/datasets.json. With `--athena` (the pipeline's BuildTrainingSet, aws-steps.ts): `--out DIR
 * [--from T] [--to T] [--holdout-hours N] [--negative-rate r] [--warm-start fresh|warm]
 * [--cutoff T] [--workgroup W --database D --output-location S3URI]` (empty or 0 values: derived
 * as `adclick retrain` derives them) writes DIR/train/train.csv, DIR/holdout/holdout.jsonl,
 * DIR/champion/model.tar.gz and DIR/datasets/datasets.json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDatasets } from './datasets.js';

// The library (datasets.ts) is re-exported: `adclick retrain` and the tests import it from here.
export * from './datasets.js';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      lake: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'holdout-to': { type: 'string' },
      cutoff: { type: 'string' },
      'negative-rate': { type: 'string' },
      out: { type: 'string' },
      athena: { type: 'boolean' },
      'holdout-hours': { type: 'string' },
      'warm-start': { type: 'string' },
      workgroup: { type: 'string' },
      database: { type: 'string' },
      'output-location': { type: 'string' },
    },
    strict: true,
  });
  if (values.athena) {
    if (!values.out) throw new Error('usage: build-datasets --athena --out DIR [--from T] [--to T] ...');
    const { buildOnAws } = await import('./aws-steps.js');
    const report = await buildOnAws({
      from: values.from,
      to: values.to,
      holdoutHours: values['holdout-hours'],
      negativeRate: values['negative-rate'],
      warmStart: values['warm-start'],
      cutoff: values.cutoff,
      out: values.out,
      workgroup: values.workgroup,
      database: values.database,
      outputLocation: values['output-location'],
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const { lake, from, to, out } = values;
  const holdoutTo = values['holdout-to'];
  if (!lake || !from || !to || !holdoutTo || !out) {
    throw new Error('usage: build-datasets --lake DIR --from T --to T --holdout-to T --out DIR');
  }
  const built = await buildDatasets({
    lakeDir: lake,
    train: { from: new Date(from), to: new Date(to) },
    holdout: { from: new Date(to), to: new Date(holdoutTo) },
    cutoff: values.cutoff ? new Date(values.cutoff) : new Date(),
    negativeRate: values['negative-rate'] ? Number(values['negative-rate']) : 1,
    trainCsv: join(out, 'train.csv'),
    holdoutFile: join(out, 'holdout.jsonl'),
  });
  await writeFile(join(out, 'datasets.json'), `${JSON.stringify(built, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(built)}\n`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`build-datasets: ${err.message}\n`);
    process.exit(1);
  });
}
