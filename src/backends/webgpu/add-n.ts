/**
 * `AddN` on tfjs-backend-webgpu for any number of inputs.
 *
 * tfjs-backend-webgpu 4.22 runs `AddN` as one shader binding every input as a storage buffer.
 * Past the device's `maxStorageBuffersPerShaderStage` (8 by default: 7 inputs and the output)
 * the pipeline is invalid, WebGPU reports the error only to an uncaptured-error handler, and the
 * result holds whatever its buffer held before: `tf.addN` of 8 or more tensors silently returns
 * garbage (a trainer's logs, a global gradient norm). This wrapper adds the inputs in chunks the
 * shader can bind, then adds the partial sums, with the stock kernel.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

const WEBGPU = 'webgpu';
const KERNEL = 'AddN';

/** The parts of tfjs-backend-webgpu's `WebGPUBackend` used here. */
interface WebGpuBackend {
  device?: { limits?: { maxStorageBuffersPerShaderStage?: number } };
  disposeData(dataId: object, force?: boolean): boolean;
}

let stock: tf.KernelConfig | undefined;
let installed: tf.KernelConfig | undefined;

/** The wrapper; `stockFunc` is the package's own kernel. */
function chunkedAddN(stockFunc: tf.KernelFunc): tf.KernelFunc {
  const addN: tf.KernelFunc = (args) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const backend = args.backend as unknown as WebGpuBackend;
    const limit = Math.max(2, (backend.device?.limits?.maxStorageBuffersPerShaderStage ?? 8) - 1);
    if (inputs.length <= limit) return stockFunc(args);
    const partials: tf.TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += limit) {
      const chunk = inputs.slice(i, i + limit);
      partials.push(
        chunk.length === 1 ? chunk[0]! : (stockFunc({ ...args, inputs: chunk as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo),
      );
    }
    const result = addN({ ...args, inputs: partials as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
    for (const p of partials) if (!inputs.includes(p)) backend.disposeData(p.dataId);
    return result;
  };
  return addN;
}

/**
 * Installs the chunked `AddN` on webgpu (idempotent; nothing when the webgpu backend package
 * is not loaded). Returns the kernels replaced.
 */
export function installWebGpuKernels(): { added: string[]; replaced: string[] } {
  const current = tf.getKernel(KERNEL, WEBGPU);
  if (current == null) return { added: [], replaced: [] };
  if (current !== installed) {
    stock = current;
    tf.unregisterKernel(KERNEL, WEBGPU);
    installed = { kernelName: KERNEL, backendName: WEBGPU, kernelFunc: chunkedAddN(stock.kernelFunc) };
    tf.registerKernel(installed);
  }
  return installedWebGpuKernels();
}

/** The webgpu kernels genblocks has installed. */
export function installedWebGpuKernels(): { added: string[]; replaced: string[] } {
  const current = tf.getKernel(KERNEL, WEBGPU);
  return current != null && current.kernelFunc === installed?.kernelFunc ? { added: [], replaced: [KERNEL] } : { added: [], replaced: [] };
}
