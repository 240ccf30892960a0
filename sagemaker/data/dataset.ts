/**
 * Streaming, re-readable access to the rows of a data file.
 *
 * `scanFile` reads the file once: it checks every row (cell count, label), counts the rows, finds
 * which columns hold only numbers, and remembers record boundaries it can restart from. A
 * `Dataset` then turns any range of rows into an `ExampleSource` that reads the file again on every
 * call (one read per training pass), starting from the nearest remembered boundary. Memory is a
 * read buffer and one row, whatever the size of the file.
 */
import type { FeatureMap, FeatureValue } from '../model/encoding.js';
import type { Example } from '../model/train.js';
import { type ColumnTypes, LABEL_COLUMN } from './columns.js';
import { DataFormatError, showCell } from './errors.js';
import type { FileLayout } from './layout.js';
import { parseNumber } from './number.js';
import { FILE_START, type RecordPosition, RecordReader } from './records.js';
import { compileRowBuilder, type RowBuilder } from './row-builder.js';

const CHAR_0 = 0x30;
const CHAR_1 = 0x31;
/** How often (in rows) progress is reported. */
const PROGRESS_EVERY = 16_384;

export interface FileScan {
  readonly layout: FileLayout;
  /** Data rows (blank lines are not rows). */
  readonly rows: number;
  /** Rows labelled 1; null when the file has no label column. */
  readonly positives: number | null;
  /** Feature columns in which every non-empty cell is a finite number. */
  readonly numericColumns: ReadonlySet<string>;
  /** Record boundaries a reader can start from, in file order. */
  readonly boundaries: readonly RecordPosition[];
}

export interface ScanOptions {
  /** Columns that must hold numbers: the first cell that is not one is an error. */
  readonly mustBeNumeric?: ReadonlySet<string>;
  /** Why those columns must be numeric, for the error message (default `--numeric NAME`). */
  readonly numericReason?: (column: string) => string;
  /** Called every few thousand rows with the rows read so far. */
  readonly onProgress?: (rows: number) => void;
}

export interface RowRange {
  /** First data row (0-based, default 0). */
  readonly start?: number;
  /** One past the last data row (default: the end of the file). */
  readonly end?: number;
}

function checkCellCount(reader: RecordReader, layout: FileLayout): void {
  if (reader.count === layout.columns.length) return;
  const expected =
    layout.format === 'csv'
      ? `the header has ${layout.columns.length}`
      : `the file's first row has ${layout.columns.length}`;
  throw new DataFormatError(reader.file, reader.line, `row has ${reader.count} cells, ${expected}`);
}

function readLabel(reader: RecordReader, j: number): 0 | 1 {
  if (reader.isChar(j, CHAR_0)) return 0;
  if (reader.isChar(j, CHAR_1)) return 1;
  // Also what pandas accepts: "1.0", " 1".
  const v = cellNumber(reader, j);
  if (v === 0 || v === 1) return v;
  const shown = reader.isEmpty(j) ? 'an empty cell' : showCell(reader.cell(j));
  throw new DataFormatError(reader.file, reader.line, `label '${LABEL_COLUMN}' must be 0 or 1, got ${shown}`);
}

function cellNumber(reader: RecordReader, j: number): number {
  const s = reader.starts[j]!;
  if (s >= 0) return parseNumber(reader.text, s, reader.ends[j]!);
  const v = reader.values[j]!;
  return parseNumber(v, 0, v.length);
}

/** Reads the whole file once: validates it, counts its rows, finds its numeric columns. */
export function scanFile(layout: FileLayout, options: ScanOptions = {}): FileScan {
  const mustBeNumeric = options.mustBeNumeric ?? new Set<string>();
  const reason = options.numericReason ?? ((column: string) => `--numeric ${column}`);
  const boundaries: RecordPosition[] = [];
  // Candidates: feature cells still numeric so far; a column leaves the list at its first non-number.
  let candidates: number[] = [];
  const forced = new Set<number>();
  layout.columns.forEach((name, j) => {
    if (j === layout.labelIndex) return;
    candidates.push(j);
    if (mustBeNumeric.has(name)) forced.add(j);
  });
  const reader = new RecordReader(layout.path, layout.file, layout.dialect, layout.columns.length);
  reader.onBoundary = (position) => boundaries.push(position);
  let rows = 0;
  let positives = 0;
  try {
    for (let h = 0; h < layout.headerRecords; h++) reader.next();
    while (reader.next()) {
      checkCellCount(reader, layout);
      if (layout.labelIndex >= 0) positives += readLabel(reader, layout.labelIndex);
      let dropped = false;
      for (let k = 0; k < candidates.length; k++) {
        const j = candidates[k]!;
        if (reader.isEmpty(j) || !Number.isNaN(cellNumber(reader, j))) continue;
        if (forced.has(j)) {
          throw new DataFormatError(
            layout.file,
            reader.line,
            `${reason(layout.columns[j]!)}: cell ${showCell(reader.cell(j))} is not a finite number`,
          );
        }
        candidates[k] = -1;
        dropped = true;
      }
      if (dropped) candidates = candidates.filter((j) => j >= 0);
      rows++;
      if (options.onProgress && rows % PROGRESS_EVERY === 0) options.onProgress(rows);
    }
  } finally {
    reader.close();
  }
  if (rows === 0) throw new DataFormatError(layout.file, 0, 'no data rows');
  options.onProgress?.(rows);
  return {
    layout,
    rows,
    positives: layout.labelIndex >= 0 ? positives : null,
    numericColumns: new Set(candidates.map((j) => layout.columns[j]!)),
    boundaries,
  };
}

export interface DatasetOptions {
  /** The type of each feature column; a column not listed is categorical. */
  readonly types: ColumnTypes;
  /** Only these feature columns go into the feature maps (default: all of the file's). */
  readonly only?: readonly string[];
  /** Restart points from a scan of this same file (optional: without them a range is reached by reading). */
  readonly boundaries?: readonly RecordPosition[];
  /**
   * What a cell that is not a number becomes in a numeric column: an error (training: the scan
   * already vouched for every cell) or its string, a category the model has never seen (scoring).
   */
  readonly nonNumbers?: 'error' | 'categorical';
}

export interface ReadOptions {
  /** Called every few thousand rows with the rows read so far in this read. */
  readonly onProgress?: (rows: number) => void;
}

/** The first non-number met in a numeric column while scoring, and how many there were. */
export interface NonNumberReport {
  count: number;
  first: { line: number; column: string; value: string } | null;
}

interface Plan {
  readonly name: string;
  readonly cell: number;
  readonly numeric: boolean;
}

export class Dataset {
  readonly layout: FileLayout;
  readonly #plan: readonly Plan[];
  readonly #build: RowBuilder;
  readonly #boundaries: readonly RecordPosition[];
  readonly #nonNumbers: 'error' | 'categorical';
  readonly nonNumberReport: NonNumberReport = { count: 0, first: null };

  constructor(layout: FileLayout, options: DatasetOptions) {
    this.layout = layout;
    const wanted = options.only ? new Set(options.only) : null;
    this.#plan = layout.columns
      .map((name, cell) => ({ name, cell, numeric: options.types.get(name) === 'numeric' }))
      .filter((p) => p.cell !== layout.labelIndex && (wanted === null || wanted.has(p.name)));
    this.#build = compileRowBuilder(this.#plan.map((p) => p.name));
    this.#boundaries = options.boundaries ?? [];
    this.#nonNumbers = options.nonNumbers ?? 'error';
  }

  /** The feature columns that go into each feature map, in file order. */
  get fields(): readonly string[] {
    return this.#plan.map((p) => p.name);
  }

  /** Labelled rows [start, end): each call of the source reads them from the file again. */
  examples(range: RowRange = {}, options: ReadOptions = {}): () => Iterable<Example> {
    if (this.layout.labelIndex < 0) throw new DataFormatError(this.layout.file, 0, 'the file has no label column');
    return () => this.#read(range, options, true) as Iterable<Example>;
  }

  /** The feature maps of rows [start, end) in file order (a label column, if any, is not read). */
  featureMaps(range: RowRange = {}, options: ReadOptions = {}): () => Iterable<FeatureMap> {
    return () => this.#read(range, options, false) as Iterable<FeatureMap>;
  }

  /** A reader positioned just before data row `row`. */
  #readerAt(row: number): RecordReader {
    const { layout } = this;
    const target = row + layout.headerRecords;
    let from: RecordPosition = FILE_START;
    // Boundaries are in file order: the last one at or before the target record.
    let lo = 0;
    let hi = this.#boundaries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.#boundaries[mid]!;
      if (b.record <= target) {
        from = b;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    const reader = new RecordReader(layout.path, layout.file, layout.dialect, layout.columns.length, from);
    while (reader.record < target && reader.next()) {}
    return reader;
  }

  *#read(range: RowRange, options: ReadOptions, labelled: boolean): Generator<Example | FeatureMap> {
    const { layout } = this;
    const start = range.start ?? 0;
    const end = range.end ?? Number.POSITIVE_INFINITY;
    if (!(Number.isInteger(start) && start >= 0 && start <= end)) {
      throw new RangeError(`bad row range [${start}, ${end})`);
    }
    const plan = this.#plan;
    const build = this.#build;
    const values = new Array<FeatureValue>(plan.length).fill(null);
    const onProgress = options.onProgress;
    const labelIndex = layout.labelIndex;
    const reader = this.#readerAt(start);
    let row = start;
    try {
      while (row < end && reader.next()) {
        checkCellCount(reader, layout);
        const label = labelled ? readLabel(reader, labelIndex) : 0;
        for (let k = 0; k < plan.length; k++) {
          const p = plan[k]!;
          const j = p.cell;
          let value: FeatureValue;
          if (reader.isEmpty(j)) value = null;
          else if (p.numeric) {
            value = cellNumber(reader, j);
            if (Number.isNaN(value)) value = this.#notANumber(reader, p);
          } else value = reader.cell(j);
          values[k] = value;
        }
        const features = build(values);
        yield labelled ? { features, label } : features;
        row++;
        if (onProgress && (row - start) % PROGRESS_EVERY === 0) onProgress(row - start);
      }
    } finally {
      reader.close();
    }
    if (end !== Number.POSITIVE_INFINITY && row < end) {
      throw new DataFormatError(
        layout.file,
        0,
        `has ${row} data rows, fewer than the ${end} it had when it was scanned`,
      );
    }
    onProgress?.(row - start);
  }

  #notANumber(reader: RecordReader, p: Plan): string {
    const value = reader.cell(p.cell);
    if (this.#nonNumbers === 'error') {
      throw new DataFormatError(
        reader.file,
        reader.line,
        `column ${p.name} is numeric but holds ${showCell(value)}: the file changed since it was scanned?`,
      );
    }
    const report = this.nonNumberReport;
    report.count++;
    report.first ??= { line: reader.line, column: p.name, value };
    return value;
  }
}
