/**
 * `Identity` for wasm that shares its input's data, as the cpu and webgl backends' `Identity`
 * do: tfjs tensors are immutable, so a copy is never needed. The stock wasm kernel copies the
 * whole buffer; `tf.clone` (which `broadcastTo`, `where` and the gradient tape call on every
 * activation and weight gradient) made it about 180 copies per MLP-GAN training step.
 *
 * @module
 */
import type { WasmKernelFunc } from './types.js';

/** Wraps the stock wasm `Identity` kernel `original` (kept for string tensors). */
export function makeIdentity(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string' || x.dtype === 'complex64') return original(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
