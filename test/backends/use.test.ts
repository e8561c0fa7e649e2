/**
 * `backends.use`, `backends.enableTraining` and `backends.describeBackend`: what they install,
 * idempotence, that enableTraining never switches backends, and their errors.
 */
import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';

import { backends, BackendError } from '../../src/index.js';
import { installedWasmKernels, uninstallWasmKernels } from '../../src/backends/wasm/install.js';

const ADDED = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'GenblocksFusedAdam',
  'GenblocksFusedAdamMulti',
  'GenblocksGroupNorm',
  'GenblocksGroupNormGrad',
  'GenblocksGelu',
  'GenblocksGeluGrad',
  'GenblocksSiluGrad',
  'GenblocksLayerNorm',
  'GenblocksLayerNormGrad',
  'GenblocksClipByGlobalNorm',
  'GenblocksCausalAttention',
  'GenblocksCausalAttentionGrad',
];
const REPLACED = [
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2DBackpropInput',
  'Tile',
  'Slice',
  'GatherV2',
  'Sum',
  'Mean',
  'LeakyRelu',
  'Conv2D',
  'FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2D',
  'Identity',
  'Sqrt',
  'Greater',
  'Select',
  'Tanh',
  'Maximum',
  'Minimum',
  'Pow',
  'ResizeNearestNeighbor',
  'ResizeNearestNeighborGrad',
  'Erf',
  'Transpose',
  'Unpack',
  'ClipByValue',
  'SplitV',
  'Concat',
  'Cast',
];

/** The default thread count in Node: every logical core, up to 8 (use.ts' documented 'auto'). */
const THREADS = Math.min(8, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);

describe('backends.use', () => {
  it("use('wasm') activates wasm with SIMD, threads by default, and lists the kernels it added and replaced", async () => {
    const info = await backends.use('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info).toEqual({ name: 'wasm', simd: true, threads: THREADS, added: ADDED, replaced: REPLACED });
  });

  it("use('cpu') activates cpu and replaces only its wrong nearest-neighbour gradient; the wasm kernels stay", async () => {
    const info = await backends.use('cpu');
    expect(info).toEqual({ name: 'cpu', simd: false, threads: 1, added: [], replaced: ['ResizeNearestNeighborGrad'] });
    expect(installedWasmKernels().added).toEqual(ADDED);
  });

  it('is idempotent: calling it again leaves one genblocks kernel per name', async () => {
    await backends.use('wasm');
    const wrapped = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    const again = await backends.use('wasm');
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(wrapped);
    expect(again.replaced).toEqual(REPLACED);
  });

  it("'auto' picks a backend that starts (wasm here: tfjs-node is not installed)", async () => {
    const info = await backends.use('auto');
    expect(['tensorflow', 'wasm']).toContain(info.name);
  });

  it('rejects unknown names and says which package a missing backend needs', async () => {
    await expect(backends.use('metal' as never)).rejects.toThrow(
      /backends\.use: argument 'name' must be one of 'wasm', 'cpu'.*received 'metal'/,
    );
    const failure = backends.use('tensorflow');
    await expect(failure).rejects.toBeInstanceOf(BackendError);
    await expect(backends.use('tensorflow')).rejects.toThrow(
      /backend 'tensorflow' needs the package @tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu/,
    );
    await expect(backends.use('webgpu')).rejects.toThrow(/npm install @tensorflow\/tfjs-backend-webgpu/);
  });
});

describe('backends.enableTraining', () => {
  it('installs on wasm without changing the active backend, and is idempotent', async () => {
    await backends.use('cpu');
    uninstallWasmKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const first = backends.enableTraining('wasm');
    expect(tf.getBackend()).toBe('cpu');
    expect(first).toEqual({ backend: 'wasm', added: ADDED, replaced: REPLACED });
    const wrapped = tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc;
    expect(backends.enableTraining('wasm')).toEqual(first);
    expect(tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc).toBe(wrapped);
  });

  it('defaults to the active backend; cpu needs only the nearest-neighbour gradient', () => {
    expect(backends.enableTraining()).toEqual({ backend: 'cpu', added: [], replaced: ['ResizeNearestNeighborGrad'] });
  });

  it('uninstalling restores the stock kernels, and installing again works', async () => {
    const installed = tf.getKernel('BatchMatMul', 'wasm')!;
    uninstallWasmKernels();
    const restored = tf.getKernel('BatchMatMul', 'wasm')!;
    expect(restored.kernelFunc).not.toBe(installed.kernelFunc);
    expect(installedWasmKernels()).toEqual({ added: [], replaced: [] });
    await tf.setBackend('wasm');
    // The restored stock kernel still runs (its setupFunc bound the C++ function).
    const y = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 4])).dataSync());
    expect(Array.from(y)).toEqual(new Array(8).fill(3));
    expect(backends.enableTraining('wasm').replaced).toEqual(REPLACED);
  });

  it('validates its arguments', () => {
    expect(() => backends.enableTraining('' as string)).toThrow(/backends\.enableTraining: argument 'backendName' must be a backend name/);
    expect(() => backends.enableTraining('wasm', 3 as never)).toThrow(
      /backends\.enableTraining: argument 'options' must be an options object/,
    );
  });
});

describe('backends.describeBackend', () => {
  it('describes the active backend', async () => {
    await backends.use('wasm');
    expect(backends.describeBackend()).toMatchObject({ name: 'wasm', simd: true, threads: THREADS, added: ADDED });
  });
});
