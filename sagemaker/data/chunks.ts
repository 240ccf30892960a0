/**
 * Reads a file synchronously as UTF-8 text, a piece at a time, each piece ending just after a
 * newline (or at the end of the file), so that a line is never cut in two. Memory is one buffer
 * (1 MiB, grown only for a longer line), whatever the size of the file.
 *
 * Synchronous on purpose: the trainer pulls rows in a tight loop, and an await per row or per
 * chunk costs more than the read itself when the page cache holds the file.
 */
import { isAscii } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';

const NEWLINE = 0x0a;
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** A line longer than this is refused rather than buffered without bound. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
}

export class TextChunks {
  readonly #fd: number;
  #buffer: Buffer;
  /** Bytes held in the buffer that are not returned yet (the tail of a line, then a fresh read). */
  #filled = 0;
  /** The file offset of buffer[0]. */
  #bufferOffset: number;
  #eof = false;
  #closed = false;
  /** The file offset of the first byte of the piece `next` returned last. */
  pieceOffset = 0;

  constructor(path: string, startByte = 0, chunkBytes = DEFAULT_CHUNK_BYTES) {
    this.#fd = openSync(path, 'r');
    this.#buffer = Buffer.allocUnsafe(chunkBytes);
    this.#bufferOffset = startByte;
  }

  /** The next piece of text, or null at the end of the file. */
  next(): string | null {
    for (;;) {
      if (!this.#eof && this.#filled < this.#buffer.length) {
        const read = readSync(
          this.#fd,
          this.#buffer,
          this.#filled,
          this.#buffer.length - this.#filled,
          this.#bufferOffset + this.#filled,
        );
        if (read === 0) this.#eof = true;
        this.#filled += read;
      }
      if (this.#filled === 0) return null;
      const lastNewline = this.#buffer.lastIndexOf(NEWLINE, this.#filled - 1);
      if (lastNewline >= 0 || this.#eof) {
        // UTF-8 never uses 0x0a inside a multi-byte character, so cutting there is safe.
        const cut = lastNewline >= 0 ? lastNewline + 1 : this.#filled;
        // Pure ASCII (the usual case) decodes ~8x faster as such than through the UTF-8 decoder.
        const encoding = isAscii(this.#buffer.subarray(0, cut)) ? 'ascii' : 'utf8';
        const text = this.#buffer.toString(encoding, 0, cut);
        this.pieceOffset = this.#bufferOffset;
        this.#buffer.copy(this.#buffer, 0, cut, this.#filled);
        this.#filled -= cut;
        this.#bufferOffset += cut;
        return text;
      }
      // No newline in a full buffer: one line is longer than the buffer.
      if (this.#buffer.length * 2 > MAX_LINE_BYTES) {
        throw new LineTooLongError(`a line is longer than ${MAX_LINE_BYTES} bytes`);
      }
      const grown = Buffer.allocUnsafe(this.#buffer.length * 2);
      this.#buffer.copy(grown, 0, 0, this.#filled);
      this.#buffer = grown;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
