/**
 * `BatchMatMul` and `_FusedMatMul` for wasm that always reach XNNPACK.
 *
 * tfjs-backend-wasm 4.22 calls XNNPACK's fully-connected operator only for an untransposed,
 * batch-1 product; every other form (`transposeA`, `transposeB`, batch > 1, i.e. every dense
 * backward pass) takes a scalar C++ loop at about 2.5 GFLOP/s instead of about 33. These
 * wrappers make the transposes explicit (wasm `Transpose`, a memory-bound copy), pick the
 * cheaper of `C = op(A)·op(B)` and `Cᵀ = op(B)ᵀ·op(A)ᵀ` by counting the elements moved, and fold
 * or split batches so the original kernel always runs its fast path.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { Scope } from './scope.js';
import { attr, sizeOf, wasmKernel, type WasmKernelFunc } from './types.js';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

const ACTIVATION_KERNELS: Readonly<Record<string, string>> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** `activation(product + bias)` with separate wasm kernels; consumes `product`. */
function unfusedEpilogue(s: Scope, product: tf.TensorInfo, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
  let out = s.keep(product);
  const step = (name: string, stepInputs: tf.NamedTensorInfoMap, stepAttrs: tf.NamedAttrMap = {}): void => {
    const next = wasmKernel(name)({ inputs: stepInputs, backend: s.backendOf(), attrs: stepAttrs });
    s.backendOf().disposeData(out.dataId);
    out = next;
  };
  if (inputs.bias != null) step('Add', { a: out, b: inputs.bias });
  const activation = attr<string | undefined>(attrs, 'activation') ?? 'linear';
  const kernelName = ACTIVATION_KERNELS[activation];
  if (activation === 'prelu') step('Prelu', { x: out, alpha: inputs.preluActivationWeights! });
  else if (activation === 'leakyrelu') step('LeakyRelu', { x: out }, { alpha: attr<number | undefined>(attrs, 'leakyreluAlpha') ?? 0.2 });
  else if (kernelName != null) step(kernelName, { x: out });
  return out;
}

/**
 * Wraps the stock wasm `BatchMatMul` (`fused = false`) or `_FusedMatMul` (`fused = true`)
 * kernel `original` so that it only ever sees its XNNPACK path.
 */
export function makeBatchMatMul(original: WasmKernelFunc, fused: boolean): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const transposeA = attr<boolean>(attrs, 'transposeA');
    const transposeB = attr<boolean>(attrs, 'transposeB');
    let a = inputs.a!;
    let b = inputs.b!;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const rankA = a.shape.length;
    const rankB = b.shape.length;
    const M = transposeA ? a.shape[rankA - 1]! : a.shape[rankA - 2]!;
    const K = transposeA ? a.shape[rankA - 2]! : a.shape[rankA - 1]!;
    const N = transposeB ? b.shape[rankB - 2]! : b.shape[rankB - 1]!;
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N];
    const plain = { ...attrs, transposeA: false, transposeB: false };
    const s = new Scope(backend);
    try {
      // [rows, K]·[K, N] on the XNNPACK path (rank 3: the stock fused kernel reads shape[1], shape[2]).
      const product = (lhs: tf.TensorInfo, rows: number, rhs: tf.TensorInfo): tf.TensorInfo =>
        original({
          inputs: { ...inputs, a: s.run('Reshape', { x: lhs }, { shape: [1, rows, K] }), b: s.run('Reshape', { x: rhs }, { shape: [1, K, N] }) },
          backend,
          attrs: plain,
        });
      const withShape = (t: tf.TensorInfo): tf.TensorInfo => {
        // Reshape is free (shares the data id); the kernel's result is already laid out as outShape.
        t.shape = outShape;
        return t;
      };

      if (!fused && batchA === 1 && batchB === 1 && transposeB) {
        // Elements moved. Direct: transpose B, then XNNPACK re-packs B (a new tensor each call).
        // Swap: Cᵀ = op(B)ᵀ·op(A)ᵀ feeds B as the left operand in its stored [N,K] layout.
        const direct = (transposeA ? M * K : 0) + 2 * K * N;
        const swap = (transposeA ? 0 : M * K) + M * K + M * N;
        if (swap < direct) {
          const lhs = s.run('Reshape', { x: b }, { shape: [N, K] });
          const a2 = s.run('Reshape', { x: a }, { shape: transposeA ? [K, M] : [M, K] });
          const rhs = transposeA ? a2 : s.run('Transpose', { x: a2 }, { perm: [1, 0] });
          const ct = s.run('BatchMatMul', { a: lhs, b: rhs }, plain, original); // [N, M]
          return withShape(wasmKernel('Transpose')({ inputs: { x: ct }, backend, attrs: { perm: [1, 0] } }));
        }
      }
      if (transposeA) a = s.run('Transpose', { x: a }, { perm: swapLastTwo(rankA) });
      if (transposeB) b = s.run('Transpose', { x: b }, { perm: swapLastTwo(rankB) });
      if (batchA === 1 && batchB === 1) {
        return withShape(product(a, M, b));
      }
      const foldable = !fused || inputs.preluActivationWeights == null;
      if (batchB === 1 && foldable) {
        // [B,M,K]·[K,N]: the batch folds into the rows of one product.
        return withShape(product(a, batchA * M, b));
      }
      if (fused) {
        // The stock fused kernel's batched loop applies the bias wrongly (measured: relative
        // error 0.2 against cpu), so batched fused products are unfused: product, bias, activation.
        return unfusedEpilogue(s, wasmKernel('BatchMatMul')({ inputs: { a: inputs.a!, b: inputs.b! }, backend, attrs: { transposeA, transposeB } }), inputs, attrs);
      }
      if (batchA !== batchB) {
        // Broadcast batches of B: the stock kernel handles them (scalar loop, still correct).
        return original({ inputs: { ...inputs, a, b }, backend, attrs: plain });
      }
      // Equal batches: one XNNPACK product per batch entry, then concatenate.
      const a3 = s.run('Reshape', { x: a }, { shape: [batchA, M, K] });
      const b3 = s.run('Reshape', { x: b }, { shape: [batchB, K, N] });
      const parts: tf.TensorInfo[] = [];
      for (let i = 0; i < batchA; i++) {
        const ai = s.run('Slice', { x: a3 }, { begin: [i, 0, 0], size: [1, M, K] });
        const bi = s.run('Slice', { x: b3 }, { begin: [i, 0, 0], size: [1, K, N] });
        parts.push(s.run('BatchMatMul', { a: ai, b: bi }, plain, original));
      }
      const out = wasmKernel('Concat')({ inputs: parts as unknown as tf.NamedTensorInfoMap, backend, attrs: { axis: 0 } });
      return withShape(out);
    } finally {
      s.dispose();
    }
  };
}
