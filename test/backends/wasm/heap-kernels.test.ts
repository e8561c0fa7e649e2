/**
 * `copyRunsChunks` (src/backends/wasm/heap-kernels.ts): how a threaded `copyRuns` call (a
 * transpose that keeps the innermost axis: attention's head split and merge) is cut into chunks.
 * For thread counts 2 to 8 (and every chunk count up to the pool's limit) the chunks are never
 * more than asked for, nor past `MAX_CHUNKS`, and together write every output element exactly
 * once, each from the input element the unsplit copy reads.
 */
import { describe, expect, it } from 'vitest';

import { copyRunsChunks } from '../../../src/backends/wasm/heap-kernels.js';
import { MAX_CHUNKS } from '../../../src/backends/wasm/heap-pool.js';

/** Input element strides of a contiguous `shape`. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  return strides;
}

/**
 * `copyRuns`' arguments for the transpose of a contiguous `shape` by `perm` (innermost axis kept),
 * as `transpose.ts` builds them: outer extents padded with 1s to four axes, strides with 0s.
 */
function copyRunsArgs(shape: number[], perm: number[]): { extents: number[]; strides: number[]; run: number } {
  const inStrides = contiguousStrides(shape);
  const outer = perm.slice(0, -1);
  const pad = 4 - outer.length;
  return {
    extents: [...new Array<number>(pad).fill(1), ...outer.map((a) => shape[a]!)],
    strides: [...new Array<number>(pad).fill(0), ...outer.map((a) => inStrides[a]!)],
    run: shape[shape.length - 1]!,
  };
}

/**
 * Runs the chunks as `copyRuns` would (each chunk's runs one after another from its `to`) and
 * checks each output element is written once, from the input element that the unsplit copy
 * reads for it: output `((i0·n1 + i1)·n2 + i2)·n3 + i3)·run + j` ← input `Σ i_d·s_d + j`.
 */
function expectExactCover(extents: number[], strides: number[], run: number, chunks: number[][]): void {
  const [n0, n1, n2, n3] = extents as [number, number, number, number];
  const total = n0 * n1 * n2 * n3 * run;
  const source = new Int32Array(total).fill(-1);
  let twice = -1;
  let outside = -1;
  for (const [from, to, c0, c1, c2, c3] of chunks as [number, number, number, number, number, number][]) {
    let o = to;
    for (let i0 = 0; i0 < c0; i0++)
      for (let i1 = 0; i1 < c1; i1++)
        for (let i2 = 0; i2 < c2; i2++)
          for (let i3 = 0; i3 < c3; i3++)
            for (let j = 0; j < run; j++, o++) {
              if (o >= total) outside = o;
              else if (source[o] !== -1) twice = o;
              else source[o] = from + i0 * strides[0]! + i1 * strides[1]! + i2 * strides[2]! + i3 * strides[3]! + j;
            }
  }
  expect(outside, 'an output element past the end written').toBe(-1);
  expect(twice, 'an output element written twice').toBe(-1);
  // The unsplit copy's source of every output element, in output order.
  const expected = new Int32Array(total);
  let o = 0;
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++)
        for (let i3 = 0; i3 < n3; i3++)
          for (let j = 0; j < run; j++) expected[o++] = i0 * strides[0]! + i1 * strides[1]! + i2 * strides[2]! + i3 * strides[3]! + j;
  expect(source.indexOf(-1), 'first output element never written').toBe(-1);
  expect(Buffer.from(source.buffer).equals(Buffer.from(expected.buffer)), 'every output element read from its input element').toBe(true);
}

/** `[label, input shape, perm]`: attention's head split and merge at a few batch sizes. */
const TRANSPOSES: [string, number[], number[]][] = [
  ['head split [B=32, T=64, 3, H=4, D=32] → [3, B, H, T, D]', [32, 64, 3, 4, 32], [2, 0, 3, 1, 4]],
  ['head split [B=12, T=64, 3, H=4, D=32] (nanoGPT CPU)', [12, 64, 3, 4, 32], [2, 0, 3, 1, 4]],
  ['head merge [B=40, H=4, T=64, D=32] → [B, T, H, D]', [40, 4, 64, 32], [0, 2, 1, 3]],
  ['head merge [B=40, T=64, H=4, D=32] → [B, H, T, D]', [40, 64, 4, 32], [0, 2, 1, 3]],
  ['head split of 3 with 5 rows [5, 3, 7, 8] → [3, 5, 7, 8]', [5, 3, 7, 8], [1, 0, 2, 3]],
  ['one outer axis [70, 3, 16] → [3, 70, 16]', [70, 3, 16], [1, 0, 2]],
];

describe('copyRunsChunks', () => {
  describe.each(TRANSPOSES)('%s', (_label, shape, perm) => {
    const { extents, strides, run } = copyRunsArgs(shape, perm);
    const runs = extents.reduce((p, n) => p * n, 1);

    it.each([2, 3, 4, 5, 6, 7, 8])('%i threads: at most the chunks asked for (≤ MAX_CHUNKS), each output element once', (threads) => {
      // chunksFor's count for a call large enough to split: min(units, 8 chunks per thread, MAX_CHUNKS).
      const count = Math.min(runs, threads * 8, MAX_CHUNKS);
      const chunks = copyRunsChunks(extents, strides, run, count);
      expect(chunks.length).toBeLessThanOrEqual(count);
      expect(chunks.length).toBeLessThanOrEqual(MAX_CHUNKS);
      // Split at all: more than one chunk (threads get work).
      expect(chunks.length).toBeGreaterThan(1);
      expectExactCover(extents, strides, run, chunks);
    });

    it('every chunk count from 2 to MAX_CHUNKS: never more chunks than asked for, exact cover', () => {
      for (let count = 2; count <= MAX_CHUNKS; count++) {
        const chunks = copyRunsChunks(extents, strides, run, count);
        expect(chunks.length, `count ${count}`).toBeLessThanOrEqual(count);
        expectExactCover(extents, strides, run, chunks);
      }
    });
  });

  it('B = 40 head merge with 8 threads (64 chunks asked): 40 chunks, one per example (⌊64 / 40⌋ = 1 part each)', () => {
    // [B, H, T, D] → [B, T, H, D] with B = 40: the outermost axis (40) has fewer indices than 64,
    // so each example is split along T into max(1, ⌊64 / 40⌋) = 1 part (by hand): 40 chunks.
    const { extents, strides, run } = copyRunsArgs([40, 4, 64, 32], [0, 2, 1, 3]);
    expect(copyRunsChunks(extents, strides, run, 64)).toHaveLength(40);
  });

  it('head split [32, 64, 3, 4, 32] with 64 chunks asked: 3 × ⌊64 / 3⌋ = 63 chunks', () => {
    // The outer axis is the 3 of q, k, v; each index split along B = 32 into ⌊64 / 3⌋ = 21 parts (by hand).
    const { extents, strides, run } = copyRunsArgs([32, 64, 3, 4, 32], [2, 0, 3, 1, 4]);
    expect(copyRunsChunks(extents, strides, run, 64)).toHaveLength(63);
  });

  it('nothing to split (all extents 1, or one chunk asked): one chunk of everything', () => {
    expect(copyRunsChunks([1, 1, 1, 1], [0, 0, 0, 0], 32, 8)).toEqual([[0, 0, 1, 1, 1, 1]]);
    expect(copyRunsChunks([1, 3, 5, 2], [0, 10, 2, 1], 4, 1)).toEqual([[0, 0, 1, 3, 5, 2]]);
  });
});
