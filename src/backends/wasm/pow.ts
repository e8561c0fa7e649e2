/**
 * `Pow` for wasm with a scalar exponent 2 or 3, as XNNPACK products: `x² = x·x`,
 * `x³ = (x·x)·x`. The stock kernel calls the C library's `pow` per element through its general
 * broadcasting loop (about 140 ns per element here); the tanh form of GELU,
 * `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`, raises every activation to the third power forward
 * and to the second in its gradient. `x·x` is correctly rounded, so `x²` equals the cpu
 * backend's `Math.pow(x, 2)` exactly; `x³` is within one rounding of it. Other exponents,
 * dtypes and broadcasts go to the stock kernel.
 *
 * @module
 */
import { Scope } from './scope.js';
import { sizeOf, wasmKernel, type WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Pow` (inputs `a`, `b`). */
export function makePow(stock: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const a = inputs.a!;
    const b = inputs.b!;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || sizeOf(b.shape) !== 1 || b.shape.length > a.shape.length) return stock(args);
    const exponent = backend.typedArrayFromHeap(b)[0];
    if (exponent !== 2 && exponent !== 3) return stock(args);
    const multiply = wasmKernel('Multiply');
    if (exponent === 2) return multiply({ inputs: { a, b: a }, backend, attrs: {} });
    const s = new Scope(backend);
    try {
      const square = s.run('Multiply', { a, b: a });
      return multiply({ inputs: { a: square, b: a }, backend, attrs: {} });
    } finally {
      s.dispose();
    }
  };
}
