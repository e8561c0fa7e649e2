/**
 * Parsing of IDX files, the format of MNIST, Fashion-MNIST, EMNIST and KMNIST.
 *
 * @module
 */
import { ArgumentError } from '../errors.js';
import { describe } from '../validation.js';

/** Element types an IDX file can hold, named after the typed array they parse into. @category Data */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Typed array of each {@link IdxDType}. @category Data */
export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: its elements in row-major order and the dimensions from its header. @category Data */
export interface IdxArray {
  /** The elements, row-major, in the platform's byte order (IDX stores them big-endian). */
  data: IdxTypedArray;
  /** Dimensions read from the header, e.g. `[60000, 28, 28]` for the MNIST training images. */
  shape: number[];
  /** Element type from the header's type byte. */
  dtype: IdxDType;
}

/** IDX type byte → element type and size in bytes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT"). */
const IDX_TYPES: ReadonlyMap<number, { dtype: IdxDType; bytes: number }> = new Map([
  [0x08, { dtype: 'uint8', bytes: 1 }],
  [0x09, { dtype: 'int8', bytes: 1 }],
  [0x0b, { dtype: 'int16', bytes: 2 }],
  [0x0c, { dtype: 'int32', bytes: 4 }],
  [0x0d, { dtype: 'float32', bytes: 4 }],
  [0x0e, { dtype: 'float64', bytes: 8 }],
]);

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** The parts of an IDX header. @internal */
export interface IdxHeader {
  dtype: IdxDType;
  /** Size of one element in bytes. */
  elementBytes: number;
  shape: number[];
  /** Header length in bytes: 4 + 4 · ndims. */
  headerBytes: number;
  /** Payload length the header declares: product(shape) · elementBytes. */
  payloadBytes: number;
}

/**
 * Reads and validates an IDX header from the first bytes of a file. `totalBytes` is the length
 * of the whole file (which `bytes` may only be the start of), or undefined when it is not known
 * yet (the start of a gzip stream): then the data length is not checked. Throws an
 * {@link ArgumentError} that names `fn`, `arg` and `source` when the header is corrupt or the
 * length does not match.
 *
 * @internal
 */
export function parseIdxHeader(bytes: Uint8Array, totalBytes: number | undefined, fn: string, arg: string, source: string): IdxHeader {
  const fail = (expected: string, received: string, hint?: string): never => {
    throw new ArgumentError({ fn, arg, expected, received: `${source}${received}`, hint });
  };
  if (bytes.length < 4) {
    fail('be an IDX file (at least a 4-byte header: 0x00 0x00, type byte, number of dimensions)', `only ${bytes.length} bytes`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    fail(
      'start with the IDX magic bytes 0x00 0x00',
      `${hex(bytes[0]!)} ${hex(bytes[1]!)}`,
      gzip ? 'These are the gzip magic bytes: decompress the data first, or read the file with readIdx from genblocks/node' : undefined,
    );
  }
  const type = IDX_TYPES.get(bytes[2]!);
  if (!type) {
    fail(
      'have an IDX type byte of 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d (float32) or 0x0e (float64)',
      `type byte ${hex(bytes[2]!)}`,
    );
  }
  const { dtype, bytes: elementBytes } = type!;
  const ndims = bytes[3]!;
  const headerBytes = 4 + 4 * ndims;
  if ((totalBytes ?? bytes.length) < headerBytes || bytes.length < headerBytes) {
    fail(
      `be an IDX file with a complete header (${ndims} dimensions need ${headerBytes} header bytes)`,
      `only ${totalBytes ?? bytes.length} bytes (truncated header)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const shape: number[] = [];
  for (let d = 0; d < ndims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  // The product can exceed 2^53 for a corrupt header; it is still far above any real length,
  // so the comparison below rejects it without precision mattering.
  const payloadBytes = shape.reduce((a, b) => a * b, 1) * elementBytes;
  if (totalBytes === undefined) return { dtype, elementBytes, shape, headerBytes, payloadBytes };
  const actual = totalBytes - headerBytes;
  if (actual !== payloadBytes) {
    const declared = `${shape.length ? shape.join('×') : 'a scalar of'} ${dtype} = ${payloadBytes} bytes after the ${headerBytes}-byte header`;
    fail(
      `be an IDX file whose data length matches its header (${declared})`,
      `${actual} bytes of data (${actual < payloadBytes ? 'truncated' : 'extra trailing bytes'})`,
      actual < payloadBytes ? 'The file is incomplete: download or copy it again' : undefined,
    );
  }
  return { dtype, elementBytes, shape, headerBytes, payloadBytes };
}

/**
 * Decodes `count` big-endian elements starting at `offset` of `bytes` into a typed array of
 * `dtype`. Single-byte types are returned as a view on `bytes` (no copy).
 *
 * @internal
 */
export function decodeIdxElements(bytes: Uint8Array, offset: number, count: number, dtype: IdxDType): IdxTypedArray {
  const start = bytes.byteOffset + offset;
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(bytes.buffer, start, count);
    case 'int8':
      return new Int8Array(bytes.buffer, start, count);
    default: {
      const view = new DataView(bytes.buffer, start);
      if (dtype === 'int16') {
        const out = new Int16Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, false);
        return out;
      }
      if (dtype === 'int32') {
        const out = new Int32Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, false);
        return out;
      }
      if (dtype === 'float32') {
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, false);
        return out;
      }
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, false);
      return out;
    }
  }
}

/**
 * Parses an IDX file held in memory into a typed array and its shape.
 *
 * IDX layout (all integers big-endian): bytes 0–1 are `0x00 0x00`; byte 2 is the element type
 * (`0x08` uint8, `0x09` int8, `0x0b` int16, `0x0c` int32, `0x0d` float32, `0x0e` float64);
 * byte 3 is the number of dimensions `d`; then `d` uint32 sizes; then
 * `product(sizes) · sizeof(type)` bytes of data, row-major. The data length must match the
 * header exactly: a truncated file or trailing bytes throw an {@link ArgumentError} (there is
 * no partial read).
 *
 * Browser-safe (no Node APIs). uint8 and int8 data are returned as a view on `bytes` without a
 * copy; wider types are decoded into a new array in the platform's byte order. To read a file
 * (also gzip-compressed) in Node use `readIdx` from `genblocks/node`.
 *
 * @see http://yann.lecun.com/exdb/mnist/ (the IDX format, "THE IDX FILE FORMAT")
 * @param bytes The whole file's bytes (uncompressed).
 * @returns `{ data, shape, dtype }`; `data.length` is the product of `shape`.
 * @example
 * ```ts
 * const bytes = new Uint8Array(await (await fetch('t10k-labels-idx1-ubyte')).arrayBuffer());
 * const { data, shape } = data.parseIdx(bytes); // Uint8Array of 10000 labels, shape [10000]
 * ```
 * @category Data
 */
export function parseIdx(bytes: Uint8Array): IdxArray {
  const fn = 'data.parseIdx';
  if (!(bytes instanceof Uint8Array)) {
    throw new ArgumentError({ fn, arg: 'bytes', expected: 'be a Uint8Array (or a Node Buffer)', received: describe(bytes) });
  }
  const header = parseIdxHeader(bytes, bytes.length, fn, 'bytes', '');
  const count = header.payloadBytes / header.elementBytes;
  return { data: decodeIdxElements(bytes, header.headerBytes, count, header.dtype), shape: header.shape, dtype: header.dtype };
}
