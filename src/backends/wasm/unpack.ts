/**
 * `Unpack` (`tf.unstack`) for wasm through the registered `Slice` kernel. The stock kernel calls
 * the stock slice function directly, which copies the whole input off the heap for every
 * output; attention unstacks its `[3, B, H, T, D]` query/key/value tensor on every call. Each
 * output is the slice at index i along `axis`, with that axis dropped from its shape.
 *
 * @module
 */
import { attr, wasmKernel, type WasmKernelArgs } from './types.js';
import type * as tf from '@tensorflow/tfjs-core';

/** The wasm `Unpack` kernel (input `value`, attr `axis`). */
export function unpack({ inputs, backend, attrs }: WasmKernelArgs): tf.TensorInfo[] {
  const value = inputs.value!;
  const rank = value.shape.length;
  let axis = attr<number>(attrs, 'axis');
  if (axis < 0) axis += rank;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = value.shape.slice();
  size[axis] = 1;
  const begin = new Array<number>(rank).fill(0);
  const slice = wasmKernel('Slice');
  const outs: tf.TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]!; i++) {
    begin[axis] = i;
    const { dataId, dtype } = slice({ inputs: { x: value }, backend, attrs: { begin: [...begin], size } });
    outs.push({ dataId, dtype, shape: outShape });
  }
  return outs;
}
