/**
 * Reading IDX files (plain or gzip-compressed) from disk in Node.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { constants as zlibConstants, gunzip as gunzipCallback, gunzipSync, type ZlibOptions } from 'node:zlib';

import { decodeIdxElements, parseIdxHeader, type IdxArray, type IdxHeader } from '../data/idx.js';
import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, describe } from '../validation.js';

const gunzip = promisify(gunzipCallback) as (buffer: Uint8Array, options: ZlibOptions) => Promise<Buffer>;

/**
 * Default cap on the decompressed size of a gzip-compressed IDX file (1 GiB; the largest file
 * of the MNIST family, EMNIST ByClass's training images, is 547 MB).
 *
 * @category Node
 */
export const DEFAULT_MAX_IDX_BYTES = 2 ** 30;

/**
 * The most bytes deflate can expand one compressed byte to (1032:1, from its longest match of
 * 258 bytes coded in 2 bits; zlib FAQ, "What's the maximum compression ratio?"). A header
 * declaring more than this allows for the compressed length cannot be honest.
 */
const MAX_DEFLATE_RATIO = 1032;

/** Options of {@link readIdx}. @category Node */
export interface ReadIdxOptions {
  /**
   * Read only the first `limit` entries along the first axis (e.g. the first 1000 images).
   * For an uncompressed file only those bytes are read; the whole file's length is still
   * checked against its header. Default: all.
   */
  limit?: number;
  /**
   * The most bytes a gzip-compressed file may decompress to (default
   * {@link DEFAULT_MAX_IDX_BYTES}, 1 GiB). Checked against the size the IDX header declares
   * before the data is inflated, and inflating stops as soon as the output passes the declared
   * size, so a gzip bomb fails fast without filling memory.
   */
  maxBytes?: number;
}

/** A parsed IDX file and the header it came from. @internal */
export interface IdxFile {
  array: IdxArray;
  /** The header of the whole file (its `shape[0]` is the full count, before `limit`). */
  header: IdxHeader;
}

async function readExactly(handle: fs.FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break; // the file shrank since fstat; the caller's length check reports it
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

function notReadable(fn: string, path: string, e: unknown): ArgumentError {
  const err = e as NodeJS.ErrnoException;
  return new ArgumentError({
    fn,
    arg: 'path',
    expected: 'name a readable file',
    received: `'${path}' (${err.code ?? err.message})`,
  });
}

/**
 * Inflates a gzip-compressed IDX file, bounded by what its header declares: the header is
 * inflated first (from the first few KB of the stream), its declared size checked against
 * `maxBytes` and against what `compressed.length` bytes can possibly inflate to, and the whole
 * stream then inflated with an output limit one byte past the declared size.
 */
async function inflateIdx(
  compressed: Uint8Array,
  path: string,
  maxBytes: number,
  fn: string,
): Promise<{ bytes: Uint8Array; header: IdxHeader }> {
  const source = `file '${path}' (after gunzip): `;
  const gzipError = (e: unknown) =>
    new ArgumentError({ fn, arg: 'path', expected: 'be a complete gzip stream', received: `file '${path}': ${(e as Error).message}` });
  // 4 KB of deflate inflate to at most 4 MB, and hold the largest IDX header (1,024 bytes).
  let start: Uint8Array;
  try {
    start = gunzipSync(compressed.subarray(0, 4096), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (e) {
    throw gzipError(e);
  }
  const header = parseIdxHeader(start, undefined, fn, 'path', source);
  const declared = header.headerBytes + header.payloadBytes;
  if (declared > maxBytes) {
    throw new ArgumentError({
      fn,
      arg: 'path',
      expected: `decompress to at most ${maxBytes} bytes (the maxBytes option)`,
      received: `${source}a header declaring ${declared} bytes (${header.shape.join('×')} ${header.dtype})`,
      hint: 'Raise maxBytes if the file is trusted and really that large',
    });
  }
  const possible = compressed.length * MAX_DEFLATE_RATIO;
  if (declared > possible) {
    throw new ArgumentError({
      fn,
      arg: 'path',
      expected: `declare no more data than ${compressed.length} compressed bytes can hold (${possible} bytes at deflate's 1032:1 at most)`,
      received: `${source}a header declaring ${declared} bytes (truncated or corrupt)`,
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = await gunzip(compressed, { maxOutputLength: declared + 1 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw gzipError(e);
    throw new ArgumentError({
      fn,
      arg: 'path',
      expected: `be an IDX file whose data length matches its header (${declared} bytes in all)`,
      received: `${source}more than ${declared} bytes (extra trailing bytes; inflating stopped there)`,
    });
  }
  return { bytes, header: parseIdxHeader(bytes, bytes.length, fn, 'path', source) };
}

/**
 * Reads and validates the IDX file at `path` (gzip detected from its first two bytes
 * `0x1f 0x8b`, whatever its name), optionally only its first `limit` entries. A gzip stream
 * may decompress to at most `maxBytes`.
 *
 * @internal
 */
export async function readIdxFile(path: string, limit: number | undefined, fn: string, maxBytes = DEFAULT_MAX_IDX_BYTES): Promise<IdxFile> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (e) {
    throw notReadable(fn, path, e);
  }
  if (!stat.isFile()) {
    const kind = stat.isDirectory() ? 'a folder' : stat.isFIFO() ? 'a FIFO' : 'a device or socket';
    throw new ArgumentError({ fn, arg: 'path', expected: 'name a regular file', received: `'${path}', which is ${kind}` });
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (e) {
    throw notReadable(fn, path, e);
  }
  const source = `file '${path}': `;
  try {
    const { size } = await handle.stat();
    const magic = await readExactly(handle, Math.min(4, size), 0);
    if (magic[0] === 0x1f && magic[1] === 0x8b) {
      const { bytes, header } = await inflateIdx(await readExactly(handle, size, 0), path, maxBytes, fn);
      return { array: slice(bytes, header, limit), header };
    }
    const ndims = magic.length === 4 ? magic[3]! : 0;
    const head = await readExactly(handle, Math.min(4 + 4 * ndims, size), 0);
    const header = parseIdxHeader(head, size, fn, 'path', source);
    const rows = rowsToRead(header, limit);
    const bytes = await readExactly(handle, rows.bytes, header.headerBytes);
    if (bytes.length !== rows.bytes) {
      throw new ArgumentError({
        fn,
        arg: 'path',
        expected: `hold ${rows.bytes} data bytes`,
        received: `${source}${bytes.length} (the file changed while it was read)`,
      });
    }
    return { array: { data: decodeIdxElements(bytes, 0, rows.elements, header.dtype), shape: rows.shape, dtype: header.dtype }, header };
  } finally {
    await handle.close();
  }
}

function rowsToRead(header: IdxHeader, limit: number | undefined): { shape: number[]; elements: number; bytes: number } {
  const shape = [...header.shape];
  if (limit !== undefined && shape.length > 0 && limit < shape[0]!) shape[0] = limit;
  const elements = shape.reduce((a, b) => a * b, 1);
  return { shape, elements, bytes: elements * header.elementBytes };
}

function slice(bytes: Uint8Array, header: IdxHeader, limit: number | undefined): IdxArray {
  const rows = rowsToRead(header, limit);
  return { data: decodeIdxElements(bytes, header.headerBytes, rows.elements, header.dtype), shape: rows.shape, dtype: header.dtype };
}

/**
 * Reads an IDX file (the format of MNIST, Fashion-MNIST, EMNIST, KMNIST) into a typed array and
 * its shape. Gzip-compressed files (`*.gz` as distributed) are recognized by their first two
 * bytes `0x1f 0x8b`, whatever their name, and decompressed with `node:zlib`.
 *
 * The header is validated (magic `0x00 0x00`, type byte, dimensions) and the data length must
 * match it exactly; a truncated or over-long file throws an {@link ArgumentError} naming the
 * file, never returns a short read. See `data.parseIdx` for the format and for parsing bytes
 * already in memory.
 *
 * @param path Path of the IDX file, plain or gzip-compressed.
 * A gzip-compressed file is inflated only up to the size its header declares, itself capped by
 * `maxBytes` (default {@link DEFAULT_MAX_IDX_BYTES}), so a gzip bomb fails fast. A folder, FIFO
 * or device in place of the file is refused.
 *
 * @param options `limit`: read only the first entries along the first axis; `maxBytes`: cap on
 *   the decompressed size.
 * @returns `{ data, shape, dtype }`; `shape[0]` is at most `limit`.
 * @example
 * ```ts
 * import { readIdx } from 'genblocks/node';
 * const labels = await readIdx('data/t10k-labels-idx1-ubyte.gz'); // Uint8Array, shape [10000]
 * ```
 * @category Node
 */
export async function readIdx(path: string, options: ReadIdxOptions = {}): Promise<IdxArray> {
  const fn = 'readIdx';
  if (typeof path !== 'string' || path === '') {
    throw new ArgumentError({ fn, arg: 'path', expected: 'be a non-empty string', received: describe(path) });
  }
  assertKnownKeys(options, ['limit', 'maxBytes'], 'options', fn);
  if (options.limit !== undefined) assertPositiveInt(options.limit, 'options.limit', fn);
  if (options.maxBytes !== undefined) assertNumber(options.maxBytes, 'options.maxBytes', fn, { min: 1, integer: true });
  return (await readIdxFile(path, options.limit, fn, options.maxBytes)).array;
}
