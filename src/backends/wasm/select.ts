/**
 * `Select` (`tf.where(condition, t, e)`) for float32 and int32 on wasm when the condition has the
 * shape of `t` and `e`, as one SIMD pass (genblocks' heap kernels). The stock kernel costs about
 * 2.7 ns per element here; the gradient of every `leakyRelu` selects over the whole activation.
 *
 * @module
 */
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { sizeOf, type WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Select` kernel `original` (kept for row-wise conditions and other dtypes). */
export function makeSelect(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const condition = inputs.condition!;
    const t = inputs.t!;
    const e = inputs.e!;
    const kernels = heapKernels(backend);
    const n = sizeOf(t.shape);
    const fourBytes = t.dtype === 'float32' || t.dtype === 'int32';
    if (
      kernels == null ||
      !fourBytes ||
      e.dtype !== t.dtype ||
      condition.dtype !== 'bool' ||
      sizeOf(e.shape) !== n ||
      sizeOf(condition.shape) !== n ||
      condition.shape.length !== t.shape.length
    ) {
      return original(args);
    }
    const out = backend.makeOutput([...t.shape], t.dtype);
    disposeOnThrow(backend, [out], () =>
      kernels.select(heapPointer(backend, condition), heapPointer(backend, t), heapPointer(backend, e), heapPointer(backend, out), n),
    );
    return out;
  };
}
