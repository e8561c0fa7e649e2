/**
 * Broadcasting float32 binary element-wise kernels for wasm as one SIMD pass (genblocks' heap
 * kernel `binary`), installed for `Maximum` and `Minimum`, whose stock kernels compute every
 * element's source index in a scalar loop (15x slower than this pass against a scalar, and
 * hundreds of times against a `[rows, 1]` column, measured interleaved). The same kernel
 * computes `Add`, `Sub`, `Multiply`, `RealDiv` and `SquaredDifference`, but the stock kernels of
 * those run XNNPACK's broadcasting operators, 1.3-2x faster than this pass, so they stay stock;
 * `Tile` uses its copy operation for tiles that are broadcasts.
 *
 * Both operands are reduced to the output viewed as a matrix `[M, N]`: the broadcast axes are
 * merged into at most two groups (outer and inner), and each operand is then a full matrix, a row
 * `[N]` repeated over M, a column `[M]` repeated over N, or one value:
 *
 *     out(i, j) = A(i, j) op B(i, j),   A(i, j) = a[i·sa + j·ta],  B(i, j) = b[i·sb + j·tb]
 *
 * Shapes that need more than two groups (a `[N, 1, 1, G, 1]` group statistic over
 * `[N, H, W, G, C/G]`), other dtypes, and backends without the heap kernels go to the stock
 * kernel.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';

import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import type { WasmKernelFunc } from './types.js';

/** The `op` codes of the heap kernel `binary`. */
export const BINARY_OPS = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  SquaredDifference: 4,
  Maximum: 5,
  Minimum: 6,
} as const;

/** Op code 7 of `binary`: a copy of the first operand (broadcast). */
export const COPY_OP = 7;

/** How one operand of an `[M, N]` view is read: element `(i, j)` at `i·outer + j·inner`. */
export interface OperandView {
  outer: number;
  inner: number;
}

/** The `[M, N]` view of a broadcast between `shapes` (padded to `outShape`'s rank), or `null`. */
export interface BroadcastView {
  M: number;
  N: number;
  operands: OperandView[];
}

/**
 * Merges the axes of `outShape` into at most two groups over which each operand in `shapes`
 * (right-aligned, numpy broadcasting) is either full or broadcast, and returns the `[M, N]`
 * view with each operand's strides; `null` when three or more groups are needed.
 */
export function broadcastView(outShape: readonly number[], shapes: readonly (readonly number[])[]): BroadcastView | null {
  const rank = outShape.length;
  // Per axis of extent > 1: a bit per operand, set where it is full along that axis.
  const groups: { mask: number; size: number }[] = [];
  for (let d = 0; d < rank; d++) {
    const extent = outShape[d]!;
    if (extent === 1) continue;
    let mask = 0;
    shapes.forEach((shape, k) => {
      const dim = shape[d - (rank - shape.length)] ?? 1;
      if (dim !== 1) mask |= 1 << k;
    });
    const last = groups[groups.length - 1];
    if (last && last.mask === mask) last.size *= extent;
    else groups.push({ mask, size: extent });
  }
  if (groups.length > 2) return null;
  const inner = groups.length >= 1 ? groups[groups.length - 1]! : { mask: 0, size: 1 };
  // One group: a single row (M = 1), whose outer stride is never used.
  const outer = groups.length === 2 ? groups[0]! : { mask: inner.mask, size: 1 };
  const operands = shapes.map((_, k) => {
    const fullInner = (inner.mask >> k) & 1;
    const fullOuter = (outer.mask >> k) & 1;
    return { outer: fullOuter ? (fullInner ? inner.size : 1) : 0, inner: fullInner };
  });
  return { M: outer.size, N: inner.size, operands };
}

/** Wraps the stock wasm kernel `original` of binary op `op` (inputs `a`, `b`). */
export function makeBinary(original: WasmKernelFunc, op: number): WasmKernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const a = inputs.a!;
    const b = inputs.b!;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const kernels = heapKernels(backend);
    if (kernels == null) return original(args);
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const view = broadcastView(outShape, [a.shape, b.shape]);
    if (view == null) return original(args);
    const out = backend.makeOutput(outShape, 'float32');
    if (util.sizeFromShape(outShape) === 0) return out;
    const [va, vb] = view.operands as [OperandView, OperandView];
    disposeOnThrow(backend, [out], () =>
      kernels.binary(
        op,
        view.M,
        view.N,
        heapPointer(backend, a),
        va.outer,
        va.inner,
        heapPointer(backend, b),
        vb.outer,
        vb.inner,
        heapPointer(backend, out),
      ),
    );
    return out;
  };
}
