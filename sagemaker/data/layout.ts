/**
 * The layout of a data file: its format, the name of every cell of a row, where the label is.
 *
 * - csv: a header row names the columns (trimmed, a UTF-8 BOM dropped); the label is `click`;
 *   every other column is a feature.
 * - criteo: tab-separated, no header: the label, I1..I13 (integers), C1..C26 (categorical). A
 *   file whose first row has 39 cells has no label column (Criteo's own test files); it can be
 *   scored but not trained or evaluated on.
 */
import { LABEL_COLUMN } from './columns.js';
import { DataFormatError, showCell } from './errors.js';
import { CSV_DIALECT, type Dialect, RecordReader, TSV_DIALECT } from './records.js';

export const DATA_FORMATS = ['csv', 'criteo'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** A csv with more columns than this is refused (the encoder's own limit on fields is 4096). */
export const MAX_COLUMNS = 4096;

export const CRITEO_NUMERIC = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
export const CRITEO_CATEGORICAL = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);

export interface FileLayout {
  /** The path the file is opened at. */
  readonly path: string;
  /** The name used in messages (the path as the user gave it). */
  readonly file: string;
  readonly format: DataFormat;
  readonly dialect: Dialect;
  /** The name of every cell of a row, in file order, the label included. */
  readonly columns: readonly string[];
  /** The label's cell, or -1 when the file has no label column. */
  readonly labelIndex: number;
  /** The feature columns, in file order. */
  readonly features: readonly string[];
  /** Records before the first data row (the csv header). */
  readonly headerRecords: number;
}

export interface LayoutOptions {
  readonly format: DataFormat;
  /** Whether the file must have a label column (training, evaluation) or may lack one (scoring). */
  readonly labels: 'required' | 'optional';
  /** The name for messages (default: the path). */
  readonly file?: string;
}

function firstRecord(path: string, file: string, dialect: Dialect, capacity: number): RecordReader | null {
  const reader = new RecordReader(path, file, dialect, capacity);
  try {
    if (!reader.next()) return null;
    return reader;
  } finally {
    reader.close();
  }
}

function csvLayout(path: string, file: string, options: LayoutOptions): FileLayout {
  const header = firstRecord(path, file, CSV_DIALECT, MAX_COLUMNS + 1);
  if (header === null) throw new DataFormatError(file, 0, 'empty file (a csv needs a header row)');
  if (header.count > MAX_COLUMNS) {
    throw new DataFormatError(file, header.line, `the header has ${header.count} columns, more than ${MAX_COLUMNS}`);
  }
  const columns: string[] = [];
  const seen = new Set<string>();
  for (let j = 0; j < header.count; j++) {
    const name = header.cell(j).trim();
    if (name === '') throw new DataFormatError(file, header.line, `column ${j + 1} of the header has no name`);
    if (seen.has(name))
      throw new DataFormatError(file, header.line, `column ${showCell(name)} appears twice in the header`);
    seen.add(name);
    columns.push(name);
  }
  const labelIndex = columns.indexOf(LABEL_COLUMN);
  if (labelIndex < 0 && options.labels === 'required') {
    throw new DataFormatError(file, header.line, `no '${LABEL_COLUMN}' column in the header (the label, 0 or 1)`);
  }
  const features = columns.filter((_, j) => j !== labelIndex);
  if (features.length === 0) throw new DataFormatError(file, header.line, 'no feature columns besides the label');
  return { path, file, format: 'csv', dialect: CSV_DIALECT, columns, labelIndex, features, headerRecords: 1 };
}

function criteoLayout(path: string, file: string, options: LayoutOptions): FileLayout {
  const features = [...CRITEO_NUMERIC, ...CRITEO_CATEGORICAL];
  const first = firstRecord(path, file, TSV_DIALECT, features.length + 2);
  if (first === null) throw new DataFormatError(file, 0, 'empty file');
  const labelled = first.count === features.length + 1;
  const unlabelled = first.count === features.length && options.labels === 'optional';
  if (!labelled && !unlabelled) {
    throw new DataFormatError(
      file,
      first.line,
      `row has ${first.count} tab-separated cells; a criteo row has 40 (label, I1..I13, C1..C26)${
        options.labels === 'optional' ? ', or 39 without the label' : ''
      }`,
    );
  }
  return {
    path,
    file,
    format: 'criteo',
    dialect: TSV_DIALECT,
    columns: labelled ? [LABEL_COLUMN, ...features] : features,
    labelIndex: labelled ? 0 : -1,
    features,
    headerRecords: 0,
  };
}

/** Reads the header (csv) or the first row (criteo) and returns the file's layout. */
export function readLayout(path: string, options: LayoutOptions): FileLayout {
  const file = options.file ?? path;
  switch (options.format) {
    case 'csv':
      return csvLayout(path, file, options);
    case 'criteo':
      return criteoLayout(path, file, options);
    default:
      throw new RangeError(`unknown data format ${String(options.format)} (one of ${DATA_FORMATS.join(', ')})`);
  }
}
