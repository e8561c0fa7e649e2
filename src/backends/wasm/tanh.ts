/**
 * `Tanh` for wasm as one SIMD pass (genblocks' heap kernels): Eigen's float tanh, x clamped to
 * ±7.905 and `x·P(x²)/Q(x²)` (odd degree 13 over even degree 6), x itself for |x| < 4e-4;
 * largest error against the exact tanh 3.9e-7. The stock kernel calls the C library's `tanh`
 * per element, about 17 ns each here; a DCGAN or MLP generator ends in `tanh` over every pixel.
 *
 * @see https://gitlab.com/libeigen/eigen/-/blob/master/Eigen/src/Core/MathFunctionsImpl.h (generic_fast_tanh_float)
 * @module
 */
import { makeUnaryHeapKernel } from './heap-kernels.js';
import type { WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Tanh` kernel `original` (kept for non-float32 inputs, or without the heap kernels). */
export function makeTanh(original: WasmKernelFunc): WasmKernelFunc {
  return makeUnaryHeapKernel(original, (kernels, x, out, n) => kernels.tanh(x, out, n));
}
