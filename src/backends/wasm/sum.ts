/**
 * `Sum` and `Mean` for wasm over leading axes, read in place. The stock kernel transposes its
 * input so that the reduced axes come last, then sums; for the bias gradients of training (a `[batch, units]`
 * or `[N, H, W, C]` gradient summed to `[units]` or `[C]`) that transpose dominates: summing a
 * `[32, 3136]` gradient over its rows took about 5 ms, 50 ns per element. When the reduced axes
 * are a leading block, here the output is the sum of the input's rows, accumulated row after
 * row (the heap kernels' `sumRows` pass, or a loop over a heap view without them):
 *
 *     out[j] = Σ_i x[i, j]   for x viewed as [Π reduced dims, Π kept dims]
 *
 * and `Mean` divides that sum by the number of rows (batch normalization's moments over
 * `[N, H, W]`, which the stock kernel also transposes first).
 *
 * Other axis patterns, non-float32 tensors and, without the heap kernels, rows shorter than 128
 * elements go to the stock kernel. `Sum` runs `sum-columns.ts` first (leading and middle axes).
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';

import { heapKernels, heapPointer } from './heap-kernels.js';
import { sumColumns } from './sum-columns.js';
import { attr, type WasmKernelFunc } from './types.js';

/** Kept rows shorter than this go to the stock kernel. */
const MIN_COLUMNS = 128;

/**
 * The sum over leading axes (`Sum`), divided by the number of rows when `mean` (`Mean`, as the
 * cpu backend: the float32 sum divided by the count); `null` for the patterns the stock kernel
 * keeps.
 */
function reduceLeading({ inputs, backend, attrs }: Parameters<WasmKernelFunc>[0], mean: boolean): ReturnType<WasmKernelFunc> | null {
  const x = inputs.x!;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attr<number | number[]>(attrs, 'axis'), x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return null;
  const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
  const keptShape = x.shape.slice(axes.length);
  const cols = util.sizeFromShape(keptShape);
  const kernels = heapKernels(backend);
  // Short rows (a conv layer's few channels) cost more in this loop's overhead than the stock
  // transpose does: measured slower below about a hundred columns (not the heap pass).
  if ((kernels == null && cols < MIN_COLUMNS) || (mean && rows === 0)) return null;
  const keepDims = attr<boolean>(attrs, 'keepDims');
  const outShape = keepDims ? backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
  // makeOutput may grow the heap, which detaches earlier views: take the views after it.
  const out = backend.makeOutput(outShape, 'float32');
  if (kernels != null) kernels.sumRows(heapPointer(backend, x), heapPointer(backend, out), 1, rows, cols);
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  if (rows === 0) {
    ov.fill(0);
    return out;
  }
  if (kernels == null) {
    ov.set(xv.subarray(0, cols));
    for (let i = 1; i < rows; i++) {
      const base = i * cols;
      for (let j = 0; j < cols; j++) ov[j]! += xv[base + j]!;
    }
  }
  if (mean) for (let j = 0; j < cols; j++) ov[j] = ov[j]! / rows;
  return out;
}

/** Wraps the stock wasm `Sum` (input `x`, attrs `axis`, `keepDims`). */
export function makeSum(stock: WasmKernelFunc): WasmKernelFunc {
  return (args) => sumColumns(args) ?? reduceLeading(args, false) ?? stock(args);
}

/**
 * Wraps the stock wasm `Mean` (input `x`, attrs `axis`, `keepDims`): batch normalization's
 * moments over `[N, H, W]` of an `[N, H, W, C]` activation, or over the rows of `[rows, C]`,
 * which the stock kernel transposes first.
 */
export function makeMean(stock: WasmKernelFunc): WasmKernelFunc {
  return (args) => reduceLeading(args, true) ?? stock(args);
}
