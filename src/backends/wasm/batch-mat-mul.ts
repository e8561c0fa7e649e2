/**
 * `BatchMatMul` and `_FusedMatMul` for wasm that never take the stock scalar loop.
 *
 * tfjs-backend-wasm 4.22 calls XNNPACK's fully-connected operator only for an untransposed,
 * batch-1 product; every other form (`transposeA`, `transposeB`, batch > 1, i.e. every dense
 * backward pass) takes a scalar C++ loop at about 2.5 GFLOP/s instead of about 33. And XNNPACK
 * packs its right operand on every product with a new tensor, which in training (fresh weights
 * after each step, fresh activations and gradients) costs as much as the product.
 *
 * Batch-1 float32 products whose sizes fit its 4x8 tiles, and equal-batch ones, run genblocks'
 * heap `gemm` (`heap-kernels.ts`), which reads both operands where they lie, transposed or not
 * (no Transpose pass). The others make the transposes explicit (wasm `Transpose`, a
 * memory-bound copy), pick the cheaper of
 * `C = op(A)·op(B)` and `Cᵀ = op(B)ᵀ·op(A)ᵀ` by counting the elements moved, and fold or split
 * batches so the original kernel always runs its XNNPACK path.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { gemmBatchEdges } from './heap-gemm-edges.js';
import { heapKernels, heapKernelThreads, heapPointer, PANEL_MIN_ROWS, swapLastTwo } from './heap-kernels.js';
import { Scope } from './scope.js';
import { attr, sizeOf, wasmKernel, type WasmBackend, type WasmKernelFunc } from './types.js';

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
 * Uses of one right operand after which products with it go to XNNPACK, which then keeps that
 * operand packed for as long as the tensor lives. Measured at the MLP-GAN shapes (M = 64,
 * K, N in 512-1024, one thread), the heap `gemm` runs at 37-41 GFLOP/s and XNNPACK on an
 * already packed operand at 35-39, but packing a fresh operand costs XNNPACK about 6 ns per
 * element (4.5 ms for a 784x1024 weight matrix, more than the product). Training weights
 * change after every optimizer step and are used two or three times in between, so they never
 * reach the limit; a weight matrix used for many products (inference, a benchmark's fixed
 * operand) is packed once and stays on XNNPACK's established path.
 */
export const RIGHT_OPERAND_REUSE_LIMIT = 8;
const rightOperandUses = new WeakMap<object, number>();
/**
 * Least multiply-adds of a product off the gemm's 4x8 tiles for which padded copies are made;
 * smaller ones stay on XNNPACK (the copies would cost about as much as the product).
 */
const PAD_MIN_WORK = 1 << 16;

/**
 * The gemm's panel scratch, `K x 8` floats per thread, as a byte offset rounded up to 16 bytes
 * (tfjs-backend-wasm's allocations are 8-byte aligned: the panel's 16-byte loads would otherwise
 * straddle a cache line one time in four); every thread's panel, `32·K` bytes apart, is aligned.
 */
function panelScratch(s: Scope, backend: WasmBackend, K: number, threads: number): number {
  return Math.ceil(heapPointer(backend, s.alloc([K * 8 * threads + 4])) / 16) * 16;
}

/**
 * `rows` rows of `n` floats of `from` (element `(k, j)` at `k·sk + j·sj`) into rows of `padded`
 * floats of `to`, zeros after each.
 */
function padColumns(from: Float32Array, to: Float32Array, rows: number, n: number, padded: number, sk: number, sj: number): void {
  for (let k = 0; k < rows; k++) {
    if (sj === 1) to.set(from.subarray(k * sk, k * sk + n), k * padded);
    else for (let j = 0; j < n; j++) to[k * padded + j] = from[k * sk + j * sj]!;
    to.fill(0, k * padded + n, (k + 1) * padded);
  }
}

/**
 * `op(A)·op(B)` (+ `bias` along columns) for batch-1 float32 operands with genblocks' heap
 * `gemm`, which reads both operands where they lie, transposed or not (no XNNPACK packing, no
 * transposes): `A` is first packed into blocks of 4 rows (`packA`, one pass over `A`, so that
 * the gemm reads each row block through one pointer), `B` panel by panel inside the gemm.
 * Shapes off its 4x8 tiles (`M % 4`, `N % 8`) run as `Cᵀ = op(B)ᵀ·op(A)ᵀ` when that fits the
 * tiles (`N % 4`, `M % 8`; C written transposed, no bias), else on a packed `A` with zero rows
 * and a zero-padded copy of `B` (columns) when the product has at least {@link PAD_MIN_WORK}
 * multiply-adds and the padding adds at most a quarter to them: a GPT's output head (98
 * columns) and its gradient, which XNNPACK ran on one thread. Returns `null` for other ones off
 * the tiles, where the heap kernels are unavailable, or when `b` has been the right operand
 * often enough that XNNPACK's packed copy of it is the faster path.
 */
function heapProduct(
  s: Scope,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  dims: { M: number; K: number; N: number },
  bias: tf.TensorInfo | null,
  outShape: number[],
): tf.TensorInfo | null {
  const { M, K, N } = dims;
  if (M === 0 || N === 0 || K === 0) return null;
  const kernels = heapKernels(backend);
  if (kernels == null) return null;
  if (bias != null && (sizeOf(bias.shape) !== N || bias.shape[bias.shape.length - 1] !== N || bias.dtype !== 'float32')) return null;
  // Element strides of op(A) [M, K] and op(B) [K, N] where they lie.
  const [sai, sak] = transposeA ? [1, M] : [K, 1];
  const [sbk, sbj] = transposeB ? [1, K] : [N, 1];
  const fitsDirect = M % 4 === 0 && N % 8 === 0;
  const threads = heapKernelThreads(backend);
  if (!fitsDirect && N % 4 === 0 && M % 8 === 0 && bias == null) {
    // Cᵀ[N, M] = op(B)ᵀ·op(A)ᵀ: tiles of 4 rows of op(B)ᵀ (B(k, n) as row n) by 8 columns of
    // op(A)ᵀ (A(m, k) as column m), both read in place; C written transposed.
    const panel = panelScratch(s, backend, K, threads);
    const out = s.alloc(outShape); // kept when returned: freed if the gemm throws
    const [pb, pa, pc] = [b, a, out].map((t) => heapPointer(backend, t)) as [number, number, number];
    kernels.gemm(pb, pa, pc, 0, N, M, K, 4 * sbj, sbj, sbk, sak, sai, 1, N, panel);
    return s.keep(out);
  }
  // Off the 4x8 tiles (a GPT's vocabulary of 98 columns): A packed with zero rows up to a
  // multiple of 4, B copied with zero columns up to a multiple of 8, and the padded result's
  // rows copied out.
  const padM = Math.ceil(M / 4) * 4;
  const padN = Math.ceil(N / 8) * 8;
  const padded = !fitsDirect;
  // Small products, and thin ones whose padding would add over a quarter of the work (a
  // matrix-vector product, N = 1, would be computed 8 times over), stay on XNNPACK.
  if (padded && (M * N * K < PAD_MIN_WORK || 4 * padM * padN > 5 * M * N)) return null;
  if (!transposeB) {
    const uses = (rightOperandUses.get(b.dataId) ?? 0) + 1;
    if (uses > RIGHT_OPERAND_REUSE_LIMIT) return null;
    rightOperandUses.set(b.dataId, uses);
  }
  // Four rows (the M = 4 column sums of bias gradients) are read in place; more are packed.
  const packA = padM !== M || padM >= PANEL_MIN_ROWS;
  const left = packA ? s.alloc([padM * K]) : a;
  const right = padN !== N ? s.alloc([K * padN]) : b;
  const biasPadded = bias != null && padN !== N ? s.alloc([padN]) : bias;
  const panel = padM >= PANEL_MIN_ROWS || (sbj !== 1 && padN === N) ? panelScratch(s, backend, K, threads) : 0;
  const out = s.alloc(outShape); // kept when returned: freed if the gemm throws
  const result = padded ? s.alloc([padM * padN]) : out;
  // Heap views only now: an allocation may grow the heap and detach earlier views.
  const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  if (padN !== N) padColumns(view(b), view(right), K, N, padN, sbk, sbj);
  if (bias != null && padN !== N) padColumns(view(bias), view(biasPadded!), 1, N, padN, N, 1);
  if (packA) kernels.packA(heapPointer(backend, a), sai, sak, M, K, heapPointer(backend, left));
  const [sab2, sai2, sak2] = packA ? [4 * K, 1, 4] : [4 * sai, sai, sak];
  const [sbk2, sbj2] = padN !== N ? [padN, 1] : [sbk, sbj];
  kernels.gemm(
    ...[
      heapPointer(backend, left),
      heapPointer(backend, right),
      heapPointer(backend, result),
      biasPadded ? heapPointer(backend, biasPadded) : 0,
    ],
    ...[padM, padN, K, sab2, sai2, sak2, sbk2, sbj2, padN, 1, panel],
  );
  if (padded) {
    const r = view(result);
    const o = view(out);
    for (let i = 0; i < M; i++) o.set(r.subarray(i * padN, i * padN + N), i * N);
  }
  return s.keep(out);
}

/**
 * Equal-batch products `op(A)[i]·op(B)[i]` (attention's `q·kᵀ`, `att·v` and their gradients)
 * with one heap `gemm` per batch entry, reading `A` and `B` in place, transposed or not (a
 * transposed `B` is transposed panel by panel into the gemm's scratch: no Transpose pass).
 * The alternative, a Slice of each operand, an XNNPACK product that packs its right operand,
 * and a Concat per batch entry, costs more in copies than the small products themselves.
 * `null` when `M < 4`, `N < 8` or the heap kernels are unavailable.
 */
function batchedHeapProduct(
  s: Scope,
  backend: WasmBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  dims: { M: number; K: number; N: number },
  batch: number,
  outShape: number[],
): tf.TensorInfo | null {
  const { M, K, N } = dims;
  const kernels = heapKernels(backend);
  // Sizes off the 4x8 tiles (attention at 7x7: 49 positions) run as overlapping edge tiles.
  if (kernels == null || M < 4 || N < 8 || K === 0) return null;
  // One panel per thread (the batch entries are shared out among the heap kernels' threads);
  // a transposed B is transposed into it panel by panel.
  const panel = M >= PANEL_MIN_ROWS || transposeB ? panelScratch(s, backend, K, heapKernelThreads(backend)) : 0;
  const out = s.alloc(outShape); // kept when returned: freed if the gemm throws
  const [sai, sak] = transposeA ? [1, M] : [K, 1];
  const [sbk, sbj] = transposeB ? [1, K] : [N, 1];
  // Byte offsets stay valid across heap growth (only typed-array views are detached).
  gemmBatchEdges(
    kernels,
    ...[batch, 4 * M * K, 4 * K * N, 4 * M * N],
    ...[heapPointer(backend, a), heapPointer(backend, b), heapPointer(backend, out), 0],
    ...[M, N, K, 4 * sai, sai, sak, sbk, sbj, N, 1, panel],
  );
  return s.keep(out);
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
          inputs: {
            ...inputs,
            a: s.run('Reshape', { x: lhs }, { shape: [1, rows, K] }),
            b: s.run('Reshape', { x: rhs }, { shape: [1, K, N] }),
          },
          backend,
          attrs: plain,
        });
      const withShape = (t: tf.TensorInfo): tf.TensorInfo => {
        // Reshape is free (shares the data id); the kernel's result is already laid out as outShape.
        t.shape = outShape;
        return t;
      };

      if (batchA === 1 && batchB === 1 && (!fused || inputs.preluActivationWeights == null)) {
        const bias = fused ? (inputs.bias ?? null) : null;
        const out = heapProduct(s, backend, a, b, transposeA, transposeB, { M, K, N }, bias, outShape);
        if (out != null) {
          const activation = fused ? (attr<string | undefined>(attrs, 'activation') ?? 'linear') : 'linear';
          return activation === 'linear' ? out : unfusedEpilogue(s, out, {}, attrs);
        }
      }
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
      if (!fused && batchA === batchB && batchA > 1) {
        const out = batchedHeapProduct(s, backend, a, b, transposeA, transposeB, { M, K, N }, batchA, outShape);
        if (out != null) return out;
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
        return unfusedEpilogue(
          s,
          wasmKernel('BatchMatMul')({ inputs: { a: inputs.a!, b: inputs.b! }, backend, attrs: { transposeA, transposeB } }),
          inputs,
          attrs,
        );
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
