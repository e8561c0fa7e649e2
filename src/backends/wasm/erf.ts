/**
 * `Erf` for wasm as one SIMD pass (genblocks' heap kernels), by the formula the cpu backend
 * uses (Abramowitz & Stegun 7.1.26, error ≤ 1.5e-7):
 *
 *     erf(x) = sign(x)·(1 − t·(a₁ + t(a₂ + t(a₃ + t(a₄ + t·a₅))))·e^(−x²)),   t = 1/(1 + p|x|)
 *
 * with `e^y` computed in float32 as Cephes' `expf`. The stock kernel is a scalar loop (about
 * 90 ns per element here); GELU in its exact form, `½x(1 + erf(x/√2))`, runs it on every
 * activation of a transformer's MLP.
 *
 * @see https://arxiv.org/abs/1606.08415 (Hendrycks & Gimpel 2016, GELU)
 * @module
 */
import { makeUnaryHeapKernel } from './heap-kernels.js';
import type { WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Erf` kernel `original` (kept for non-float32 inputs, or without the heap kernels). */
export function makeErf(original: WasmKernelFunc): WasmKernelFunc {
  return makeUnaryHeapKernel(original, (kernels, x, out, n) => kernels.erf(x, out, n));
}
