/**
 * data.parseIdx on IDX files built byte by byte here (layout from yann.lecun.com/exdb/mnist,
 * "THE IDX FILE FORMAT"): every type, big-endian decoding, and every kind of corruption.
 */
import { describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { ArgumentError } from '../../src/errors.js';

/** Header bytes: 0x00 0x00, type byte, ndims, then each dim as a big-endian uint32. */
function header(type: number, dims: number[]): number[] {
  const out = [0x00, 0x00, type, dims.length];
  for (const d of dims) out.push((d >>> 24) & 0xff, (d >>> 16) & 0xff, (d >>> 8) & 0xff, d & 0xff);
  return out;
}
const idx = (type: number, dims: number[], payload: number[]): Uint8Array => new Uint8Array([...header(type, dims), ...payload]);

describe('data.parseIdx: decoding', () => {
  it('reads uint8 data with its shape (0x08)', () => {
    const out = data.parseIdx(idx(0x08, [2, 3], [1, 2, 3, 4, 5, 255]));
    expect(out.dtype).toBe('uint8');
    expect(out.shape).toEqual([2, 3]);
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.data)).toEqual([1, 2, 3, 4, 5, 255]);
  });

  it('reads int8 as two’s complement (0x09): 0xff is -1, 0x80 is -128', () => {
    const out = data.parseIdx(idx(0x09, [3], [0xff, 0x80, 0x7f]));
    expect(out.data).toBeInstanceOf(Int8Array);
    expect(Array.from(out.data)).toEqual([-1, -128, 127]);
  });

  it('reads big-endian int16 (0x0b): 01 02 is 258, ff fe is -2', () => {
    const out = data.parseIdx(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe]));
    expect(out.data).toBeInstanceOf(Int16Array);
    expect(Array.from(out.data)).toEqual([258, -2]);
  });

  it('reads big-endian int32 (0x0c): 00 01 00 00 is 65536, ff ff ff ff is -1', () => {
    const out = data.parseIdx(idx(0x0c, [2], [0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff]));
    expect(out.data).toBeInstanceOf(Int32Array);
    expect(Array.from(out.data)).toEqual([65536, -1]);
  });

  it('reads big-endian float32 (0x0d): 3f c0 00 00 is 1.5, c0 00 00 00 is -2 (IEEE 754)', () => {
    const out = data.parseIdx(idx(0x0d, [1, 2], [0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]));
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(out.shape).toEqual([1, 2]);
    expect(Array.from(out.data)).toEqual([1.5, -2]);
  });

  it('reads big-endian float64 (0x0e): 3f f8 00… is 1.5', () => {
    const out = data.parseIdx(idx(0x0e, [1], [0x3f, 0xf8, 0, 0, 0, 0, 0, 0]));
    expect(out.data).toBeInstanceOf(Float64Array);
    expect(Array.from(out.data)).toEqual([1.5]);
  });

  it('reads a 0-dimensional file as one element and an empty dimension as no data', () => {
    expect(Array.from(data.parseIdx(idx(0x08, [], [42])).data)).toEqual([42]);
    const empty = data.parseIdx(idx(0x08, [0, 28, 28], []));
    expect(empty.shape).toEqual([0, 28, 28]);
    expect(empty.data.length).toBe(0);
  });

  it('reads a view at an odd byte offset (unaligned multi-byte data) and a Node Buffer', () => {
    const bytes = [...header(0x0b, [2]), 0x00, 0x05, 0x80, 0x00];
    const big = new Uint8Array([9, ...bytes]);
    expect(Array.from(data.parseIdx(big.subarray(1)).data)).toEqual([5, -32768]);
    expect(Array.from(data.parseIdx(Buffer.from(bytes)).data)).toEqual([5, -32768]);
  });
});

describe('data.parseIdx: invalid files', () => {
  it('rejects fewer than 4 bytes', () => {
    expect(() => data.parseIdx(new Uint8Array([0, 0, 8]))).toThrow(
      /data\.parseIdx: argument 'bytes' must be an IDX file .*received only 3 bytes/,
    );
  });

  it('rejects a wrong magic number', () => {
    expect(() => data.parseIdx(new Uint8Array([0, 1, 8, 1, 0, 0, 0, 0]))).toThrow(
      /must start with the IDX magic bytes 0x00 0x00, received 0x00 0x01/,
    );
  });

  it('recognizes gzip data and says to decompress it', () => {
    expect(() => data.parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]))).toThrow(
      /received 0x1f 0x8b\. These are the gzip magic bytes.*readIdx/,
    );
  });

  it('rejects an unknown type byte', () => {
    expect(() => data.parseIdx(idx(0x0a, [1], [0]))).toThrow(/type byte of 0x08 .*received type byte 0x0a/);
  });

  it('rejects a truncated header', () => {
    // 3 dimensions need 4 + 12 = 16 header bytes; only 4 + 8 given.
    const bytes = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(() => data.parseIdx(bytes)).toThrow(/3 dimensions need 16 header bytes.*received only 12 bytes \(truncated header\)/);
  });

  it('rejects truncated data, naming the declared and actual lengths', () => {
    // [2,3] uint8 declares 6 bytes; 5 given.
    expect(() => data.parseIdx(idx(0x08, [2, 3], [1, 2, 3, 4, 5]))).toThrow(
      /2×3 uint8 = 6 bytes after the 12-byte header.*received 5 bytes of data \(truncated\)/,
    );
    // [2] int32 declares 8 bytes; 7 given (a partial element).
    expect(() => data.parseIdx(idx(0x0c, [2], [0, 0, 0, 1, 0, 0, 0]))).toThrow(/= 8 bytes .*received 7 bytes of data \(truncated\)/);
  });

  it('rejects trailing bytes beyond the declared data', () => {
    expect(() => data.parseIdx(idx(0x08, [2], [1, 2, 3]))).toThrow(/received 3 bytes of data \(extra trailing bytes\)/);
  });

  it('rejects absurd dimensions by length, without allocating or hanging', () => {
    // 0xffffffff² elements cannot match an 8-byte payload.
    expect(() => data.parseIdx(idx(0x0e, [0xffffffff, 0xffffffff], [0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(ArgumentError);
  });

  it('rejects a non-Uint8Array argument', () => {
    expect(() => data.parseIdx([0, 0, 8, 0, 1] as unknown as Uint8Array)).toThrow(
      /argument 'bytes' must be a Uint8Array .*received array of length 5/,
    );
  });

  it('either parses consistently or throws ArgumentError on random corruptions of a valid file', () => {
    // Deterministic LCG (Numerical Recipes constants) so a failure is reproducible.
    let state = 12345;
    const rand = (k: number) => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) % k;
    const valid = idx(0x0b, [2, 2], [0, 1, 0, 2, 0, 3, 0, 4]);
    for (let trial = 0; trial < 500; trial++) {
      const bytes = valid.slice(0, rand(valid.length + 3));
      for (let k = rand(3); k > 0 && bytes.length > 0; k--) bytes[rand(bytes.length)] = rand(256);
      try {
        const out = data.parseIdx(bytes);
        expect(out.data.length).toBe(out.shape.reduce((a, b) => a * b, 1));
      } catch (e) {
        expect(e).toBeInstanceOf(ArgumentError);
      }
    }
  });
});
