/**
 * `ClipByValue` for float32 and int32 on wasm with the cpu backend's semantics:
 * `y = x > max ? max : (x < min ? min : x)`, so NaN stays NaN and int32 values are compared as
 * integers. The stock kernel (tfjs-backend-wasm 4.22) reads every input as float32 and clamps
 * with XNNPACK: int32 data comes out unclamped or garbled (`clipByValue([0, -1, 5, 2] int32, 0,
 * 2)` gives `[0, 0, 5, 2]`, and negative bounds give the bit patterns of floats), and NaN comes
 * out as the lower bound, which hides a diverged sample behind a clipped one.
 *
 * One scalar pass over the heap views. genblocks clips images for display and diffusion samples
 * once per step, never inside a training step, so this pass costs nothing that matters there.
 *
 * @module
 */
import { attr, type WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `ClipByValue` kernel `original` (kept for other dtypes). */
export function makeClipByValue(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return original(args);
    const min = attr<number>(attrs, 'clipValueMin');
    const max = attr<number>(attrs, 'clipValueMax');
    const out = backend.makeOutput([...x.shape], x.dtype);
    // Views after makeOutput: an allocation can grow the heap and detach earlier views.
    const xs = backend.typedArrayFromHeap(x);
    const ys = backend.typedArrayFromHeap(out);
    // The cpu kernel's comparisons, written into a typed array of x's dtype as cpu does (an int32
    // output truncates a fractional bound the same way).
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      ys[i] = v > max ? max : v < min ? min : v;
    }
    return out;
  };
}
