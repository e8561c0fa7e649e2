/**
 * A seeded fuzz test of data.parseIdx: 4,000 inputs made by mutating valid IDX files (bit flips,
 * byte overwrites, truncation, appended bytes, random headers, random bytes). Every input must
 * either parse into a consistent array or throw a typed genblocks ArgumentError: never a
 * RangeError, a TypeError or a hang.
 */
import { describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { ArgumentError } from '../../src/errors.js';
import { mulberry32 } from '../../src/random.js';

/** Element sizes by IDX type byte (yann.lecun.com/exdb/mnist, "THE IDX FILE FORMAT"). */
const ELEMENT_BYTES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };
const TYPES = Object.keys(ELEMENT_BYTES).map(Number);

describe('data.parseIdx fuzz', () => {
  it('4,000 seeded mutations of IDX files give a consistent array or an ArgumentError', () => {
    const random = mulberry32(17);
    const int = (n: number) => Math.floor(random() * n);

    /** A valid IDX file of a random type and a small random shape. */
    function valid(): Uint8Array {
      const type = TYPES[int(TYPES.length)]!;
      const dims = Array.from({ length: int(4) }, () => 1 + int(5));
      const payload = dims.reduce((a, b) => a * b, 1) * ELEMENT_BYTES[type]!;
      const bytes = new Uint8Array(4 + 4 * dims.length + payload);
      bytes.set([0, 0, type, dims.length]);
      const view = new DataView(bytes.buffer);
      dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
      for (let i = 4 + 4 * dims.length; i < bytes.length; i++) bytes[i] = int(256);
      return bytes;
    }

    function mutate(bytes: Uint8Array): Uint8Array {
      switch (int(7)) {
        case 0: {
          const out = bytes.slice();
          for (let k = 1 + int(3); k > 0 && out.length > 0; k--) out[int(out.length)]! ^= 1 << int(8);
          return out;
        }
        case 1: {
          const out = bytes.slice();
          // Overwrite a header byte: type, ndims or a dimension.
          if (out.length > 0) out[int(Math.min(out.length, 16))] = int(256);
          return out;
        }
        case 2:
          return bytes.subarray(0, int(bytes.length + 1));
        case 3:
          return new Uint8Array([...bytes, ...Array.from({ length: 1 + int(8) }, () => int(256))]);
        case 4: {
          // A header with huge dimensions over a small payload.
          const out = bytes.slice();
          if (out.length >= 8) new DataView(out.buffer).setUint32(4, int(2 ** 32), false);
          return out;
        }
        case 5:
          return Uint8Array.from({ length: int(64) }, () => int(256));
        default:
          return bytes;
      }
    }

    const outcomes = { parsed: 0, rejected: 0 };
    for (let i = 0; i < 4000; i++) {
      const input = mutate(valid());
      let result: ReturnType<typeof data.parseIdx> | undefined;
      try {
        result = data.parseIdx(input);
      } catch (e) {
        if (!(e instanceof ArgumentError)) throw new Error(`case ${i}: ${String(e)} for bytes [${Array.from(input.subarray(0, 24))}]`);
        expect(e.message).toMatch(/^data\.parseIdx: argument 'bytes' must /);
        outcomes.rejected++;
        continue;
      }
      // A parse must be consistent with the bytes: elements = product(shape), and the bytes
      // hold exactly header + elements · size.
      const elements = result.shape.reduce((a, b) => a * b, 1);
      expect(result.data.length).toBe(elements);
      expect(input.length).toBe(4 + 4 * result.shape.length + elements * result.data.BYTES_PER_ELEMENT);
      outcomes.parsed++;
    }
    // Both branches were exercised (the unmutated case alone parses a seventh of the inputs).
    expect(outcomes.parsed).toBeGreaterThan(400);
    expect(outcomes.rejected).toBeGreaterThan(2000);
  });
});
