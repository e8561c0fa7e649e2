/**
 * `Sum` and `Mean` for wasm over leading axes, read in place. The stock kernel transposes its
 * input so that the reduced axes come last, then sums; for the bias gradients of training (a `[batch, units]`
 * or `[N, H, W, C]` gradient summed to `[units]` or `[C]`) that transpose dominates: summing a
 * `[32, 3136]` gradient over its rows took about 5 ms, 50 ns per element. When the reduced axes
 * are a leading block, here the output is the sum of the input's rows, accumulated row after
 * row from a heap view:
 *
 *     out[j] = Σ_i x[i, j]   for x viewed as [Π reduced dims, Π kept dims]
 *
 * and `Mean` divides that sum by the number of rows (batch normalization's moments over
 * `[N, H, W]`, which the stock kernel also transposes first).
 *
 * Other axis patterns, rows shorter than 128 elements and non-float32 tensors go to the stock
 * kernel.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';

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
  // Short rows (a conv layer's few channels) cost more in loop overhead than the stock
  // transpose does: measured slower below about a hundred columns.
  if (cols < MIN_COLUMNS || (mean && rows === 0)) return null;
  const keepDims = attr<boolean>(attrs, 'keepDims');
  const outShape = keepDims ? backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
  // makeOutput may grow the heap, which detaches earlier views: take the views after it.
  const out = backend.makeOutput(outShape, 'float32');
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  if (rows === 0) {
    ov.fill(0);
    return out;
  }
  ov.set(xv.subarray(0, cols));
  for (let i = 1; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) ov[j]! += xv[base + j]!;
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
