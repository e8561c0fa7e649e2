/**
 * The slice of tfjs-backend-wasm's `BackendWasm` that genblocks' wasm kernels use, typed here
 * so that the optional peer `@tensorflow/tfjs-backend-wasm` is never a compile-time dependency.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../../errors.js';

/** Name under which tfjs-backend-wasm registers itself. */
export const WASM = 'wasm';

/** The public methods of `BackendWasm` (tfjs 4.22) that the kernels call. */
export interface WasmBackend {
  /** Allocates an output tensor on the wasm heap. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A typed-array view of `t`'s heap memory; detached by any later allocation (memory.grow). */
  typedArrayFromHeap(t: tf.TensorInfo): tf.backend_util.TypedArray;
  /** Frees `dataId` (reference counted unless `force`). */
  disposeData(dataId: tf.TensorInfo['dataId'], force?: boolean): boolean;
  /** Adds a reference to `dataId` (a kernel output that shares its input's data). */
  incRef(dataId: tf.TensorInfo['dataId']): void;
  /** Number of live data ids (leak checks). */
  numDataIds(): number;
}

/** Arguments every wasm kernel function receives. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackend;
  attrs: tf.NamedAttrMap;
}

/** A wasm kernel function that returns one tensor. */
export type WasmKernelFunc = (args: WasmKernelArgs) => tf.TensorInfo;

/** The padding argument of tfjs conv kernels. */
export type PadArg = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Looks up the kernel function currently registered for `name` on wasm. */
export function wasmKernel(name: string): WasmKernelFunc {
  const config = tf.getKernel(name, WASM);
  if (config == null) {
    throw new BackendError(
      'backends.enableTraining',
      `the wasm backend has no '${name}' kernel; import '@tensorflow/tfjs-backend-wasm' first`,
    );
  }
  return config.kernelFunc as unknown as WasmKernelFunc;
}

/** Reads an attribute that tfjs-core always sets, with its expected type. */
export function attr<T>(attrs: tf.NamedAttrMap, name: string): T {
  return attrs[name] as unknown as T;
}

/** Product of the entries of `shape` (1 for `[]`). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
