/**
 * Installing what a tfjs backend lacks for training, without changing the active backend.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError, BackendError } from '../errors.js';
import { assertKnownKeys, describe } from '../validation.js';
import { assertSupportedTfjs } from './version-guard.js';
import { installCpuKernels } from './cpu/resize-nearest-neighbor-grad.js';
import { installWasmKernels } from './wasm/install.js';
import { installWebGpuKernels } from './webgpu/add-n.js';
import { WASM } from './wasm/types.js';

/**
 * What genblocks installed on a backend so that it can train.
 *
 * @category Backends
 */
export interface TrainingSupport {
  /** The backend the kernels were installed on. */
  backend: string;
  /** Kernels the backend lacked and genblocks registered (e.g. `'Conv2DBackpropFilter'`). */
  added: string[];
  /** Stock kernels genblocks wrapped with a faster version (e.g. `'BatchMatMul'`). */
  replaced: string[];
}

/** Options of {@link enableTraining}. @category Backends */
export interface EnableTrainingOptions {
  /**
   * Install the kernels even when tfjs-core is not the 4.22.x they were written against.
   * Default `false` (a {@link BackendError} is thrown instead).
   */
  allowUntestedTfjs?: boolean;
}

/**
 * Makes a backend able to train: registers, through tfjs's public kernel registry, the kernels
 * and gradients it lacks and faster versions of kernels whose stock versions are too slow for
 * training. Idempotent; never changes which backend is active, and works before or after the
 * backend is initialized.
 *
 * On `wasm` (tfjs 4.22) this adds `Conv2DBackpropFilter` (tfjs issue 8474: no conv net can train
 * without it), the depthwise backprop kernels and `UnsortedSegmentSum` (gradient of `gather`,
 * for embeddings), and replaces `BatchMatMul`/`_FusedMatMul` (transposed and batched products
 * reach XNNPACK or genblocks' SIMD `gemm`, which skips XNNPACK's re-packing of fresh weights:
 * 8-20x faster), `Conv2DBackpropInput` (sub-pixel decomposition: 6-7x faster; a product and
 * col2im scatter below 4 channels: 3-6x), `Tile` (batch-norm backward), `Slice` (reads the
 * slice in place instead of copying the whole input), `Sum` and `Mean` (rows of leading axes
 * accumulated in place), `LeakyRelu` (9x), `Sqrt`, `Greater`, `Select` and `Tanh` (one SIMD pass each),
 * `Identity` (shares data, as on cpu and webgl), and for transformers and UNets `Transpose`
 * and `Unpack` (attention's head split), `Maximum`/`Minimum` (broadcasting SIMD pass), `Pow`
 * (squares and cubes as products), `Erf` (one SIMD pass), `ResizeNearestNeighbor` and its gradient,
 * `ClipByValue` (the stock kernel reads int32 as float32 and turns NaN into the lower bound), plus a one-reduction
 * `Tile` gradient (global, as every tfjs gradient), and adds the one-pass Adam kernel
 * that {@link train.fusedAdam} uses. Every kernel matches the cpu backend to 1e-4 relative
 * (genblocks' parity tests). On `cpu` it replaces `ResizeNearestNeighborGrad`, whose stock
 * version reads `dy` at the wrong batch stride (wrong gradients for batches above 1 when
 * upsampling) and ignores `halfPixelCenters`. On `webgpu` it replaces `AddN`, whose stock version
 * binds every input in one shader and silently returns garbage past the device's storage-buffer
 * limit (8 or more inputs by default), with one that adds in chunks. The `webgl` and `tensorflow`
 * backends need nothing.
 *
 * @see https://github.com/tensorflow/tfjs/issues/8474 (no Conv2DBackpropFilter on wasm)
 *
 * @param backendName Backend to prepare; default: the active backend (`tf.getBackend()`).
 * @param options See {@link EnableTrainingOptions}.
 * @returns What is installed on that backend (the same lists on every call).
 * @throws {@link BackendError} when the backend's package was not imported, or tfjs-core is not 4.22.x.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { backends } from 'genblocks';
 *
 * await tf.setBackend('wasm');
 * backends.enableTraining(); // { backend: 'wasm', added: ['Conv2DBackpropFilter', ...], replaced: [...] }
 * ```
 * @category Backends
 */
export function enableTraining(backendName?: string, options: EnableTrainingOptions = {}): TrainingSupport {
  const fn = 'backends.enableTraining';
  if (backendName !== undefined && (typeof backendName !== 'string' || backendName.length === 0)) {
    throw new ArgumentError({ fn, arg: 'backendName', expected: "be a backend name such as 'wasm'", received: describe(backendName) });
  }
  assertKnownKeys(options, ['allowUntestedTfjs'], 'options', fn);
  const backend = backendName ?? tf.getBackend();
  if (backend == null) {
    throw new BackendError(fn, `${fn}: no backend is active; pass a backend name or call backends.use() first`);
  }
  if (backend === 'cpu' && tf.findBackendFactory('cpu') != null) return { backend, ...installCpuKernels() };
  if (backend === 'webgpu') return { backend, ...installWebGpuKernels() };
  if (backend !== WASM) return { backend, added: [], replaced: [] };
  if (tf.findBackendFactory(WASM) == null || tf.getKernel('Conv2D', WASM) == null) {
    throw new BackendError(
      fn,
      `${fn}: the wasm backend is not registered; import '@tensorflow/tfjs-backend-wasm' (npm install @tensorflow/tfjs-backend-wasm) or use backends.use('wasm')`,
    );
  }
  assertSupportedTfjs(fn, options.allowUntestedTfjs);
  return { backend, ...installWasmKernels() };
}
