/**
 * Parity of the heap `gemm` path of genblocks' wasm BatchMatMul/_FusedMatMul (no XNNPACK
 * packing) against the cpu backend: shapes that fit its 4x8 tiles (and the transposed-B form
 * with the result written transposed), with and without panel copies, fused bias and
 * activations, gradients, and the hand-over to XNNPACK for a right operand reused many times.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { RIGHT_OPERAND_REUSE_LIMIT } from '../../../src/backends/wasm/batch-mat-mul.js';
import { heapKernels, setHeapKernelsEnabled } from '../../../src/backends/wasm/heap-kernels.js';
import type { WasmBackend } from '../../../src/backends/wasm/types.js';
import { useTestBackend } from '../../helpers/backends.js';
import { expectParity, randomArray, relativeError, rng, runOn } from '../parity.js';

beforeAll(async () => {
  await useTestBackend('wasm');
});

afterEach(() => {
  setHeapKernelsEnabled(true);
});

const COMBOS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe('wasm heap gemm', () => {
  it('is available on the single-threaded wasm build', async () => {
    await tf.setBackend('wasm');
    expect(heapKernels(tf.backend() as unknown as WasmBackend)).not.toBeNull();
  });

  it.each(COMBOS)('random tile-sized products, transposeA=%s transposeB=%s, forward and backward', async (ta, tb) => {
    const r = rng(300 + (ta ? 2 : 0) + (tb ? 1 : 0));
    for (let trial = 0; trial < 6; trial++) {
      // M, N multiples of 8 fit both the direct (M%4, N%8) and the transposed-B form (N%4, M%8);
      // M = 4 (no panel copy) and M >= 8 (panel copy) both occur. K is any size.
      const M = trial === 0 ? 8 : 8 * (1 + Math.floor((r() + 1) * 5));
      const N = 8 * (1 + Math.floor((r() + 1) * 5));
      const K = 1 + Math.floor((r() + 1) * 40);
      const a = randomArray(r, M * K);
      const b = randomArray(r, K * N);
      const w = randomArray(r, M * N);
      await expectParity(`heap matMul ${M}x${K}x${N} tA=${ta} tB=${tb}`, () => {
        const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
        const B = tf.tensor2d(b, tb ? [N, K] : [K, N]);
        const W = tf.tensor2d(w, [M, N]);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), W));
        const [dA, dB] = tf.grads(f)([A, B]);
        return [tf.matMul(A, B, ta, tb), dA!, dB!];
      });
    }
  });

  it('4-row products (no panel copy) match', async () => {
    const r = rng(310);
    const a = randomArray(r, 4 * 19);
    const b = randomArray(r, 19 * 24);
    await expectParity('heap matMul 4x19x24', () => tf.matMul(tf.tensor2d(a, [4, 19]), tf.tensor2d(b, [19, 24])));
  });

  it.each(['linear', 'relu', 'leakyrelu', 'sigmoid', 'elu'] as const)('fused matMul with bias and %s activation', async (activation) => {
    const r = rng(320);
    for (const ta of [false, true]) {
      const [M, K, N] = [16, 37, 24];
      const a = randomArray(r, M * K);
      const b = randomArray(r, K * N);
      const bias = randomArray(r, N);
      await expectParity(`heap fused ${activation} tA=${ta}`, () => {
        const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
        const B = tf.tensor2d(b, [K, N]);
        const C = tf.tensor1d(bias);
        const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
          tf.sum(
            tf.square(
              tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, transposeA: ta, activation, leakyreluAlpha: 0.2 }),
            ),
          );
        return [tf.fused.matMul({ a: A, b: B, bias: C, transposeA: ta, activation, leakyreluAlpha: 0.2 }), ...tf.grads(f)([A, B, C])];
      });
    }
  });

  it('the MLP-GAN layer shapes match (64x784·784x1024, its dW and dX)', async () => {
    const r = rng(330);
    const x = randomArray(r, 64 * 784);
    const w = randomArray(r, 784 * 1024);
    const dy = randomArray(r, 64 * 1024);
    await expectParity('MLP layer', () => {
      const X = tf.tensor2d(x, [64, 784]);
      const W = tf.tensor2d(w, [784, 1024]);
      const DY = tf.tensor2d(dy, [64, 1024]);
      return [tf.matMul(X, W), tf.matMul(X, DY, true, false), tf.matMul(DY, W, false, true)];
    });
  });

  // Off the 4x8 tiles: 98 columns (a GPT head's vocabulary) are padded to 104, 66 rows to 68;
  // [66, 40, 98] both, [128, 37, 98] only N, [98, 64, 66] both (each at least 2^16 multiply-adds).
  it.each(COMBOS)(
    'products off the 4x8 tiles run on zero-padded copies, transposeA=%s transposeB=%s, forward and backward',
    async (ta, tb) => {
      const r = rng(360 + (ta ? 2 : 0) + (tb ? 1 : 0));
      for (const [M, K, N] of [
        [66, 40, 98],
        [128, 37, 98],
        [98, 64, 66],
      ] as const) {
        const a = randomArray(r, M * K);
        const b = randomArray(r, K * N);
        const w = randomArray(r, M * N);
        await expectParity(`padded heap matMul ${M}x${K}x${N} tA=${ta} tB=${tb}`, () => {
          const A = tf.tensor2d(a, ta ? [K, M] : [M, K]);
          const B = tf.tensor2d(b, tb ? [N, K] : [K, N]);
          const W = tf.tensor2d(w, [M, N]);
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), W));
          const [dA, dB] = tf.grads(f)([A, B]);
          return [tf.matMul(A, B, ta, tb), dA!, dB!];
        });
      }
    },
  );

  it('a padded product takes the heap gemm with padded sizes, fused bias included, and equals the float64 product', async () => {
    const [M, K, N] = [66, 40, 98];
    const r = rng(370);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    const bias = randomArray(r, N);
    await tf.setBackend('wasm');
    const kernels = heapKernels(tf.backend() as unknown as WasmBackend)!;
    const spy = vi.spyOn(kernels, 'gemm');
    const [C] = await runOn('wasm', () =>
      tf.fused.matMul({ a: tf.tensor2d(a, [M, K]), b: tf.tensor2d(b, [K, N]), bias: tf.tensor1d(bias) }),
    );
    // One gemm on 68 x 104 (M up to a multiple of 4, N of 8), K unchanged.
    expect(spy.mock.calls.map((c) => [c[4], c[5], c[6]])).toEqual([[68, 104, 40]]);
    spy.mockRestore();
    // Oracle: Σ_k a[i,k]·b[k,j] + bias[j] in float64.
    let worst = 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = bias[j]!;
        for (let k = 0; k < K; k++) sum += a[i * K + k]! * b[k * N + j]!;
        worst = Math.max(worst, Math.abs(C![i * N + j]! - sum));
      }
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('a matrix-vector product (N = 1: padding would multiply the work by 8) stays off the heap gemm', async () => {
    const [M, K] = [64, 1568];
    const r = rng(380);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K);
    await tf.setBackend('wasm');
    const spy = vi.spyOn(heapKernels(tf.backend() as unknown as WasmBackend)!, 'gemm');
    const [y] = await runOn('wasm', () => tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, 1])));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    // Oracle: the float64 dot product of each row with b.
    const expected = Float32Array.from({ length: M }, (_, i) => a.subarray(i * K, (i + 1) * K).reduce((sum, v, k) => sum + v * b[k]!, 0));
    expect(relativeError(y!, expected)).toBeLessThan(1e-5);
  });

  it('a right operand reused past the limit goes to XNNPACK and stays correct', async () => {
    const r = rng(340);
    const a = randomArray(r, 16 * 32);
    const b = randomArray(r, 32 * 24);
    const [expected] = await runOn('cpu', () => tf.matMul(tf.tensor2d(a, [16, 32]), tf.tensor2d(b, [32, 24])));
    await tf.setBackend('wasm');
    const A = tf.tensor2d(a, [16, 32]);
    const B = tf.tensor2d(b, [32, 24]);
    for (let i = 0; i < RIGHT_OPERAND_REUSE_LIMIT + 3; i++) {
      const C = tf.matMul(A, B);
      expect(relativeError(C.dataSync() as Float32Array, expected!), `use ${i + 1}`).toBeLessThanOrEqual(1e-5);
      C.dispose();
    }
    tf.dispose([A, B]);
  });

  it('with the heap kernels off, the XNNPACK paths give the same products', async () => {
    const r = rng(350);
    const a = randomArray(r, 24 * 40);
    const b = randomArray(r, 40 * 32);
    setHeapKernelsEnabled(false);
    await expectParity('xnnpack path', () => {
      const A = tf.tensor2d(a, [24, 40]);
      const B = tf.tensor2d(b, [40, 32]);
      return [tf.matMul(A, B), tf.matMul(A, tf.transpose(B), false, true), tf.matMul(tf.transpose(A), B, true, false)];
    });
  });
});

/**
 * The kernel itself on the wasm heap, for every operand layout it reads: A row-major, transposed
 * (read in place) or packed by `packA` from either (M = 36: two groups of 16 adjacent rows, then 4); B row-major (in place or through the panel) or transposed
 * (transposed into the panel); C row-major or written transposed; with and without bias. The
 * oracle is the float32 sum the kernel promises, written out: from the bias (or 0), for k = 0..K−1
 * in order, `acc = fround(acc + fround(A(i, k)·B(k, j)))`, so every output must match it bit for
 * bit (the summation order, not just the value, is the contract: results do not depend on the
 * layout, the bands or the thread count).
 */
describe('wasm heap gemm kernel: operand layouts, bit for bit against a float32 oracle', () => {
  /** Float32 values placed on the wasm heap (as a tensor) and their byte offset. */
  const onHeap = (values: Float32Array): { t: tf.Tensor; at: () => number } => {
    const t = tf.tensor1d(values);
    const backend = tf.backend() as unknown as WasmBackend;
    return { t, at: () => backend.typedArrayFromHeap(t as unknown as Parameters<WasmBackend['typedArrayFromHeap']>[0]).byteOffset };
  };
  const read = (t: tf.Tensor): Float32Array =>
    (tf.backend() as unknown as WasmBackend).typedArrayFromHeap(
      t as unknown as Parameters<WasmBackend['typedArrayFromHeap']>[0],
    ) as Float32Array;

  /** The oracle: C(i, j) = bias[j] (or 0) + Σ_k A(i, k)·B(k, j), each step rounded to float32, k in order. */
  function oracle(
    A: (i: number, k: number) => number,
    B: (k: number, j: number) => number,
    bias: Float32Array | null,
    M: number,
    N: number,
    K: number,
  ) {
    const out = new Float32Array(M * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = bias ? bias[j]! : 0;
        for (let k = 0; k < K; k++) acc = Math.fround(acc + Math.fround(A(i, k) * B(k, j)));
        out[i * N + j] = acc;
      }
    }
    return out;
  }

  const LAYOUTS_A = ['rows', 'transposed', 'packed', 'packed from transposed'] as const;
  const LAYOUTS_B = ['rows', 'rows+panel', 'transposed'] as const;
  // K: 1, 3 and 5 (not multiples of 4), 16, 37; M: 4 (one row block), 12, 36; N: 8, 24.
  const SIZES = [
    [4, 1, 8],
    [12, 3, 16],
    [36, 5, 24],
    [8, 16, 8],
    [12, 37, 24],
  ] as const;

  it.each(LAYOUTS_A.flatMap((la) => LAYOUTS_B.map((lb) => [la, lb] as const)))('A %s, B %s', async (la, lb) => {
    await tf.setBackend('wasm');
    const kernels = heapKernels(tf.backend() as unknown as WasmBackend)!;
    const r = rng(400 + LAYOUTS_A.indexOf(la) * 3 + LAYOUTS_B.indexOf(lb));
    for (const [M, K, N] of SIZES) {
      for (const [withBias, transposedC] of [
        [false, false],
        [true, false],
        [false, true],
      ] as const) {
        const a = randomArray(r, M * K);
        const b = randomArray(r, K * N);
        const bias = withBias ? randomArray(r, N) : null;
        // Stored layouts: A [M, K] or [K, M]; B [K, N] or [N, K].
        const stored = la === 'transposed' || la === 'packed from transposed' ? 'transposed' : 'rows';
        const A = (i: number, k: number) => (stored === 'transposed' ? a[k * M + i]! : a[i * K + k]!);
        const B = (k: number, j: number) => (lb === 'transposed' ? b[j * K + k]! : b[k * N + j]!);
        const expected = oracle(A, B, bias, M, N, K);
        const tensors = tf.tidy(() => {
          const ha = onHeap(a);
          const hb = onHeap(b);
          const hbias = bias ? onHeap(bias) : null;
          const packed = onHeap(new Float32Array(M * K).fill(Number.NaN));
          const panel = onHeap(new Float32Array(K * 8));
          const out = onHeap(new Float32Array(M * N).fill(Number.NaN));
          const [sai, sak] = stored === 'transposed' ? [1, M] : [K, 1];
          let [pa, sab, sai2, sak2] = [ha.at(), 4 * sai, sai, sak];
          if (la.startsWith('packed')) {
            kernels.packA(ha.at(), sai, sak, M, K, packed.at());
            [pa, sab, sai2, sak2] = [packed.at(), 4 * K, 1, 4];
          }
          const [sbk, sbj] = lb === 'transposed' ? [1, K] : [N, 1];
          const [sci, scj] = transposedC ? [1, M] : [N, 1];
          kernels.gemm(
            ...[pa, hb.at(), out.at(), hbias ? hbias.at() : 0, M, N, K, sab, sai2, sak2, sbk, sbj, sci, scj],
            lb === 'rows' ? 0 : panel.at(),
          );
          return [out.t, ...[ha, hb, hbias, packed, panel].flatMap((h) => (h ? [h.t] : []))];
        });
        const got = read(tensors[0]!);
        const c = transposedC ? Float32Array.from({ length: M * N }, (_, x) => got[(x % N) * M + Math.floor(x / N)]!) : got.slice();
        tf.dispose(tensors);
        expect(Buffer.from(c.buffer).equals(Buffer.from(expected.buffer)), `${M}x${K}x${N} bias=${withBias} Cᵀ=${transposedC}`).toBe(true);
      }
    }
  });

  it('packA writes blocks of 4 rows, k-major, with zero rows up to a multiple of 4', async () => {
    await tf.setBackend('wasm');
    const kernels = heapKernels(tf.backend() as unknown as WasmBackend)!;
    // A [6, 3] row-major, A(i, k) = 10·i + k: blocks [rows 0-3], [rows 4, 5, zero, zero].
    const [M, K] = [6, 3];
    const a = Float32Array.from({ length: M * K }, (_, x) => 10 * Math.floor(x / K) + (x % K));
    const tensors = tf.tidy(() => {
      const ha = onHeap(a);
      const out = onHeap(new Float32Array(8 * K).fill(Number.NaN));
      kernels.packA(ha.at(), K, 1, M, K, out.at());
      return [out.t, ha.t];
    });
    // Hand-written: out[b·4K + 4k + l] = A(4b + l, k), rows 6 and 7 zero.
    const expected = [0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32, 40, 50, 0, 0, 41, 51, 0, 0, 42, 52, 0, 0];
    expect(Array.from(read(tensors[0]!))).toEqual(expected);
    tf.dispose(tensors);
  });

  it('a product taller than one band of A (K = 1000: bands of 128 rows) stays bit for bit the float32 sum', async () => {
    await tf.setBackend('wasm');
    const kernels = heapKernels(tf.backend() as unknown as WasmBackend)!;
    // 131072 / 1000 rounded down to a multiple of 4: bands of 128 rows; M = 136 is two (128 + 8).
    const [M, K, N] = [136, 1000, 16];
    const r = rng(450);
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    const expected = oracle(
      (i, k) => a[i * K + k]!,
      (k, j) => b[k * N + j]!,
      null,
      M,
      N,
      K,
    );
    const tensors = tf.tidy(() => {
      const [ha, hb] = [onHeap(a), onHeap(b)];
      const packed = onHeap(new Float32Array(M * K));
      const panel = onHeap(new Float32Array(K * 8));
      const out = onHeap(new Float32Array(M * N));
      kernels.packA(ha.at(), K, 1, M, K, packed.at());
      kernels.gemm(packed.at(), hb.at(), out.at(), 0, M, N, K, 4 * K, 1, 4, N, 1, N, 1, panel.at());
      return [out.t, ha.t, hb.t, packed.t, panel.t];
    });
    expect(Buffer.from(read(tensors[0]!).slice().buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    tf.dispose(tensors);
  });

  it('BatchMatMul with transposed operands runs no Transpose kernel (the gemm reads them in place)', async () => {
    await tf.setBackend('wasm');
    const r = rng(460);
    const [M, K, N] = [24, 20, 16];
    const a = randomArray(r, M * K);
    const b = randomArray(r, K * N);
    const kernels = heapKernels(tf.backend() as unknown as WasmBackend)!;
    const transposes = vi.spyOn(kernels, 'transpose');
    const gemms = vi.spyOn(kernels, 'gemm');
    const batched = vi.spyOn(kernels, 'gemmBatch');
    const outs = await runOn('wasm', () => [
      tf.matMul(tf.tensor2d(a, [K, M]), tf.tensor2d(b, [N, K]), true, true),
      tf.matMul(tf.tensor3d(a, [2, K / 2, M]), tf.tensor3d(b, [2, N, K / 2]), true, true),
    ]);
    expect(transposes).not.toHaveBeenCalled();
    expect(gemms).toHaveBeenCalled();
    expect(batched).toHaveBeenCalled();
    vi.restoreAllMocks();
    // Oracle (float64): C(i, j) = Σ_k a[k·M + i]·b[j·K + k], and per batch entry with K/2.
    const full = Float32Array.from({ length: M * N }, (_, x) => {
      const [i, j] = [Math.floor(x / N), x % N];
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[k * M + i]! * b[j * K + k]!;
      return sum;
    });
    expect(relativeError(outs[0]!, full)).toBeLessThan(1e-5);
    const h = K / 2;
    const perEntry = Float32Array.from({ length: 2 * M * N }, (_, x) => {
      const [e, i, j] = [Math.floor(x / (M * N)), Math.floor((x % (M * N)) / N), x % N];
      let sum = 0;
      for (let k = 0; k < h; k++) sum += a[e * h * M + k * M + i]! * b[e * N * h + j * h + k]!;
      return sum;
    });
    expect(relativeError(outs[1]!, perEntry)).toBeLessThan(1e-5);
  });
});
