/**
 * `Slice` for wasm that reads its input in place. The stock kernel starts with
 * `backend.readSync(x)`, which copies the whole input off the heap before copying out the slice:
 * a 64-row slice of a 60000-image tensor costs about 300 ms, and the layer-norm gradient slices
 * activations on every step (a 784-512 layer-norm MLP step spent 70% of its time in `Slice`).
 * Here the slice is copied straight from a heap view of `x`, as runs of its innermost axis:
 *
 *     out[i₀, …, i_{r−1}] = x[b₀ + i₀, …, b_{r−1} + i_{r−1}]
 *
 * String tensors (not on the heap) go to the stock kernel.
 *
 * @module
 */
import { slice_util, util } from '@tensorflow/tfjs-core';

import { attr, sizeOf, type WasmKernelFunc } from './types.js';

/** Runs shorter than this are copied element by element (a subarray per run costs more). */
const SHORT_RUN = 16;

/** Wraps the stock wasm `Slice` (input `x`, attrs `begin`, `size`). */
export function makeSlice(stock: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    if (x.dtype === 'string') return stock(args);
    const [begin, size] = slice_util.parseSliceParams(
      x as never,
      attr<number | number[]>(attrs, 'begin'),
      attr<number | number[]>(attrs, 'size'),
    );
    // makeOutput may grow the heap, which detaches earlier views: take the views after it.
    const out = backend.makeOutput(size, x.dtype);
    if (sizeOf(size) === 0) return out;
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const strides = util.computeStrides(x.shape);
    if (slice_util.isSliceContinous(x.shape, begin, size)) {
      const offset = slice_util.computeFlatOffset(begin, strides);
      ov.set(xv.subarray(offset, offset + ov.length));
      return out;
    }
    // Odometer over the outer axes; each position copies one run of the innermost axis.
    const rank = size.length;
    const run = size[rank - 1]!;
    const index = new Array<number>(rank - 1).fill(0);
    let o = 0;
    for (;;) {
      let offset = begin[rank - 1]!;
      for (let d = 0; d < rank - 1; d++) offset += (begin[d]! + index[d]!) * strides[d]!;
      if (run < SHORT_RUN) {
        for (let k = 0; k < run; k++) ov[o + k] = xv[offset + k]!;
      } else {
        ov.set(xv.subarray(offset, offset + run), o);
      }
      o += run;
      let d = rank - 2;
      while (d >= 0 && ++index[d]! === size[d]!) index[d--] = 0;
      if (d < 0) break;
    }
    return out;
  };
}
