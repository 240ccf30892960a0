/**
 * The tokenizer shared by the csv and criteo readers: delimited records, one a line, with RFC 4180
 * quoting when the dialect asks for it (a cell that starts with `"` runs to the matching `"`, may
 * hold delimiters and newlines, and writes a `"` as `""`). A `"` inside an unquoted cell is an
 * ordinary character. Lines may end in LF or CRLF; blank lines are skipped, as pandas skips them.
 *
 * A record is exposed as cell boundaries into the current text (`starts`/`ends`) rather than as
 * strings: the reader slices only the cells it keeps as strings and parses numbers in place. A
 * quoted cell is unescaped into `values` and its start is set to -1.
 *
 * The fast path (a line without a quote) finds cells with indexOf; the positions of the next
 * delimiter and the next quote are cached across lines, so a piece of text is scanned once
 * whatever the number of cells per line.
 */
import { TextChunks } from './chunks.js';
import { DataFormatError, showCell } from './errors.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BOM = 0xfeff;
/** Larger than any string index. */
const NONE = 0x7fffffff;
/** A quoted cell may span lines, but a record longer than this is refused (a stray quote, surely). */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

export interface Dialect {
  /** The cell separator's char code: `,` or a tab. */
  readonly delimiter: number;
  /** Whether `"` quotes cells (RFC 4180); when false it is an ordinary character. */
  readonly quoting: boolean;
}

export const CSV_DIALECT: Dialect = { delimiter: 0x2c, quoting: true };
export const TSV_DIALECT: Dialect = { delimiter: 0x09, quoting: false };

/** A place a reader can start from: a record boundary at `byte`, on `line`, before record `record`. */
export interface RecordPosition {
  readonly byte: number;
  readonly line: number;
  readonly record: number;
}

export const FILE_START: RecordPosition = { byte: 0, line: 1, record: 0 };

export class RecordReader {
  /** The file name used in error messages. */
  readonly file: string;
  /** The line the current record starts on (1-based). */
  line = 0;
  /** How many cells the current record has (it may exceed the capacity; only that many are kept). */
  count = 0;
  /** Records returned so far, counted from the start of the file. */
  record: number;
  /** The text the cell boundaries point into. */
  text = '';
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** The unescaped value of each quoted cell (its start is -1). */
  readonly values: string[];
  /**
   * Called when a new piece of the file begins exactly at a record boundary: a place from which a
   * later reader can start (see RecordPosition).
   */
  onBoundary: ((position: RecordPosition) => void) | null = null;

  readonly #chunks: TextChunks;
  readonly #delimiter: number;
  readonly #delimiterChar: string;
  readonly #quoting: boolean;
  readonly #capacity: number;
  #pos = 0;
  #nextLine: number;
  #delimiterAt = -1;
  #quoteAt = -1;
  #atFileStart: boolean;
  #done = false;

  constructor(
    path: string,
    file: string,
    dialect: Dialect,
    capacity: number,
    start: RecordPosition = FILE_START,
    chunkBytes?: number,
  ) {
    this.file = file;
    this.#chunks = new TextChunks(path, start.byte, chunkBytes);
    this.#delimiter = dialect.delimiter;
    this.#delimiterChar = String.fromCharCode(dialect.delimiter);
    this.#quoting = dialect.quoting;
    this.#capacity = capacity;
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.values = new Array<string>(capacity).fill('');
    this.#nextLine = start.line;
    this.record = start.record;
    this.#atFileStart = start.byte === 0;
  }

  /** Whether cell j (< min(count, capacity)) is empty: a missing value. */
  isEmpty(j: number): boolean {
    const s = this.starts[j]!;
    return s >= 0 ? this.ends[j] === s : this.values[j] === '';
  }

  /** Cell j as a string. */
  cell(j: number): string {
    const s = this.starts[j]!;
    return s >= 0 ? this.text.slice(s, this.ends[j]!) : this.values[j]!;
  }

  /** Whether cell j is exactly the one character `code` (labels: '0' and '1'). */
  isChar(j: number, code: number): boolean {
    const s = this.starts[j]!;
    return s >= 0
      ? this.ends[j] === s + 1 && this.text.charCodeAt(s) === code
      : this.values[j] === String.fromCharCode(code);
  }

  /** Advances to the next record; false at the end of the file. */
  next(): boolean {
    for (;;) {
      const text = this.text;
      const pos = this.#pos;
      if (pos >= text.length) {
        if (!this.#loadPiece()) return false;
        continue;
      }
      let lineEnd = text.indexOf('\n', pos);
      if (lineEnd < 0) lineEnd = text.length;
      let end = lineEnd;
      if (end > pos && text.charCodeAt(end - 1) === CR) end--;
      if (end === pos) {
        this.#pos = lineEnd + 1;
        this.#nextLine++;
        continue;
      }
      if (this.#quoting) {
        if (this.#quoteAt < pos) {
          const q = text.indexOf('"', pos);
          this.#quoteAt = q < 0 ? NONE : q;
        }
        if (this.#quoteAt < lineEnd) {
          this.#quotedRecord();
          return true;
        }
      }
      const delimiter = this.#delimiterChar;
      const capacity = this.#capacity;
      const starts = this.starts;
      const ends = this.ends;
      let count = 0;
      let s = pos;
      for (;;) {
        if (this.#delimiterAt < s) {
          const d = text.indexOf(delimiter, s);
          this.#delimiterAt = d < 0 ? NONE : d;
        }
        const cellEnd = Math.min(this.#delimiterAt, end);
        if (count < capacity) {
          starts[count] = s;
          ends[count] = cellEnd;
        }
        count++;
        if (cellEnd === end) break;
        s = cellEnd + 1;
      }
      this.count = count;
      this.line = this.#nextLine;
      this.#nextLine++;
      this.#pos = lineEnd + 1;
      this.record++;
      return true;
    }
  }

  close(): void {
    this.#chunks.close();
  }

  #setText(text: string): void {
    this.text = text;
    this.#pos = 0;
    this.#delimiterAt = -1;
    this.#quoteAt = -1;
  }

  /** Moves on to the next piece of the file; false at its end. */
  #loadPiece(): boolean {
    if (this.#done) return false;
    const piece = this.#chunks.next();
    if (piece === null) {
      this.#done = true;
      this.#setText('');
      return false;
    }
    let text = piece;
    if (this.#atFileStart) {
      this.#atFileStart = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    } else {
      this.onBoundary?.({ byte: this.#chunks.pieceOffset, line: this.#nextLine, record: this.record });
    }
    this.#setText(text);
    return true;
  }

  /**
   * Appends the next piece to the text of an unfinished record (a quoted cell runs past the end of
   * the current piece); false at the end of the file.
   */
  #extend(recordStart: number, recordLine: number): boolean {
    if (this.#done) return false;
    const piece = this.#chunks.next();
    if (piece === null) {
      this.#done = true;
      return false;
    }
    const text = this.text.slice(recordStart) + piece;
    if (text.length > MAX_RECORD_CHARS) {
      throw new DataFormatError(
        this.file,
        recordLine,
        `a record runs over ${MAX_RECORD_CHARS} characters: an unterminated quote?`,
      );
    }
    this.#setText(text);
    return true;
  }

  /** Parses the record at #pos with the full RFC 4180 rules (it holds a quote somewhere). */
  #quotedRecord(): void {
    const recordLine = this.#nextLine;
    for (;;) {
      const outcome = this.#tryQuotedRecord(recordLine);
      if (outcome) return;
      if (!this.#extend(this.#pos, recordLine)) {
        // At the end of the file: parse once more knowing that nothing follows.
        this.#tryQuotedRecord(recordLine);
        return;
      }
    }
  }

  /**
   * One attempt at the record starting at #pos. Returns false when the text ends inside the record
   * and more of the file may complete it; at the end of the file it always completes or throws.
   */
  #tryQuotedRecord(recordLine: number): boolean {
    const text = this.text;
    const n = text.length;
    const atEnd = this.#done;
    const delimiter = this.#delimiter;
    let line = recordLine;
    let i = this.#pos;
    let count = 0;
    for (;;) {
      let cellStart = -1;
      let cellEnd = -1;
      let value = '';
      let next: number;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        const openLine = line;
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0 || (q + 1 >= n && !atEnd)) {
            if (!atEnd) return false;
            throw new DataFormatError(this.file, openLine, `unterminated quote in cell ${count + 1}`);
          }
          for (let nl = text.indexOf('\n', j); nl >= 0 && nl < q; nl = text.indexOf('\n', nl + 1)) line++;
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(j, q + 1);
            j = q + 2;
            continue;
          }
          value += text.slice(j, q);
          i = q + 1;
          break;
        }
        next = i < n ? text.charCodeAt(i) : -1;
        if (next === CR && i + 1 < n && text.charCodeAt(i + 1) === LF) {
          i++;
          next = LF;
        }
        if (next !== -1 && next !== delimiter && next !== LF) {
          throw new DataFormatError(
            this.file,
            line,
            `unexpected ${showCell(text[i]!)} after the closing quote of cell ${count + 1} (a quote inside a quoted cell is written "")`,
          );
        }
      } else {
        let e = i;
        while (e < n) {
          const c = text.charCodeAt(e);
          if (c === delimiter || c === LF) break;
          e++;
        }
        if (e === n && !atEnd) return false;
        cellStart = i;
        cellEnd = e > i && e < n && text.charCodeAt(e - 1) === CR && text.charCodeAt(e) === LF ? e - 1 : e;
        i = e;
        next = e < n ? text.charCodeAt(e) : -1;
      }
      if (count < this.#capacity) {
        this.starts[count] = cellStart;
        this.ends[count] = cellEnd;
        this.values[count] = value;
      }
      count++;
      if (next === delimiter) {
        i++;
        continue;
      }
      // LF or the end of the file ends the record.
      this.count = count;
      this.line = recordLine;
      this.#nextLine = line + 1;
      this.#pos = next === LF ? i + 1 : n;
      this.record++;
      return true;
    }
  }
}
