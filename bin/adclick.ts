#!/usr/bin/env -S npx tsx
import { Command, InvalidArgumentError } from 'commander';
import { VERSION } from '../lambdas/core/version.js';
import { defineBuildTrainingSetCommand } from './commands/build-training-set.js';
import { defineDashboardCommand } from './commands/dashboard.js';
import { defineEvaluateCommand } from './commands/evaluate.js';
import { uploadModel } from './commands/model-upload.js';
import { defineRetrainCommand } from './commands/retrain.js';
import { defineScoreCommand } from './commands/score.js';
import { serve } from './commands/serve.js';
import { defineSimulateCommand } from './commands/simulate.js';
import { defineTrainCommand } from './commands/train.js';

const program = new Command()
  .name('adclick')
  .description('Ad click prediction: serve predictions, log events, train, score and evaluate models, manage them.')
  .version(VERSION)
  .showHelpAfterError()
  // `model upload --version` is the model's version: program options stop at the subcommand.
  .enablePositionalOptions();

program
  .command('serve')
  .summary('run the local server on its embedded defaults (what `npm start` runs)')
  .description(
    [
      'Run the local server on its embedded defaults (what `npm start` runs).',
      '',
      'Configuration comes from the environment:',
      '  HOST                 address to listen on (default 127.0.0.1; a non-loopback address needs ADCLICK_API_KEYS)',
      '  PORT                 port (default 3000; 0 picks a free one)',
      '  ADCLICK_DATA_DIR     where state, events, the lake and models live (default ./.adclick)',
      '  ADCLICK_API_KEYS     comma-separated API keys for /predict* and /event/* (none needed on loopback)',
      '  ADCLICK_ADMIN_TOKEN  bearer token for admin routes (default: generated at first start into the data dir)',
      '  ADCLICK_LOG_LEVEL    info | warn | error | silent (default info)',
      '  ADCLICK_BOOTSTRAP_ROWS  simulated rows the first model is trained on (default 200000)',
    ].join('\n'),
  )
  .action(async () => {
    await serve(process.env);
  });

defineTrainCommand(program);
defineScoreCommand(program);
defineEvaluateCommand(program);
defineBuildTrainingSetCommand(program);
defineRetrainCommand(program);
defineSimulateCommand(program);
defineDashboardCommand(program);

const model = program
  .command('model')
  .summary('manage models in the registry')
  .description('Manage models in the registry.');

function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

model
  .command('upload')
  .summary('register, upload and validate a model folder')
  .description(
    'Upload a model folder (model.json + weights) in the three steps of the API: register the version, PUT the tar.gz artifact, complete (which validates it and registers it as a candidate).',
  )
  .argument('<dir>', 'model folder, as written by training')
  .option('--server <url>', 'server base URL (env ADCLICK_URL)', process.env.ADCLICK_URL ?? 'http://127.0.0.1:3000')
  // The token's default is resolved in the action, never shown by --help: it is a secret.
  .option('--token <token>', 'admin bearer token (env ADCLICK_ADMIN_TOKEN; default: the token file in --data-dir)')
  .option(
    '--data-dir <dir>',
    'local data dir to read the admin token from (env ADCLICK_DATA_DIR)',
    process.env.ADCLICK_DATA_DIR ?? './.adclick',
  )
  .option('--version <version>', "version label, unique in the registry (default: the folder's model.json created_at)")
  .option('--metadata <key=value>', 'a metadata label; repeat for more', keyValue, {})
  .option('--activate', 'activate the model after the upload if it passes the gate', false)
  .option('--force', 'with --activate: activate even if the gate refuses', false)
  .action(async (dir: string, options) => {
    const result = await uploadModel(dir, {
      ...options,
      token: options.token || process.env.ADCLICK_ADMIN_TOKEN || undefined,
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  });

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`adclick: ${err.message}\n`);
  process.exit(1);
});
