/**
 * `BatchMatMul` and `_FusedMatMul` for wasm that never take the stock scalar loop.
 *
 * tfjs-backend-wasm 4.22 calls XNNPACK's fully-connected operator only for an untransposed,
 * batch-1 product; every other form (`transposeA`, `transposeB`, batch > 1, i.e. every dense
 * backward pass) takes a scalar C++ loop at about 2.5 GFLOP/s instead of about 33. And XNNPACK
 * packs its right operand on every product with a new tensor, which in training (fresh weights
 * after each step, fresh activations and gradients) costs as much as the product.
 *
 * Batch-1 float32 products whose sizes fit its 4x8 tiles run genblocks' heap `gemm`
 * (`heap-kernels.ts`), which reads both operands in place, transposed or not. The others make
 * the transposes explicit (wasm `Transpose`, a memory-bound copy), pick the cheaper of
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

/** `rows` rows of `n` floats of `from` into rows of `padded` floats of `to`, zeros after each. */
function padColumns(from: Float32Array, to: Float32Array, rows: number, n: number, padded: number): void {
  for (let k = 0; k < rows; k++) {
    to.set(from.subarray(k * n, k * n + n), k * padded);
    to.fill(0, k * padded + n, (k + 1) * padded);
  }
}

/**
 * `op(A)·op(B)` (+ `bias` along columns) for batch-1 float32 operands with genblocks' heap
 * `gemm`, which reads both operands in place (no XNNPACK packing). Shapes off its 4x8 tiles
 * (`M % 4`, `N % 8`) run on zero-padded copies of `A` (rows) and `B` (columns) when the product
 * has at least {@link PAD_MIN_WORK} multiply-adds and the padding adds at most a quarter to them:
 * a GPT's output head (98 columns) and its gradient, which XNNPACK ran on one thread. Returns
 * `null` for other ones off the tiles, where the heap
 * kernels are unavailable, or when `b` has been the right operand often enough that XNNPACK's
 * packed copy of it is the faster path.
 *
 * `transposeB` with an untransposed `A` copies the smaller operand: `B` to `[K, N]` when
 * `N < M` (a transformer's input gradients `dy·Wᵀ`, with `M` its tokens), then `C = A·B` as
 * without `transposeB`; otherwise (an MLP GAN's `M = 64` rows) it runs as `Cᵀ = op(B)ᵀ·op(A)ᵀ`,
 * with `B` read in its stored `[N, K]` layout and the result written transposed; `op(A)ᵀ` must
 * then have contiguous rows, so an untransposed `A` is transposed first.
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
  if (bias != null && (transposeB || sizeOf(bias.shape) !== N || bias.shape[bias.shape.length - 1] !== N || bias.dtype !== 'float32'))
    return null;
  const fitsDirect = M % 4 === 0 && N % 8 === 0;
  const fitsSwapped = N % 4 === 0 && M % 8 === 0;
  // B [N, K] copied to [K, N] moves N·K elements where the Cᵀ form below copies A's M·K.
  const copiesB = transposeB && !transposeA && N < M && (fitsDirect || !fitsSwapped);
  if (!transposeB || copiesB) {
    // Off the 4x8 tiles (a GPT's vocabulary of 98 columns): zero-padded copies of A to a multiple
    // of 4 rows and of B to a multiple of 8 columns, and the padded result's rows copied out.
    const padM = Math.ceil(M / 4) * 4;
    const padN = Math.ceil(N / 8) * 8;
    const padded = !fitsDirect;
    // Small products, and thin ones whose padding would add over a quarter of the work (a
    // matrix-vector product, N = 1, would be computed 8 times over), stay on XNNPACK.
    if (padded && (M * N * K < PAD_MIN_WORK || 4 * padM * padN > 5 * M * N)) return null;
    let right = b;
    if (copiesB) {
      right = s.run('Transpose', { x: s.run('Reshape', { x: b }, { shape: [N, K] }) }, { perm: [1, 0] });
    } else {
      const uses = (rightOperandUses.get(b.dataId) ?? 0) + 1;
      if (uses > RIGHT_OPERAND_REUSE_LIMIT) return null;
      rightOperandUses.set(b.dataId, uses);
    }
    // A transposed ([K, M]) could be read in place (row stride 1, column stride M), but its
    // 4-row strips are M floats apart (4 KiB for M = 1024: one L1 set); the copy to [M, K] is
    // M·K elements against 2·M·K·N flops, and measured 0-25% faster at the dW shapes.
    const left = transposeA ? s.run('Transpose', { x: s.run('Reshape', { x: a }, { shape: [K, M] }) }, { perm: [1, 0] }) : a;
    const leftPadded = padM !== M ? s.alloc([padM * K]) : left;
    const rightPadded = padN !== N ? s.alloc([K * padN]) : right;
    const biasPadded = bias != null && padN !== N ? s.alloc([padN]) : bias;
    const panel = padM >= PANEL_MIN_ROWS ? heapPointer(backend, s.alloc([K * 8 * heapKernelThreads(backend)])) : 0;
    const out = s.alloc(outShape); // kept when returned: freed if the gemm throws
    const result = padded ? s.alloc([padM * padN]) : out;
    // Heap views only now: an allocation may grow the heap and detach earlier views.
    const view = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
    if (padM !== M) {
      const l = view(leftPadded);
      l.set(view(left));
      l.fill(0, M * K);
    }
    if (padN !== N) padColumns(view(right), view(rightPadded), K, N, padN);
    if (bias != null && padN !== N) padColumns(view(bias), view(biasPadded!), 1, N, padN);
    kernels.gemm(
      heapPointer(backend, leftPadded),
      heapPointer(backend, rightPadded),
      heapPointer(backend, result),
      biasPadded ? heapPointer(backend, biasPadded) : 0,
      padM,
      padN,
      K,
      K,
      1,
      padN,
      padN,
      1,
      panel,
    );
    if (padded) {
      const r = view(result);
      const o = view(out);
      for (let i = 0; i < M; i++) o.set(r.subarray(i * padN, i * padN + N), i * N);
    }
    return s.keep(out);
  }
  // Cᵀ[N, M] = B[N, K]·op(A)ᵀ[K, M]: tiles of 4 rows of B by 8 columns of op(A)ᵀ.
  if (N % 4 !== 0 || M % 8 !== 0) return null;
  const right = transposeA ? a : s.run('Transpose', { x: s.run('Reshape', { x: a }, { shape: [M, K] }) }, { perm: [1, 0] });
  const panel = N >= PANEL_MIN_ROWS ? heapPointer(backend, s.alloc([K * 8 * heapKernelThreads(backend)])) : 0;
  const out = s.alloc(outShape); // kept when returned: freed if the gemm throws
  kernels.gemm(heapPointer(backend, b), heapPointer(backend, right), heapPointer(backend, out), 0, N, M, K, K, 1, M, 1, N, panel);
  return s.keep(out);
}

/**
 * Equal-batch products `op(A)[i]·op(B)[i]` (attention's `q·kᵀ`, `att·v` and their gradients)
 * with one heap `gemm` per batch entry, reading `A` in place, transposed or not, and `B` in
 * place unless transposed (then one batched transpose of `B` first, `gemm` needing rows of B).
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
  const right = transposeB ? s.run('Transpose', { x: b }, { perm: swapLastTwo(b.shape.length) }) : b; // [batch, K, N]
  // One panel per thread (the batch entries are shared out among the heap kernels' threads).
  const panel = M >= PANEL_MIN_ROWS ? heapPointer(backend, s.alloc([K * 8 * heapKernelThreads(backend)])) : 0;
  const out = s.alloc(outShape); // kept when returned: freed if the gemm throws
  // Byte offsets stay valid across heap growth (only typed-array views are detached).
  gemmBatchEdges(
    kernels,
    batch,
    4 * M * K,
    4 * K * N,
    4 * M * N,
    heapPointer(backend, a),
    heapPointer(backend, right),
    heapPointer(backend, out),
    0,
    M,
    N,
    K,
    transposeA ? 1 : K,
    transposeA ? M : 1,
    N,
    N,
    1,
    panel,
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
