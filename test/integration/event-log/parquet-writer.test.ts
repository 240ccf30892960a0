import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeLakeParquet,
  LakeValueError,
  writeLakeParquetFile,
} from '../../../lambdas/adapters/local/lake/parquet-writer.js';
import { queryDuckDb, type TempDirs, tempDirs } from './lake-helpers.js';

describe('writeLakeParquetFile', () => {
  let dirs: TempDirs;

  beforeEach(async () => {
    dirs = await tempDirs('parquet-writer-');
  });

  afterEach(async () => {
    await dirs.cleanup();
  });

  it('writes each lake column type as the DuckDB type analysts expect, nulls included', async () => {
    // Prepare
    const file = join(dirs.root, 'examples.parquet');
    const rows = [
      {
        prediction_id: 'p-1',
        impression_id: 'i-1',
        ad_id: 'ad-1',
        label: 9_007_199_254_740_991,
        features: '{}',
        model_version: 'v1',
        sample_weight: 0.125,
        timestamp: new Date('2024-05-01T10:00:00.001Z'),
      },
    ];
    const predictions = join(dirs.root, 'predictions.parquet');

    // Act
    await writeLakeParquetFile(file, 'training_examples', rows);
    await writeLakeParquetFile(predictions, 'model_predictions', [
      {
        prediction_id: 'p-1',
        ad_id: 'ad-1',
        probability: 0.5,
        model_version: 'v1',
        model_id: 'm-1',
        variant: 'champion',
        fallback: true,
        consent: false,
        features: '{}',
        timestamp: new Date('2024-05-01T10:00:00Z'),
      },
    ]);

    // Assess
    const types = await queryDuckDb(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      prediction_id: 'VARCHAR',
      impression_id: 'VARCHAR',
      ad_id: 'VARCHAR',
      label: 'BIGINT',
      features: 'VARCHAR',
      model_version: 'VARCHAR',
      sample_weight: 'DOUBLE',
      timestamp: 'TIMESTAMP',
    });
    expect(
      await queryDuckDb(
        `SELECT CAST(label AS VARCHAR) AS label, CAST(timestamp AS VARCHAR) AS ts FROM read_parquet('${file}')`,
      ),
    ).toEqual([{ label: '9007199254740991', ts: '2024-05-01 10:00:00.001' }]);
    expect(
      await queryDuckDb(
        `SELECT request_id, user_id, experiment_id, fallback, consent FROM read_parquet('${predictions}')`,
      ),
    ).toEqual([{ request_id: null, user_id: null, experiment_id: null, fallback: true, consent: false }]);
  });

  it('refuses a value that does not fit its column', async () => {
    // Prepare
    const row = { click_id: 'c', impression_id: 'i', clicked: 'yes', timestamp: new Date(0), received_at: new Date(0) };

    // Act
    const encoding = encodeLakeParquet('clicks', [row]);

    // Assess
    await expect(encoding).rejects.toThrow(LakeValueError);
    await expect(encoding).rejects.toThrow('clicks (row 0): clicked expected a boolean, got string');
  });
});
