/**
 * The heap `gemm` for sizes that do not fit its 4x8 tiles: the products of a UNet's attention
 * at 7×7 (49 positions: `q·kᵀ` is 49x64·64x49, `att·v` 49x49·49x64, and their gradients).
 *
 * Any `M ≥ 4` by `N ≥ 8` product is covered by at most four tiled products, all read and
 * written in place: the `M₄ x N₈` block (`M₄ = M − M mod 4`, `N₈ = N − N mod 8`), the last 8
 * columns `[N − 8, N)` of its rows, the last 4 rows `[M − 4, M)` of its columns, and the last 4x8
 * corner. The edge strips overlap the block (and each other); an element computed twice is
 * computed the same way both times (the same products summed in the same order over `k`), so
 * the second write leaves the same bits and the result does not depend on the split or the
 * thread count. The extra work is `M₄·8 + 4·N₈ + 32` elements per product (1.21x at 49x49,
 * 1.06x at 49x64), against copies to padded operands and back, or XNNPACK's per-entry products
 * (a slice, a packed right operand and a concat for each). `batch-mat-mul.ts` runs every
 * batched heap product through {@link gemmBatchEdges} (tiled sizes are one `gemmBatch`).
 *
 * @module
 */
import { PANEL_MIN_ROWS, type HeapKernels } from './heap-kernels.js';

/**
 * `gemmBatch` (arguments as {@link HeapKernels.gemmBatch}) for any `M ≥ 4`, `N ≥ 8`: at most
 * four tiled batches, the edges overlapping the block (see the module comment). A must have
 * plain strides (`sab = 4·sai`: an edge strip starts at any row); `panel` must not be 0 when
 * `sbj ≠ 1`.
 */
export function gemmBatchEdges(
  kernels: HeapKernels,
  count: number,
  strideA: number,
  strideB: number,
  strideC: number,
  a: number,
  b: number,
  c: number,
  bias: number,
  M: number,
  N: number,
  K: number,
  sab: number,
  sai: number,
  sak: number,
  sbk: number,
  sbj: number,
  sci: number,
  scj: number,
  panel: number,
): void {
  const M4 = M - (M % 4);
  const N8 = N - (N % 8);
  // Row and column offsets (elements) of the edge strips.
  const rows: [number, number][] =
    M4 === M
      ? [[0, M]]
      : [
          [0, M4],
          [M - 4, 4],
        ];
  const cols: [number, number][] =
    N8 === N
      ? [[0, N]]
      : [
          [0, N8],
          [N - 8, 8],
        ];
  for (const [i0, m] of rows) {
    for (const [j0, n] of cols) {
      kernels.gemmBatch(
        ...[count, strideA, strideB, strideC],
        ...[a + 4 * i0 * sai, b + 4 * j0 * sbj, c + 4 * (i0 * sci + j0 * scj), bias === 0 ? 0 : bias + 4 * j0],
        ...[m, n, K, sab, sai, sak, sbk, sbj, sci, scj, m >= PANEL_MIN_ROWS || sbj !== 1 ? panel : 0],
      );
    }
  }
}
