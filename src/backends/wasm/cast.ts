/**
 * `Cast` for wasm that shares its input's data when the dtype does not change. The stock kernel
 * always copies; tfjs-core's `Multiply` gradient casts both operands to float32, so every
 * product in a backward pass (a UNet's SiLU and time-shift products among them) copied
 * activation-sized float32 tensors. tfjs tensors are immutable, so sharing is safe (as the
 * `Identity` kernel, `identity.ts`). Casts that change the dtype go to the stock kernel.
 *
 * @module
 */
import { attr, type WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Cast` kernel `original` (input `x`, attr `dtype`). */
export function makeCast(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const x = args.inputs.x!;
    if (x.dtype !== attr<string>(args.attrs, 'dtype') || x.dtype === 'string' || x.dtype === 'complex64') return original(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
