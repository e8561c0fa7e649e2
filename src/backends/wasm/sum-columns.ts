/**
 * `Sum` over rows of few columns, as products with a vector of ones on the heap gemm. A conv
 * layer's bias gradient (`[N, H, W, C]` summed to `[C]`) and the gradient of a UNet's per-example
 * time shift (`[N, H, W, C]` summed over `H, W` to `[N, 1, 1, C]`) have rows of 8-128 channels:
 * too short for the row-accumulating `Sum` (`sum.ts`), so they went to the stock kernel, which
 * transposes first (about 3 ns per element). Viewing the input as `[B, K, C]` (`B` = 1 for
 * leading axes, the batch for the middle axes `[1, …, r − 2]`),
 *
 *     out[b, j] = Σ_k 1 · x[b, k, j]
 *
 * is one gemm per `b` with `A` a single 1 read with zero strides (4 identical rows, written to
 * the same output row), `B` the rows of `x` in place: sums in order of `k`, whichever thread
 * runs a block of columns.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs-core';

import { heapKernels, heapPointer } from './heap-kernels.js';
import { attr, type WasmKernelArgs } from './types.js';

/** Rows of at least this many columns stay with the row-accumulating `Sum`. */
const MAX_COLUMNS = 128;

/** The sum as gemms, or `null` for other axes, dtypes, column counts or without the heap kernels. */
export function sumColumns({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo | null {
  const x = inputs.x!;
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return null;
  const axes = util.parseAxisParam(attr<number | number[]>(attrs, 'axis'), x.shape).sort((a, b) => a - b);
  const C = x.shape[rank - 1]!;
  const contiguous = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  // Leading axes [0, …, k] or every axis between the first and the last.
  const leading = contiguous && axes[0] === 0 && axes[axes.length - 1]! < rank - 1;
  const middle = contiguous && axes[0] === 1 && axes[axes.length - 1] === rank - 2;
  if (!(leading || middle) || C % 8 !== 0 || C >= MAX_COLUMNS) return null;
  const kernels = heapKernels(backend);
  if (kernels == null) return null;
  const batch = leading ? 1 : x.shape[0]!;
  const K = util.sizeFromShape(x.shape.slice(leading ? 0 : 1, axes[axes.length - 1]! + 1));
  const keptShape = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = attr<boolean>(attrs, 'keepDims') ? backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
  if (K === 0 || util.sizeFromShape(outShape) !== batch * C) return null;
  const one = backend.makeOutput([1], 'float32');
  const out = backend.makeOutput(outShape, 'float32');
  (backend.typedArrayFromHeap(one) as Float32Array)[0] = 1;
  kernels.gemmBatch(
    ...[batch, 0, 4 * K * C, 4 * C, heapPointer(backend, one), heapPointer(backend, x), heapPointer(backend, out), 0],
    ...[4, C, K, 0, 0, C, 0, 1, 0],
  );
  backend.disposeData(one.dataId);
  return out;
}
