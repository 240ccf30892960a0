/**
 * A data file that cannot be read as the format says: the message names the file, the line and
 * the reason (`train.csv:17: row has 12 cells, the header has 13`), so it is all a user needs.
 */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';

  constructor(
    readonly file: string,
    /** 1-based physical line (a quoted cell may span lines); 0 when the file as a whole is at fault. */
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

/** A cell quoted for an error message: short, and with its invisible characters visible. */
export function showCell(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown);
}
