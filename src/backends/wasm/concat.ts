/**
 * `Concat` for wasm with short rows copied element by element. The stock kernel copies each
 * input's part of every output row with a `subarray` and `set` (about 100 ns per call); a UNet's
 * skip concatenation of `[N, H, W, C]` activations along channels makes that `N·H·W` calls per
 * input for rows of 8-64 floats (measured interleaved, rows of 8-24 floats: 4-18x). Here, viewing input k as `[rows, C_k]` and the output as
 * `[rows, Σ C_k]`,
 *
 *     out[i, o_k + j] = x_k[i, j]    (o_k = Σ of the widths before k)
 *
 * one strided copy per input by the heap kernels (`copyStrided`: a UNet's skip concatenation of
 * two `[64, 28, 28, 32]` activations took about 6.5 ms with a `set` per row, measured in a
 * training-step profile), or without them with parts shorter than {@link SHORT_PART} floats
 * copied by a plain loop, longer ones by `set`. Strings and other dtypes go to the stock kernel.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs-core';

import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, type WasmKernelArgs, type WasmKernelFunc } from './types.js';

/** Parts shorter than this many floats are copied element by element (a `set` call costs more). */
export const SHORT_PART = 32;

/** `ov[i·total + offset + j] = xv[i·w + j]` for `i < rows`, `j < w`. */
function copyRows(xv: Float32Array, ov: Float32Array, rows: number, w: number, total: number, offset: number): void {
  let src = 0;
  let dst = offset;
  for (let i = 0; i < rows; i++, src += w, dst += total) {
    for (let j = 0; j < w; j++) ov[dst + j] = xv[src + j]!;
  }
}

/** Wraps the stock wasm `Concat` (inputs: the tensors; attr `axis`). */
export function makeConcat(stock: WasmKernelFunc): WasmKernelFunc {
  return (args: WasmKernelArgs) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const { backend } = args;
    if (inputs.length < 2 || inputs.some((t) => t.dtype !== 'float32')) return stock(args);
    const axis = util.parseAxisParam(attr<number | number[]>(args.attrs, 'axis'), inputs[0]!.shape)[0]!;
    const parts = inputs.filter((t) => util.sizeFromShape(t.shape) > 0);
    if (parts.length < 2) return stock(args);
    const shapes = inputs.map((t) => t.shape);
    backend_util.assertParamsConsistent(shapes, axis);
    const outShape = backend_util.computeOutShape(shapes, axis);
    const rows = util.sizeFromShape(parts[0]!.shape.slice(0, axis));
    const widths = parts.map((t) => util.sizeFromShape(t.shape.slice(axis)));
    const total = widths.reduce((a, b) => a + b, 0);
    // makeOutput may grow the heap, which detaches earlier views: take the views after it.
    const out = backend.makeOutput(outShape, 'float32');
    const kernels = heapKernels(backend);
    if (kernels != null) {
      // One strided copy per input on the heap (bit copies, as below); `out` freed if one throws.
      return disposeOnThrow(backend, [out], () => {
        const o = heapPointer(backend, out);
        let offset = 0;
        parts.forEach((t, k) => {
          const w = widths[k]!;
          kernels.copyStrided(heapPointer(backend, t), w, o + 4 * offset, total, rows, w);
          offset += w;
        });
        return out;
      });
    }
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    let offset = 0;
    for (let k = 0; k < parts.length; k++) {
      const xv = backend.typedArrayFromHeap(parts[k]!) as Float32Array;
      const w = widths[k]!;
      if (w < SHORT_PART) copyRows(xv, ov, rows, w, total, offset);
      else for (let i = 0; i < rows; i++) ov.set(xv.subarray(i * w, (i + 1) * w), i * total + offset);
      offset += w;
    }
    return out;
  };
}
