/**
 * A wasm kernel whose heap kernel throws (a worker thread failing: `HeapPool.run` raises a
 * BackendError) frees what it allocated: its output and its scratch tensors (the index table of
 * nearest-neighbour resizing, a product's panels, a channels-first transpose's input). Each heap kernel is stubbed to throw on the
 * kernels object the wasm kernels use, and the backend's live data ids are counted around the
 * failing call. Without the fixes each case left its output (1 data id) behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { CAUSAL_ATTENTION_GRAD_KERNEL, CAUSAL_ATTENTION_KERNEL } from '../../../src/backends/causal-attention-kernel.js';
import { CLIP_BY_GLOBAL_NORM_KERNEL } from '../../../src/backends/clip-by-global-norm-kernel.js';
import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from '../../../src/backends/fused-adam-kernel.js';
import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../../../src/backends/gelu-kernel.js';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../../../src/backends/group-norm-kernel.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../../../src/backends/layer-norm-kernel.js';
import { SILU_GRAD_KERNEL } from '../../../src/backends/silu-kernel.js';
import { heapKernels, type HeapKernels } from '../../../src/backends/wasm/heap-kernels.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { BackendError } from '../../../src/errors.js';
import { useTestBackend } from '../../helpers/backends.js';

const wasmBackend = () => tf.engine().findBackend('wasm') as unknown as WasmBackend;

beforeAll(async () => {
  await useTestBackend('wasm');
  await tf.setBackend('wasm');
});
afterEach(() => vi.restoreAllMocks());

/** `tf.fill(shape, 0.5)`, made before the counts. */
const filled = (shape: number[]) => tf.fill(shape, 0.5);

/** `[label, heap kernel stubbed to throw, inputs, the call]`: each call reaches that heap kernel. */
const CASES: [string, keyof HeapKernels, () => tf.Tensor[], (inputs: tf.Tensor[]) => unknown][] = [
  ['ResizeNearestNeighbor', 'gatherRuns', () => [filled([2, 3, 3, 4])], ([x]) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [6, 6])],
  [
    'ResizeNearestNeighborGrad',
    'scatterAddRuns',
    () => [filled([2, 3, 3, 4]), filled([2, 6, 6, 4])],
    ([images, dy]) => tf.engine().runKernel('ResizeNearestNeighborGrad', { images: images!, dy: dy! }, { alignCorners: false }),
  ],
  ['Concat', 'copyStrided', () => [filled([5, 3]), filled([5, 7])], (parts) => tf.concat(parts, 1)],
  ['Sum of columns', 'sumRows', () => [filled([6, 5, 8])], ([x]) => tf.sum(x!, [0, 1])],
  ['Sqrt (a unary heap kernel)', 'sqrt', () => [filled([40])], ([x]) => tf.sqrt(x!)],
  ['MatMul on the heap gemm', 'gemm', () => [filled([8, 16]), filled([16, 8])], ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)],
  ['batched MatMul on the tiles', 'gemmBatch', () => [filled([2, 8, 16]), filled([2, 16, 8])], ([a, b]) => tf.matMul(a!, b!)],
  // 49 positions (attention at 7×7): the overlapping edge tiles of heap-gemm-edges.ts.
  ['batched MatMul off the tiles', 'gemmBatch', () => [filled([2, 49, 16]), filled([2, 16, 49])], ([a, b]) => tf.matMul(a!, b!)],
  [
    'Conv2DBackpropFilter',
    'gemmBatch',
    () => [filled([2, 8, 8, 8]), filled([2, 8, 8, 8])],
    ([x, dy]) =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, {
        strides: [1, 1],
        pad: 'same',
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape: [3, 3, 8, 8],
      } as unknown as tf.NamedAttrMap),
  ],
  ['GELU', 'gelu', () => [filled([40])], ([x]) => tf.engine().runKernel(GELU_KERNEL, { x: x! })],
  [
    'GELU gradient',
    'geluGrad',
    () => [filled([40]), filled([40]), filled([40])],
    ([dy, x, t]) => tf.engine().runKernel(GELU_GRAD_KERNEL, { dy: dy!, x: x!, t: t! }),
  ],
  [
    'SiLU gradient',
    'siluGrad',
    () => [filled([40]), filled([40]), filled([40])],
    ([dy, x, s]) => tf.engine().runKernel(SILU_GRAD_KERNEL, { dy: dy!, x: x!, s: s! }),
  ],
  [
    'layer norm',
    'layerNorm',
    () => [filled([6, 8]), filled([8]), filled([8])],
    ([x, gamma, beta]) => tf.engine().runKernel(LAYER_NORM_KERNEL, { x: x!, gamma: gamma!, beta: beta! }, { epsilon: 1e-5 }),
  ],
  [
    'layer norm gradient',
    'layerNormGrad',
    () => [filled([6, 8]), filled([6, 8]), filled([6]), filled([8])],
    ([dy, xHat, r, gamma]) => tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy: dy!, xHat: xHat!, r: r!, gamma: gamma! }),
  ],
  [
    'group norm',
    'groupNorm',
    () => [filled([2, 3, 2, 4]), filled([8]), filled([8])],
    ([x, gamma, beta]) => tf.engine().runKernel(GROUP_NORM_KERNEL, { x: x!, gamma: gamma!, beta: beta! }, { epsilon: 1e-5 }),
  ],
  [
    'group norm gradient',
    'groupNormGrad',
    () => [filled([2, 3, 2, 4]), filled([2, 3, 2, 4]), filled([2, 1, 2, 1]), filled([8])],
    ([dy, xHat, r, gamma]) => tf.engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy: dy!, xHat: xHat!, r: r!, gamma: gamma! }),
  ],
  ['SplitV along the last axis', 'binary', () => [filled([5, 12])], ([x]) => tf.split(x!, [4, 8], 1)],
  [
    'clip by global norm',
    'scale',
    () => [filled([6]), filled([3, 4])],
    ([a, b]) => tf.engine().runKernel(CLIP_BY_GLOBAL_NORM_KERNEL, { '0': a!, '1': b! }, { maxNorm: 1 }),
  ],
  [
    'fused Adam',
    'adam',
    () => [filled([40]), filled([40]), filled([40]), filled([40]), filled([])],
    ([value, m, v, g, c]) =>
      tf
        .engine()
        .runKernel(
          FUSED_ADAM_KERNEL,
          { value: value!, firstMoment: m!, secondMoment: v!, gradient: g!, oneMinusAccBeta1: c!, oneMinusAccBeta2: c! },
          { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 1e-3 },
        ),
  ],
  [
    'fused Adam over two variables (six outputs)',
    'adamMany',
    () => [filled([40]), filled([40]), filled([40]), filled([40]), filled([7]), filled([7]), filled([7]), filled([7]), filled([])],
    ([w0, m0, v0, g0, w1, m1, v1, g1, c]) =>
      tf.engine().runKernel(
        FUSED_ADAM_MULTI_KERNEL,
        {
          ...{ value0: w0!, firstMoment0: m0!, secondMoment0: v0!, gradient0: g0! },
          ...{ value1: w1!, firstMoment1: m1!, secondMoment1: v1!, gradient1: g1! },
          ...{ oneMinusAccBeta1: c!, oneMinusAccBeta2: c! },
        },
        { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 1e-3, decay: [1, 0.99] },
      ),
  ],
  ['Maximum (the binary heap kernel)', 'binary', () => [filled([4, 6]), filled([6])], ([a, b]) => tf.maximum(a!, b!)],
  ['LeakyRelu', 'leakyRelu', () => [filled([40])], ([x]) => tf.leakyRelu(x!, 0.2)],
  ['Greater', 'greater', () => [filled([40]), filled([40])], ([a, b]) => tf.greater(a!, b!)],
  [
    'Select',
    'select',
    () => [tf.fill([40], 1, 'bool'), filled([40]), filled([40])],
    ([condition, t, e]) => tf.where(condition as tf.Tensor, t!, e!),
  ],
  [
    'causal attention (outputs and scratch)',
    'causalAttention',
    () => [filled([2, 8, 48])],
    ([qkv]) => tf.engine().runKernel(CAUSAL_ATTENTION_KERNEL, { qkv: qkv! }, { heads: 2 }),
  ],
  [
    'causal attention gradient (output and scratch)',
    'causalAttentionGrad',
    () => [filled([2, 8, 16]), filled([2, 8, 48]), filled([2, 8, 16]), filled([2, 2, 8, 8])],
    ([dy, qkv, out, probs]) =>
      tf.engine().runKernel(CAUSAL_ATTENTION_GRAD_KERNEL, { dy: dy!, qkv: qkv!, out: out!, probs: probs! }, { heads: 2 }),
  ],
  ['Transpose of a matrix', 'transpose', () => [filled([6, 10])], ([x]) => tf.transpose(x!)],
  // Attention's head split (runs of the last axis).
  ['Transpose keeping the last axis', 'copyRuns', () => [filled([2, 4, 3, 2, 8])], ([x]) => tf.transpose(x!, [2, 0, 3, 1, 4])],
];

describe('a wasm kernel whose heap kernel throws leaks nothing', () => {
  it.each(CASES)('%s (%s throws)', (_label, name, makeInputs, call) => {
    const backend = wasmBackend();
    const kernels = heapKernels(backend)!;
    expect(kernels).not.toBeNull();
    const inputs = makeInputs();
    // Burn-in: the call succeeds (and allocates whatever it caches once).
    tf.dispose(call(inputs) as tf.Tensor | tf.Tensor[]);
    const dataIds = backend.numDataIds();
    const tensors = tf.memory().numTensors;
    const stub = vi.spyOn(kernels, name).mockImplementation(() => {
      throw new BackendError('heapKernels', `heapKernels: worker thread 1 failed running ${name}: stubbed`);
    });
    expect(() => call(inputs)).toThrow(new RegExp(`failed running ${name}: stubbed`));
    // The stub was reached: the call took the heap path under test.
    expect(stub).toHaveBeenCalled();
    expect(backend.numDataIds()).toBe(dataIds);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose(inputs);
  });
});

it('Conv2DBackpropInput, channels first, frees its channels-last result when the last transpose throws', () => {
  const backend = wasmBackend();
  const kernels = heapKernels(backend)!;
  const dy = filled([1, 8, 4, 4]);
  const filter = filled([3, 3, 8, 8]);
  const call = () =>
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
      strides: [1, 1],
      pad: 'same',
      dataFormat: 'NCHW',
      dimRoundingMode: undefined,
      inputShape: [1, 8, 4, 4],
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const transpose = kernels.transpose.bind(kernels);
  // Count the heap transposes of one call, then fail only the last (NCHW → NHWC → NCHW: the
  // result's transpose back to channels first).
  const counter = vi.spyOn(kernels, 'transpose');
  tf.dispose(call());
  const calls = counter.mock.calls.length;
  expect(calls).toBeGreaterThanOrEqual(2);
  counter.mockRestore();
  const dataIds = backend.numDataIds();
  let seen = 0;
  const stub = vi.spyOn(kernels, 'transpose').mockImplementation((...args) => {
    if (++seen === calls) throw new BackendError('heapKernels', 'heapKernels: worker thread 1 failed running transpose: stubbed');
    transpose(...args);
  });
  expect(call).toThrow(/failed running transpose: stubbed/);
  expect(stub).toHaveBeenCalledTimes(calls);
  expect(backend.numDataIds()).toBe(dataIds);
  tf.dispose([dy, filter]);
});
