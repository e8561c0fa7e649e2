/**
 * `Greater` for float32 on wasm when `b` is a scalar or has `a`'s shape, as one SIMD pass
 * (genblocks' heap kernels). The stock kernel runs its general broadcasting loop, about 4 ns per
 * element here; the gradient of every `leakyRelu` calls `greater(x, 0)` on the whole activation.
 *
 * @module
 */
import { heapKernels, heapPointer } from './heap-kernels.js';
import { disposeOnThrow } from './scope.js';
import { sizeOf, type WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Greater` kernel `original` (kept for other broadcasts and dtypes). */
export function makeGreater(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const a = inputs.a!;
    const b = inputs.b!;
    const kernels = heapKernels(backend);
    if (kernels == null || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
    // b with one element and no more axes than a broadcasts to a's shape.
    const scalarB = sizeOf(b.shape) === 1 && b.shape.length <= a.shape.length;
    if (!sameShape && !scalarB) return original(args);
    const out = backend.makeOutput([...a.shape], 'bool');
    disposeOnThrow(backend, [out], () =>
      kernels.greater(heapPointer(backend, a), heapPointer(backend, b), heapPointer(backend, out), sizeOf(a.shape), sameShape ? 1 : 0),
    );
    return out;
  };
}
