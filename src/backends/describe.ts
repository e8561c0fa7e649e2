/**
 * Describing the active tfjs backend.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../errors.js';
import { installedCpuKernels } from './cpu/resize-nearest-neighbor-grad.js';
import { installedWasmKernels } from './wasm/install.js';
import { installedWebGpuKernels } from './webgpu/add-n.js';

/**
 * The active backend as genblocks sees it.
 *
 * @category Backends
 */
export interface BackendDescription {
  /** `tf.getBackend()`. */
  name: string;
  /** wasm: whether the SIMD build runs; other backends: `false`. */
  simd: boolean;
  /**
   * wasm: XNNPACK threads (in Node, `backends.use('wasm')` starts one per logical core, up to 8;
   * `{ threads: 1 }` opts out); other backends: 1.
   */
  threads: number;
  /** Kernels genblocks added to this backend. */
  added: string[];
  /** Stock kernels genblocks replaced with faster ones. */
  replaced: string[];
}

interface WasmBackendInternals {
  wasm?: { tfjs?: { getThreadsCount?: () => number } };
}

/**
 * Describes the active backend: name, SIMD, threads, and the kernels genblocks installed on it.
 *
 * @returns A {@link BackendDescription}.
 * @throws {@link BackendError} when no backend is active.
 * @example
 * ```ts
 * import { backends } from 'genblocks';
 *
 * await backends.use('wasm', { threads: 1 });
 * backends.describeBackend().threads; // 1
 * ```
 * @category Backends
 */
export function describeBackend(): BackendDescription {
  const name = tf.getBackend();
  if (name == null)
    throw new BackendError('backends.describeBackend', 'backends.describeBackend: no backend is active; call backends.use() first');
  if (name === 'cpu') return { name, simd: false, threads: 1, ...installedCpuKernels() };
  if (name === 'webgpu') return { name, simd: false, threads: 1, ...installedWebGpuKernels() };
  if (name !== 'wasm') return { name, simd: false, threads: 1, added: [], replaced: [] };
  const internals = tf.backend() as unknown as WasmBackendInternals;
  const threads = internals.wasm?.tfjs?.getThreadsCount?.() ?? 1;
  return { name, simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads, ...installedWasmKernels() };
}
