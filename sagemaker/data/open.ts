/**
 * Opening data files for training and for scoring: the decisions between a file and its rows.
 *
 * Training scans every input file once (validation, row counts, numeric detection), types the
 * columns over all of them (the way the peer benchmark types them over train and test), and
 * returns datasets plus the metadata that records the typing in the model. Scoring types each
 * column as the model recorded, so that a column's values become the same tokens they were at
 * training, whatever the scored file holds.
 */
import {
  type ColumnKind,
  type ColumnOverrides,
  type ColumnTypes,
  checkOverrides,
  columnTypesFromMetadata,
  columnTypesMetadata,
  DATA_FORMAT_KEY,
  decideColumnTypes,
} from './columns.js';
import { Dataset, type FileScan, scanFile } from './dataset.js';
import { DataFormatError } from './errors.js';
import { CRITEO_NUMERIC, DATA_FORMATS, type DataFormat, type FileLayout, readLayout } from './layout.js';

export interface TrainingDataOptions {
  readonly format: DataFormat;
  /** A time-later file to validate on (same columns); none means the trainer holds out rows itself. */
  readonly validationPath?: string | undefined;
  readonly overrides?: ColumnOverrides;
  /** Called during the scans with the file and the rows read so far. */
  readonly onScanProgress?: (file: string, rows: number) => void;
}

export interface TrainingData {
  readonly train: Dataset;
  readonly trainScan: FileScan;
  readonly validation: Dataset | null;
  readonly validationScan: FileScan | null;
  /** The type of every feature column. */
  readonly types: ReadonlyMap<string, ColumnKind>;
  /** The metadata entries that record the typing (and the format) in the model. */
  readonly metadata: Record<string, string>;
}

function sameColumns(train: FileLayout, other: FileLayout): void {
  const trainSet = new Set(train.features);
  const otherSet = new Set(other.features);
  const missing = train.features.filter((c) => !otherSet.has(c));
  const extra = other.features.filter((c) => !trainSet.has(c));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `not in ${train.file}: ${extra.join(', ')}` : '',
    ].filter((p) => p !== '');
    throw new DataFormatError(other.file, 0, `its columns differ from ${train.file}'s: ${parts.join('; ')}`);
  }
}

/**
 * Scans the training file (and the validation file) and types the columns: an override wins;
 * criteo's I1..I13 are numeric and C1..C26 categorical; a csv column is numeric when all its
 * non-empty cells, in every file, are finite numbers.
 */
export function openTrainingData(path: string, options: TrainingDataOptions): TrainingData {
  const overrides = options.overrides ?? {};
  const trainLayout = readLayout(path, { format: options.format, labels: 'required' });
  checkOverrides(trainLayout.file, trainLayout.features, overrides);
  const validationLayout = options.validationPath
    ? readLayout(options.validationPath, { format: options.format, labels: 'required' })
    : null;
  if (validationLayout) sameColumns(trainLayout, validationLayout);

  const categorical = new Set(overrides.categorical ?? []);
  const mustBeNumeric = new Set(overrides.numeric ?? []);
  if (options.format === 'criteo') {
    for (const column of CRITEO_NUMERIC) if (!categorical.has(column)) mustBeNumeric.add(column);
  }
  const numericReason = (column: string) =>
    (overrides.numeric ?? []).includes(column) ? `--numeric ${column}` : `criteo integer column ${column}`;
  const scan = (layout: FileLayout) =>
    scanFile(layout, {
      mustBeNumeric,
      numericReason,
      ...(options.onScanProgress ? { onProgress: (rows: number) => options.onScanProgress?.(layout.file, rows) } : {}),
    });
  const trainScan = scan(trainLayout);
  const validationScan = validationLayout ? scan(validationLayout) : null;

  const detected =
    options.format === 'criteo'
      ? (column: string) => mustBeNumeric.has(column)
      : (column: string) =>
          trainScan.numericColumns.has(column) && (validationScan?.numericColumns.has(column) ?? true);
  const types = decideColumnTypes(trainLayout.features, detected, overrides);
  const dataset = (s: FileScan) =>
    new Dataset(s.layout, { types, boundaries: s.boundaries, only: trainLayout.features, nonNumbers: 'error' });
  return {
    train: dataset(trainScan),
    trainScan,
    validation: validationScan ? dataset(validationScan) : null,
    validationScan,
    types,
    metadata: columnTypesMetadata(types, options.format),
  };
}

/** The input format a model was trained from, as recorded in its metadata (null: not recorded). */
export function recordedDataFormat(metadata: Readonly<Record<string, unknown>>): DataFormat | null {
  const format = metadata[DATA_FORMAT_KEY];
  return (DATA_FORMATS as readonly unknown[]).includes(format) ? (format as DataFormat) : null;
}

export interface ScoringDataOptions {
  readonly format: DataFormat;
  /** The model's fields. */
  readonly fields: readonly string[];
  /** The model's metadata (where training recorded the column types). */
  readonly metadata: Readonly<Record<string, string | number | boolean | null>>;
  /** Whether rows must carry a label (evaluation) or may lack one (scoring). */
  readonly labels: 'required' | 'optional';
}

export interface ScoringData {
  readonly dataset: Dataset;
  /** Where the column types come from: the model, or (a model that records none) the file itself. */
  readonly typesFrom: 'model' | 'detected';
  /** The model's fields that the file lacks: they are missing in every row. */
  readonly missingFields: readonly string[];
}

/** Opens a file to score with a model: its columns typed as the model was trained. */
export function openScoringData(path: string, options: ScoringDataOptions): ScoringData {
  const layout = readLayout(path, { format: options.format, labels: options.labels });
  const inFile = new Set(layout.features);
  const present = options.fields.filter((f) => inFile.has(f));
  if (present.length === 0) {
    throw new DataFormatError(
      layout.file,
      0,
      `none of its columns is a field of the model (the model's fields: ${options.fields.slice(0, 12).join(', ')}${
        options.fields.length > 12 ? ', …' : ''
      })`,
    );
  }
  let types: ColumnTypes | null = columnTypesFromMetadata(options.fields, options.metadata);
  let typesFrom: ScoringData['typesFrom'] = 'model';
  let boundaries: FileScan['boundaries'] = [];
  if (types === null) {
    // A model that was not trained from a file by these readers: type the columns as the format
    // does (criteo) or from this file (csv).
    if (options.format === 'criteo') {
      types = decideColumnTypes(layout.features, (c) => CRITEO_NUMERIC.includes(c));
    } else {
      const scan = scanFile(layout);
      types = decideColumnTypes(layout.features, (c) => scan.numericColumns.has(c));
      boundaries = scan.boundaries;
    }
    typesFrom = 'detected';
  }
  return {
    dataset: new Dataset(layout, { types, boundaries, only: present, nonNumbers: 'categorical' }),
    typesFrom,
    missingFields: options.fields.filter((f) => !inFile.has(f)),
  };
}
