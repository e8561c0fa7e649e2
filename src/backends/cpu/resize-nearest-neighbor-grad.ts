/**
 * A correct `ResizeNearestNeighborGrad` for tfjs-backend-cpu.
 *
 * The stock cpu kernel of tfjs 4.22 reads `dy` at the images' batch stride (`batchOffset =
 * b * imagesStrides[0]`, used for `dy` too), so every example after the first gets the gradient
 * of the wrong part of `dy` when the op upsamples; it also ignores `halfPixelCenters`. This one is
 * the adjoint of the forward op: each output position adds its `dy` to the input pixel the
 * forward kernel copied it from (the same source map as the wasm kernel, `nearestSources`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { nearestSources } from '../wasm/resize-nearest-neighbor.js';

/** The parts of tfjs-backend-cpu's `MathBackendCPU` used here. */
interface CpuBackend {
  data: { get(dataId: object): { values: tf.TypedArray } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
}

const CPU = 'cpu';
const KERNEL = 'ResizeNearestNeighborGrad';

/** Gradient of nearest-neighbour resizing with respect to `images` (NHWC), on the cpu backend. */
export const resizeNearestNeighborGradCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { images, dy } = inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const cpu = backend as unknown as CpuBackend;
  const [batch, inH, inW, depth] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const alignCorners = attrs?.alignCorners === true;
  const halfPixelCenters = attrs?.halfPixelCenters === true;
  const rows = nearestSources(inH, outH, alignCorners, halfPixelCenters);
  const cols = nearestSources(inW, outW, alignCorners, halfPixelCenters);
  const dyValues = cpu.data.get(dy.dataId).values;
  const dx = new Float32Array(batch * inH * inW * depth);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < outH; r++) {
      const rowBase = (b * inH + rows[r]!) * inW;
      for (let c = 0; c < outW; c++, o += depth) {
        const base = (rowBase + cols[c]!) * depth;
        for (let k = 0; k < depth; k++) dx[base + k]! += dyValues[o + k]!;
      }
    }
  }
  return cpu.makeTensorInfo(images.shape, 'float32', dx);
};

let stock: tf.KernelConfig | undefined;

/**
 * Puts {@link resizeNearestNeighborGradCpu} in place of the stock cpu kernel (idempotent).
 * Returns the kernels replaced.
 */
export function installCpuKernels(): { added: string[]; replaced: string[] } {
  const current = tf.getKernel(KERNEL, CPU);
  if (current?.kernelFunc !== resizeNearestNeighborGradCpu) {
    if (current != null) {
      stock = current;
      tf.unregisterKernel(KERNEL, CPU);
    }
    tf.registerKernel({ kernelName: KERNEL, backendName: CPU, kernelFunc: resizeNearestNeighborGradCpu });
  }
  return installedCpuKernels();
}

/** The cpu kernels genblocks has installed. */
export function installedCpuKernels(): { added: string[]; replaced: string[] } {
  return tf.getKernel(KERNEL, CPU)?.kernelFunc === resizeNearestNeighborGradCpu
    ? { added: [], replaced: [KERNEL] }
    : { added: [], replaced: [] };
}

/** Puts the stock cpu kernel back (tests). */
export function uninstallCpuKernels(): void {
  if (tf.getKernel(KERNEL, CPU)?.kernelFunc !== resizeNearestNeighborGradCpu) return;
  tf.unregisterKernel(KERNEL, CPU);
  if (stock != null) tf.registerKernel(stock);
}
