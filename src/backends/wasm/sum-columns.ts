/**
 * `Sum` over leading axes or over the middle axes, as column sums on the heap (`sumRows`, one
 * SIMD pass). A conv layer's bias gradient (`[N, H, W, C]` summed to `[C]`) and the gradient of
 * a UNet's per-example time shift (`[N, H, W, C]` summed over `H, W` to `[N, 1, 1, C]`) have
 * rows of 8-128 channels; the stock kernel transposes first (about 3 ns per element). Viewing
 * the input as `[B, K, C]` (`B` = 1 for leading axes, the batch for the middle axes
 * `[1, …, r − 2]`),
 *
 *     out[b, j] = Σ_k x[b, k, j]
 *
 * each column accumulated from 0 in order of `k`: the sums a gemm by a row of ones gave (the
 * previous form of this kernel, limited to 8-120 columns), whose four identical tile rows made
 * it compute-bound. Not split across the heap threads: the pass runs at memory speed.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs-core';

import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, type WasmKernelArgs } from './types.js';

/** The sum as column sums, or `null` for other axes, dtypes, or without the heap kernels. */
export function sumColumns({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo | null {
  const x = inputs.x!;
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return null;
  const axes = util.parseAxisParam(attr<number | number[]>(attrs, 'axis'), x.shape).sort((a, b) => a - b);
  const contiguous = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  // Leading axes [0, …, k] or every axis between the first and the last.
  const leading = contiguous && axes[0] === 0 && axes[axes.length - 1]! < rank - 1;
  const middle = contiguous && axes[0] === 1 && axes[axes.length - 1] === rank - 2;
  if (!(leading || middle)) return null;
  const kernels = heapKernels(backend);
  if (kernels == null) return null;
  const batch = leading ? 1 : x.shape[0]!;
  const K = util.sizeFromShape(x.shape.slice(leading ? 0 : 1, axes[axes.length - 1]! + 1));
  const C = util.sizeFromShape(x.shape.slice(axes[axes.length - 1]! + 1));
  const keptShape = x.shape.filter((_, i) => !axes.includes(i));
  const outShape = attr<boolean>(attrs, 'keepDims') ? backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
  if (util.sizeFromShape(outShape) !== batch * C) return null;
  const out = backend.makeOutput(outShape, 'float32');
  // `out` freed if the pass throws.
  disposeOnThrow(backend, [out], () => kernels.sumRows(heapPointer(backend, x), heapPointer(backend, out), batch, K, C));
  return out;
}
