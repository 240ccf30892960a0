/**
 * Packing and unpacking model artifacts: a tar.gz of the model folder's files (what the upload
 * API takes and what SageMaker calls model.tar.gz).
 *
 * Unpacking treats the archive as hostile. It is decompressed into memory with a hard size limit
 * (so a gzip bomb stops at the limit), parsed with node-tar's strict parser, and checked before
 * anything touches the disk: only plain files at the top level (a leading './' and a './'
 * directory entry are tolerated, as `tar -C dir .` writes them), no absolute paths, no '..', no
 * links, devices, FIFOs or nested directories, no duplicate names, and at most `maxBytes` in
 * all. Every refusal is an InvalidModelError that says what was wrong.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { create, Parser, type ReadEntry } from 'tar';
import { InvalidModelError, loadModel } from './artifact.js';

const gunzipAsync = promisify(gunzip);

/** Default limit on the unpacked size of an artifact. */
export const DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
/** At most this many entries in an artifact. */
export const MAX_ENTRIES = 64;
/** Headers, padding and end-of-archive blocks a tar adds around its files' bytes. */
const TAR_SLACK_BYTES = MAX_ENTRIES * 2048 + 64 * 1024;
/** A file name an artifact may hold. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;

export interface UnpackOptions {
  /** Refuse an archive whose files hold more than this many bytes in all (default 256 MiB). */
  readonly maxBytes?: number;
}

export interface UnpackResult {
  readonly dir: string;
  /** The file names written, sorted. */
  readonly files: string[];
  /** Their total size. */
  readonly bytes: number;
}

/**
 * Packs a model folder (verified with loadModel first, so a corrupt model is never shipped) into
 * a tar.gz of its top-level regular files, sorted by name, with portable headers and the model's
 * created_at as every entry's mtime: packing the same folder twice gives the same bytes.
 */
export async function packModel(dir: string): Promise<Buffer> {
  const model = await loadModel(dir);
  const names: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && SAFE_NAME.test(entry.name) && !entry.name.includes('.tmp-')) names.push(entry.name);
  }
  names.sort();
  const pack = create({ gzip: true, cwd: dir, portable: true, mtime: new Date(model.created_at) }, names);
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The entry's file name, or a reason to refuse it; null for a harmless './' directory entry. */
function checkEntry(entry: ReadEntry): { name: string } | { refuse: string } | null {
  const raw = entry.path;
  const shown = JSON.stringify(raw);
  if (raw.includes('\0')) return { refuse: `entry ${shown} has a NUL in its path` };
  if (raw.startsWith('/') || raw.startsWith('\\') || /^[A-Za-z]:/.test(raw)) {
    return { refuse: `entry ${shown} has an absolute path` };
  }
  if (raw.split(/[\\/]/).includes('..')) return { refuse: `entry ${shown} escapes the folder with '..'` };
  const name = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (entry.type === 'Directory') {
    if (name === '' || name === '.') return null;
    return { refuse: `entry ${shown} is a directory: only plain files at the top level are allowed` };
  }
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
    return { refuse: `entry ${shown} is a ${entry.type}: only plain files are allowed` };
  }
  if (name.includes('/') || name.includes('\\')) {
    return { refuse: `entry ${shown} is in a subfolder: only plain files at the top level are allowed` };
  }
  if (!SAFE_NAME.test(name)) return { refuse: `entry ${shown} has an unsafe file name` };
  return { name };
}

interface ParsedFile {
  readonly name: string;
  /** The size the entry's header declares. */
  readonly expected: number;
  readonly chunks: Buffer[];
  size: number;
}

/** Parses an uncompressed tar held in memory, refusing anything unsafe. */
async function parseTar(tar: Buffer, maxBytes: number): Promise<ParsedFile[]> {
  const files: ParsedFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  let entries = 0;
  let refusal: string | null = null;
  const refuse = (reason: string): void => {
    refusal ??= reason;
  };

  const parser = new Parser({
    strict: true,
    zstd: false,
    brotli: false,
    onReadEntry: (entry: ReadEntry) => {
      entries++;
      if (refusal !== null) {
        entry.resume();
        return;
      }
      if (entries > MAX_ENTRIES) {
        refuse(`the archive holds more than ${MAX_ENTRIES} entries`);
        entry.resume();
        return;
      }
      const checked = checkEntry(entry);
      if (checked === null) {
        entry.resume();
        return;
      }
      if ('refuse' in checked) {
        refuse(checked.refuse);
        entry.resume();
        return;
      }
      if (seen.has(checked.name)) {
        refuse(`entry ${JSON.stringify(checked.name)} appears twice`);
        entry.resume();
        return;
      }
      seen.add(checked.name);
      total += entry.size;
      if (total > maxBytes) {
        refuse(`the archive's files hold more than ${maxBytes} bytes`);
        entry.resume();
        return;
      }
      const file: ParsedFile = { name: checked.name, expected: entry.size, chunks: [], size: 0 };
      files.push(file);
      entry.on('data', (chunk: Buffer) => {
        file.size += chunk.length;
        file.chunks.push(chunk);
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    parser.once('error', reject);
    parser.once('abort', reject);
    parser.once('end', resolve);
    parser.end(tar);
  }).catch((error: unknown) => {
    refuse(`not a valid tar archive: ${(error as Error).message}`);
  });
  if (refusal !== null) throw new InvalidModelError(`artifact refused: ${refusal}`);
  if (files.length === 0) throw new InvalidModelError('artifact refused: the archive holds no files');
  for (const file of files) {
    if (file.size !== file.expected) {
      throw new InvalidModelError(
        `artifact refused: entry ${file.name} holds ${file.size} of its ${file.expected} bytes`,
      );
    }
  }
  return files;
}

/**
 * Unpacks a model tar.gz (a file path or the bytes) into `destDir`, which must not exist or be
 * empty. Nothing is written unless the whole archive passed the checks.
 */
export async function unpackModel(
  source: string | Uint8Array,
  destDir: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 1)
    throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);

  let compressed: Buffer;
  if (typeof source === 'string') {
    const info = await stat(source);
    // gzip never grows incompressible data by more than a fraction of a per cent.
    if (info.size > maxBytes * 1.01 + TAR_SLACK_BYTES) {
      throw new InvalidModelError(
        `artifact refused: ${info.size} compressed bytes cannot unpack to ${maxBytes} bytes or less`,
      );
    }
    compressed = await readFile(source);
  } else {
    compressed = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  }
  if (!isGzip(compressed)) {
    throw new InvalidModelError('artifact refused: not a gzip archive (a .tar.gz of the model folder is expected)');
  }
  let tar: Buffer;
  try {
    tar = await gunzipAsync(compressed, { maxOutputLength: maxBytes + TAR_SLACK_BYTES });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InvalidModelError(`artifact refused: it unpacks to more than ${maxBytes} bytes`);
    }
    throw new InvalidModelError(`artifact refused: corrupt gzip data (${(error as Error).message})`);
  }
  const files = await parseTar(tar, maxBytes);

  await mkdir(destDir, { recursive: true });
  const existing = await readdir(destDir);
  if (existing.length > 0) throw new Error(`cannot unpack into ${destDir}: the folder is not empty`);
  let bytes = 0;
  for (const file of files) {
    // 'wx': never follow or replace something that appeared in the folder meanwhile.
    await writeFile(join(destDir, file.name), Buffer.concat(file.chunks), { flag: 'wx', mode: 0o644 });
    bytes += file.size;
  }
  return { dir: destDir, files: files.map((f) => f.name).sort(), bytes };
}
