/**
 * Reading IDX files (plain or gzip-compressed) from disk in Node.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';

import { decodeIdxElements, parseIdxHeader, type IdxArray, type IdxHeader } from '../data/idx.js';
import { ArgumentError } from '../errors.js';
import { assertOptionsObject, assertPositiveInt, describe } from '../validation.js';

const gunzip = promisify(gunzipCallback);

/** Options of {@link readIdx}. @category Node */
export interface ReadIdxOptions {
  /**
   * Read only the first `limit` entries along the first axis (e.g. the first 1000 images).
   * For an uncompressed file only those bytes are read; the whole file's length is still
   * checked against its header. Default: all.
   */
  limit?: number;
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
 * Reads and validates the IDX file at `path` (gzip detected from its first two bytes
 * `0x1f 0x8b`, whatever its name), optionally only its first `limit` entries.
 *
 * @internal
 */
export async function readIdxFile(path: string, limit: number | undefined, fn: string): Promise<IdxFile> {
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
      const compressed = await readExactly(handle, size, 0);
      let bytes: Uint8Array;
      try {
        bytes = await gunzip(compressed);
      } catch (e) {
        throw new ArgumentError({ fn, arg: 'path', expected: 'be a complete gzip stream', received: `${source}${(e as Error).message}` });
      }
      const header = parseIdxHeader(bytes, bytes.length, fn, 'path', `file '${path}' (after gunzip): `);
      return { array: slice(bytes, header, limit), header };
    }
    const ndims = magic.length === 4 ? magic[3]! : 0;
    const head = await readExactly(handle, Math.min(4 + 4 * ndims, size), 0);
    const header = parseIdxHeader(head, size, fn, 'path', source);
    const rows = rowsToRead(header, limit);
    const bytes = await readExactly(handle, rows.bytes, header.headerBytes);
    if (bytes.length !== rows.bytes) {
      throw new ArgumentError({ fn, arg: 'path', expected: `hold ${rows.bytes} data bytes`, received: `${source}${bytes.length} (the file changed while it was read)` });
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
 * @param options `limit`: read only the first entries along the first axis.
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
  assertOptionsObject(options, 'options', fn);
  if (options.limit !== undefined) assertPositiveInt(options.limit, 'options.limit', fn);
  return (await readIdxFile(path, options.limit, fn)).array;
}
