/**
 * Reading training and scoring data: csv (header, `click` label, RFC 4180 quoting) and criteo
 * (tab-separated label, I1..I13, C1..C26), streamed and re-readable, with errors that name the
 * file and the line.
 */
export {
  COLUMN_TYPE_PREFIX,
  type ColumnKind,
  type ColumnOverrides,
  type ColumnTypes,
  columnTypesFromMetadata,
  columnTypesMetadata,
  DATA_FORMAT_KEY,
  LABEL_COLUMN,
  parseColumnList,
} from './columns.js';
export {
  Dataset,
  type DatasetOptions,
  type FileScan,
  type NonNumberReport,
  type ReadOptions,
  type RowRange,
  type ScanOptions,
  scanFile,
} from './dataset.js';
export { DataFormatError } from './errors.js';
export {
  CRITEO_CATEGORICAL,
  CRITEO_NUMERIC,
  DATA_FORMATS,
  type DataFormat,
  type FileLayout,
  type LayoutOptions,
  readLayout,
} from './layout.js';
export { isNumber, parseNumber } from './number.js';
export {
  openScoringData,
  openTrainingData,
  recordedDataFormat,
  type ScoringData,
  type ScoringDataOptions,
  type TrainingData,
  type TrainingDataOptions,
} from './open.js';
