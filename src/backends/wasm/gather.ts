/**
 * `GatherV2` (`tf.gather`) for wasm as row copies on the heap. The stock kernel walks every
 * output element through a general strided index loop: a GPT's token embedding, 768 rows of
 * 128 floats gathered from a `[98, 128]` table, took about 3 ms of a 100 ms training step on
 * one thread (measured with scripts/profile-gpt-kernels.ts). Here each gathered slice (the
 * elements after `axis`) is one `TypedArray.set` of a heap view:
 *
 *     out[b, o, i, s] = x[b, o, indices[b, i], s]
 *
 * with `b` over the `batchDims` leading axes, `o` over the axes before `axis`, `s` over those
 * after it. Indices out of range throw as the stock kernel does; string tensors go to the stock
 * kernel.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';

import { attr, sizeOf, type WasmKernelFunc } from './types.js';

/** Slices shorter than this are copied element by element (a subarray per slice costs more). */
const SHORT_RUN = 16;

/** Wraps the stock wasm `GatherV2` (inputs `x`, `indices`; attrs `axis`, `batchDims`). */
export function makeGatherV2(stock: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const indices = inputs.indices!;
    if (x.dtype === 'string' || indices.dtype !== 'int32') return stock(args);
    const axis = util.parseAxisParam(attr<number>(attrs, 'axis'), x.shape)[0]!;
    const batchDims = attr<number | undefined>(attrs, 'batchDims') ?? 0;
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, axis, batchDims);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const ids = backend.typedArrayFromHeap(indices);
    for (let i = 0; i < ids.length; i++) {
      const index = ids[i]!;
      if (!(index >= 0 && index <= dimSize - 1)) throw new Error(`GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
    }
    // makeOutput may grow the heap, which detaches earlier views: take the views after it.
    const out = backend.makeOutput(info.outputShape, x.dtype);
    if (sizeOf(info.outputShape) === 0 || sizeOf(x.shape) === 0) return out;
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const iv = backend.typedArrayFromHeap(indices);
    // (Not ids.length: that view may have been detached when makeOutput grew the heap.)
    const perBatch = iv.length / batchSize;
    let o = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let outer = 0; outer < outerSize; outer++) {
        const base = (b * outerSize + outer) * dimSize;
        for (let i = 0; i < perBatch; i++) {
          const from = (base + iv[b * perBatch + i]!) * sliceSize;
          if (sliceSize < SHORT_RUN) for (let s = 0; s < sliceSize; s++) ov[o + s] = xv[from + s]!;
          else ov.set(xv.subarray(from, from + sliceSize), o);
          o += sliceSize;
        }
      }
    }
    return out;
  };
}
