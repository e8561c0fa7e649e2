/**
 * `SplitV` (`tf.split`, the gradient of `tf.concat`: a UNet's skip connections) for wasm. The
 * stock kernel calls the stock slice function directly, which copies the whole input off the
 * heap for every output (about 5 ns per element of the input, per output). Float32 splits of the
 * last axis are strided copies by the heap `binary` kernel (op 7, copy; SIMD, split across the
 * heap threads by rows): viewing `x` as `[rows, C]`, output k is
 *
 *     out_k[i, j] = x[i, c_k + j]    (c_k = Σ of the sizes before k, j < size_k)
 *
 * Other axes and dtypes go through the registered `Slice` kernel, one output at a time.
 *
 * @module
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type * as tf from '@tensorflow/tfjs-core';

import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { attr, sizeOf, wasmKernel, type WasmKernelArgs } from './types.js';

/** The `binary` kernel's copy operation (`out = A`). */
const COPY = 7;

/** The wasm `SplitV` kernel (input `x`, attrs `numOrSizeSplits`, `axis`). */
export function splitV({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const x = inputs.x!;
  const rank = x.shape.length;
  const axis = util.parseAxisParam(attr<number | number[]>(attrs, 'axis'), x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x as tf.Tensor, attr<number | number[]>(attrs, 'numOrSizeSplits'), axis);
  const kernels = heapKernels(backend);
  if (x.dtype === 'float32' && axis === rank - 1 && kernels != null) {
    const C = x.shape[axis]!;
    const rows = sizeOf(x.shape) / Math.max(C, 1);
    const outs = sizes.map((s) => backend.makeOutput([...x.shape.slice(0, -1), s], 'float32'));
    // Pointers after every allocation (byte offsets stay valid; only views detach).
    const base = heapPointer(backend, x);
    let offset = 0;
    // Every output freed if a copy throws (a worker failing).
    return disposeOnThrow(backend, outs, () => {
      outs.forEach((out, k) => {
        const s = sizes[k]!;
        if (s > 0 && rows > 0) {
          const a = base + 4 * offset;
          kernels.binary(COPY, rows, s, a, C, 1, a, C, 1, heapPointer(backend, out));
        }
        offset += s;
      });
      return outs;
    });
  }
  const slice = wasmKernel('Slice');
  const begin = new Array<number>(rank).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const out = slice({ inputs: { x }, backend, attrs: { begin: [...begin], size } });
    begin[axis]! += s;
    return out;
  });
}
