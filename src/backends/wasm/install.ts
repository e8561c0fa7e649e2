/**
 * Registering genblocks' wasm kernels through tfjs's public kernel registry, and removing them.
 *
 * Replaced kernels keep the stock `setupFunc` (it binds the C++ function the stock kernel calls,
 * and runs when the backend initializes), so installing before or after `tf.setBackend('wasm')`
 * works alike. Every registered function carries a marker with the stock configuration it
 * replaced, so installation is idempotent even when two copies of genblocks (ESM and CJS) share
 * one tfjs registry, and {@link uninstallWasmKernels} can restore the stock kernels.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { makeBatchMatMul } from './batch-mat-mul.js';
import { BINARY_OPS, makeBinary } from './binary.js';
import { makeClipByValue } from './clip-by-value.js';
import { makeCast } from './cast.js';
import { makeConcat } from './concat.js';
import { conv2DBackpropFilter } from './conv2d-backprop-filter.js';
import { makeConv2DBackpropInput } from './conv2d-backprop-input.js';
import { makeErf } from './erf.js';
import { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-backprop.js';
import { makeExplicitSamePadding } from './explicit-same-padding.js';
import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from '../fused-adam-kernel.js';
import { fusedAdam, fusedAdamMulti } from './fused-adam.js';
import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../gelu-kernel.js';
import { gelu, geluGrad } from './gelu.js';
import { SILU_GRAD_KERNEL } from '../silu-kernel.js';
import { siluGrad } from './silu.js';
import { CAUSAL_ATTENTION_GRAD_KERNEL, CAUSAL_ATTENTION_KERNEL } from '../causal-attention-kernel.js';
import { causalAttention, causalAttentionGrad } from './causal-attention.js';
import { CLIP_BY_GLOBAL_NORM_KERNEL } from '../clip-by-global-norm-kernel.js';
import { clipByGlobalNorm } from './clip-by-global-norm.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../layer-norm-kernel.js';
import { layerNorm, layerNormGrad } from './layer-norm.js';
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL } from '../group-norm-kernel.js';
import { groupNorm, groupNormGrad } from './group-norm.js';
import { makeGatherV2 } from './gather.js';
import { makeGreater } from './greater.js';
import { makeIdentity } from './identity.js';
import { makeLeakyRelu } from './leaky-relu.js';
import { makePow } from './pow.js';
import { makeResizeNearestNeighbor, makeResizeNearestNeighborGrad } from './resize-nearest-neighbor.js';
import { makeSelect } from './select.js';
import { makeSlice } from './slice.js';
import { splitV } from './split-v.js';
import { makeSqrt } from './sqrt.js';
import { makeMean, makeSum } from './sum.js';
import { makeTanh } from './tanh.js';
import { makeTranspose } from './transpose.js';
import { unpack } from './unpack.js';
import { installTileGradient, uninstallTileGradient } from '../tile-gradient.js';
import { tile } from './tile.js';
import { WASM, type WasmKernelFunc } from './types.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';

const MARK = Symbol.for('genblocks.wasmKernel');

interface Marked {
  [MARK]?: { original: tf.KernelConfig | null };
}

/** One kernel genblocks adds (`make` ignores `original`) or replaces (wraps the stock one). */
interface WasmPatch {
  kernelName: string;
  /** `'add'`: only when wasm has no such kernel; `'replace'`: wraps the stock kernel. */
  kind: 'add' | 'replace';
  make(original: WasmKernelFunc | null): WasmKernelFunc;
}

/** The kernels genblocks installs on wasm, in installation order. */
export const WASM_PATCHES: readonly WasmPatch[] = [
  { kernelName: 'BatchMatMul', kind: 'replace', make: (o) => makeBatchMatMul(o!, false) },
  { kernelName: '_FusedMatMul', kind: 'replace', make: (o) => makeBatchMatMul(o!, true) },
  { kernelName: 'Conv2DBackpropFilter', kind: 'add', make: () => conv2DBackpropFilter },
  { kernelName: 'Conv2DBackpropInput', kind: 'replace', make: (o) => makeConv2DBackpropInput(o!) },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kind: 'add', make: () => depthwiseConv2dNativeBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kind: 'add', make: () => depthwiseConv2dNativeBackpropInput },
  { kernelName: 'UnsortedSegmentSum', kind: 'add', make: () => unsortedSegmentSum },
  { kernelName: 'Tile', kind: 'replace', make: () => tile },
  { kernelName: 'Slice', kind: 'replace', make: (o) => makeSlice(o!) },
  { kernelName: 'GatherV2', kind: 'replace', make: (o) => makeGatherV2(o!) },
  { kernelName: 'Sum', kind: 'replace', make: (o) => makeSum(o!) },
  { kernelName: 'Mean', kind: 'replace', make: (o) => makeMean(o!) },
  { kernelName: 'LeakyRelu', kind: 'replace', make: (o) => makeLeakyRelu(o!) },
  { kernelName: 'Conv2D', kind: 'replace', make: (o) => makeExplicitSamePadding(o!, false) },
  { kernelName: 'FusedConv2D', kind: 'replace', make: (o) => makeExplicitSamePadding(o!, false) },
  { kernelName: 'DepthwiseConv2dNative', kind: 'replace', make: (o) => makeExplicitSamePadding(o!, true) },
  { kernelName: 'FusedDepthwiseConv2D', kind: 'replace', make: (o) => makeExplicitSamePadding(o!, true) },
  { kernelName: 'Identity', kind: 'replace', make: (o) => makeIdentity(o!) },
  { kernelName: 'Sqrt', kind: 'replace', make: (o) => makeSqrt(o!) },
  { kernelName: 'Greater', kind: 'replace', make: (o) => makeGreater(o!) },
  { kernelName: 'Select', kind: 'replace', make: (o) => makeSelect(o!) },
  { kernelName: 'Tanh', kind: 'replace', make: (o) => makeTanh(o!) },
  // Add, Sub, Multiply, RealDiv and SquaredDifference stay stock: XNNPACK broadcasts them at
  // 1.3-2x the speed of the generic heap kernel (measured interleaved); Maximum and Minimum
  // run a scalar index loop (15x slower for scalars, hundreds of times for columns).
  { kernelName: 'Maximum', kind: 'replace', make: (o) => makeBinary(o!, BINARY_OPS.Maximum) },
  { kernelName: 'Minimum', kind: 'replace', make: (o) => makeBinary(o!, BINARY_OPS.Minimum) },
  { kernelName: 'Pow', kind: 'replace', make: (o) => makePow(o!) },
  { kernelName: 'ResizeNearestNeighbor', kind: 'replace', make: (o) => makeResizeNearestNeighbor(o!) },
  { kernelName: 'ResizeNearestNeighborGrad', kind: 'replace', make: (o) => makeResizeNearestNeighborGrad(o!) },
  { kernelName: 'Erf', kind: 'replace', make: (o) => makeErf(o!) },
  { kernelName: 'Transpose', kind: 'replace', make: (o) => makeTranspose(o!) },
  { kernelName: 'Unpack', kind: 'replace', make: () => unpack as unknown as WasmKernelFunc },
  // A correctness fix, not a speed-up: the stock kernel reads int32 as float32 and maps NaN to the lower bound.
  { kernelName: 'ClipByValue', kind: 'replace', make: (o) => makeClipByValue(o!) },
  { kernelName: 'SplitV', kind: 'replace', make: () => splitV as unknown as WasmKernelFunc },
  { kernelName: 'Concat', kind: 'replace', make: (o) => makeConcat(o!) },
  { kernelName: 'Cast', kind: 'replace', make: (o) => makeCast(o!) },
  { kernelName: FUSED_ADAM_KERNEL, kind: 'add', make: () => fusedAdam as unknown as WasmKernelFunc },
  { kernelName: FUSED_ADAM_MULTI_KERNEL, kind: 'add', make: () => fusedAdamMulti as unknown as WasmKernelFunc },
  { kernelName: GROUP_NORM_KERNEL, kind: 'add', make: () => groupNorm as unknown as WasmKernelFunc },
  { kernelName: GROUP_NORM_GRAD_KERNEL, kind: 'add', make: () => groupNormGrad as unknown as WasmKernelFunc },
  { kernelName: GELU_KERNEL, kind: 'add', make: () => gelu as unknown as WasmKernelFunc },
  { kernelName: GELU_GRAD_KERNEL, kind: 'add', make: () => geluGrad },
  { kernelName: SILU_GRAD_KERNEL, kind: 'add', make: () => siluGrad },
  { kernelName: LAYER_NORM_KERNEL, kind: 'add', make: () => layerNorm as unknown as WasmKernelFunc },
  { kernelName: LAYER_NORM_GRAD_KERNEL, kind: 'add', make: () => layerNormGrad as unknown as WasmKernelFunc },
  { kernelName: CLIP_BY_GLOBAL_NORM_KERNEL, kind: 'add', make: () => clipByGlobalNorm as unknown as WasmKernelFunc },
  { kernelName: CAUSAL_ATTENTION_KERNEL, kind: 'add', make: () => causalAttention as unknown as WasmKernelFunc },
  { kernelName: CAUSAL_ATTENTION_GRAD_KERNEL, kind: 'add', make: () => causalAttentionGrad },
];

/** Names of the kernels genblocks added to and replaced on wasm. */
export interface KernelChanges {
  added: string[];
  replaced: string[];
}

function marker(config: tf.KernelConfig | undefined): { original: tf.KernelConfig | null } | undefined {
  return config == null ? undefined : (config.kernelFunc as unknown as Marked)[MARK];
}

/**
 * Registers the wasm kernels of {@link WASM_PATCHES} (or only those named in `only`) that are not
 * registered yet; already-installed ones are left alone. With `Tile` comes genblocks' `Tile`
 * gradient (one reduction instead of a slice per repetition; see `../tile-gradient.ts`), which
 * is global, as every tfjs gradient is. Returns every genblocks kernel now
 * active on wasm. A stock kernel that already exists is never overridden by an `'add'` patch
 * (a later tfjs may ship it).
 */
export function installWasmKernels(only?: readonly string[]): KernelChanges {
  // The Tile kernel and its gradient (one reduction, not a slice per repetition) go together.
  if (!only || only.includes('Tile')) installTileGradient();
  for (const patch of WASM_PATCHES) {
    if (only && !only.includes(patch.kernelName)) continue;
    const current = tf.getKernel(patch.kernelName, WASM);
    if (marker(current)) continue;
    if (patch.kind === 'add' && current != null) continue;
    if (patch.kind === 'replace' && current == null) continue;
    const original = current ?? null;
    const kernelFunc = patch.make(original ? (original.kernelFunc as unknown as WasmKernelFunc) : null) as unknown as tf.KernelFunc &
      Marked;
    kernelFunc[MARK] = { original };
    if (original) tf.unregisterKernel(patch.kernelName, WASM);
    const config: tf.KernelConfig = { kernelName: patch.kernelName, backendName: WASM, kernelFunc };
    if (original?.setupFunc) config.setupFunc = original.setupFunc;
    tf.registerKernel(config);
  }
  return installedWasmKernels();
}

/** The genblocks kernels currently registered on wasm. */
export function installedWasmKernels(): KernelChanges {
  const added: string[] = [];
  const replaced: string[] = [];
  for (const patch of WASM_PATCHES) {
    const m = marker(tf.getKernel(patch.kernelName, WASM));
    if (m) (m.original ? replaced : added).push(patch.kernelName);
  }
  return { added, replaced };
}

/**
 * Restores the stock wasm kernels (removing added ones). Used by benchmarks to time stock and
 * genblocks kernels interleaved in one process, and by tests.
 */
export function uninstallWasmKernels(only?: readonly string[]): void {
  if (!only || only.includes('Tile')) uninstallTileGradient();
  for (const patch of WASM_PATCHES) {
    if (only && !only.includes(patch.kernelName)) continue;
    const m = marker(tf.getKernel(patch.kernelName, WASM));
    if (!m) continue;
    tf.unregisterKernel(patch.kernelName, WASM);
    if (m.original) tf.registerKernel(m.original);
  }
}
