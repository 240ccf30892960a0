/**
 * Column types: which feature columns are numeric (their value is a number, log-bucketed by the
 * encoder) and which are categorical (their value is the cell's string).
 *
 * A csv column is numeric when every non-empty cell, in every file the model is trained on, is a
 * finite number; `--categorical` and `--numeric` override that for named columns. The decision is
 * stored in the model's metadata, one `column_type.<name>` key a column, so that scoring types each
 * column the way training did instead of guessing again from the data being scored.
 */
import { DataFormatError } from './errors.js';

export type ColumnKind = 'numeric' | 'categorical';
export type ColumnTypes = ReadonlyMap<string, ColumnKind>;

export const LABEL_COLUMN = 'click';
export const COLUMN_TYPE_PREFIX = 'column_type.';
export const DATA_FORMAT_KEY = 'data_format';

/** Column names given as `a, b,c` (a flag's or a hyperparameter's value); blanks are dropped. */
export function parseColumnList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export interface ColumnOverrides {
  readonly categorical?: readonly string[];
  readonly numeric?: readonly string[];
}

/** Checks that the overrides name feature columns, and none of them twice. */
export function checkOverrides(file: string, features: readonly string[], overrides: ColumnOverrides): void {
  const known = new Set(features);
  const categorical = new Set(overrides.categorical ?? []);
  for (const [option, names] of [
    ['--categorical', overrides.categorical ?? []],
    ['--numeric', overrides.numeric ?? []],
  ] as const) {
    const unknown = names.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      const what = unknown.includes(LABEL_COLUMN) ? `${LABEL_COLUMN} is the label, not a feature` : 'no such column';
      throw new DataFormatError(
        file,
        0,
        `${option} ${unknown.join(',')}: ${what} (the feature columns are ${list(features)})`,
      );
    }
  }
  const both = (overrides.numeric ?? []).filter((name) => categorical.has(name));
  if (both.length > 0) throw new DataFormatError(file, 0, `${both.join(',')}: both --categorical and --numeric`);
}

function list(names: readonly string[]): string {
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 12).join(', ')}, … (${names.length} in all)`;
}

/**
 * Types every feature column: an override wins; otherwise numeric when every scanned file found
 * only numbers in it. `allNumeric(name)` is that verdict over the files.
 */
export function decideColumnTypes(
  features: readonly string[],
  allNumeric: (name: string) => boolean,
  overrides: ColumnOverrides = {},
): Map<string, ColumnKind> {
  const categorical = new Set(overrides.categorical ?? []);
  const numeric = new Set(overrides.numeric ?? []);
  const types = new Map<string, ColumnKind>();
  for (const name of features) {
    if (categorical.has(name)) types.set(name, 'categorical');
    else if (numeric.has(name) || allNumeric(name)) types.set(name, 'numeric');
    else types.set(name, 'categorical');
  }
  return types;
}

/** The metadata entries that record the column types (and the input format) in a model. */
export function columnTypesMetadata(types: ColumnTypes, format: string): Record<string, string> {
  const out: Record<string, string> = { [DATA_FORMAT_KEY]: format };
  for (const [name, kind] of types) out[`${COLUMN_TYPE_PREFIX}${name}`] = kind;
  return out;
}

/**
 * The column types a model was trained with, for its fields; null when the model records none (it
 * was not trained from a file by this reader, e.g. the bootstrap model).
 */
export function columnTypesFromMetadata(
  fields: readonly string[],
  metadata: Readonly<Record<string, string | number | boolean | null>>,
): Map<string, ColumnKind> | null {
  const types = new Map<string, ColumnKind>();
  for (const field of fields) {
    const kind = metadata[`${COLUMN_TYPE_PREFIX}${field}`];
    if (kind === 'numeric' || kind === 'categorical') types.set(field, kind);
  }
  return types.size > 0 ? types : null;
}
