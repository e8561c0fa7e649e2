/**
 * `Conv2DBackpropFilter` for wasm (tfjs 4.22 has none, tfjs issue 8474), built on the XNNPACK
 * `Conv2D` kernel wasm already has.
 *
 * The filter gradient is a correlation in which the batch plays the role of channels:
 *
 *     dW[i,j,c,o] = Σ_{n,p,q} x[n, p·sh + i − top, q·sw + j − left, c] · dy[n, p, q, o]
 *
 * so with `xᵀ = x` transposed to `[C, H, W, N]` and `dyᵀ = dy` transposed to
 * `[OH, OW, N, Cout]` used as a filter, `Conv2D(xᵀ, dyᵀ, stride 1, dilation = (sh, sw))` has
 * shape `[C, kh, kw, Cout]`, which one more transpose turns into `dW`.
 *
 * Stride-1 convolutions whose shapes fit the heap gemm's tiles (the 3×3 and 1×1 layers of a
 * UNet) take {@link backpropFilterShifted} instead: the correlation above runs on XNNPACK at
 * about 0.4x the speed of the forward convolution (a huge "filter" packed per call, a 3×3 output),
 * which made the filter gradient the largest kernel of a UNet training step.
 *
 * XNNPACK re-packs that "filter" (as large as `dy`) on every call, which dominates when the
 * output has few rows (`C·kh·kw` small, e.g. the 1-channel first layer of an image
 * discriminator). There the kernel uses im2col instead, packing the smaller patch matrix:
 *
 *     dWᵀ[o, (i,j,c)] = Σ_{(n,p,q)} dyᵀ[o, (n,p,q)] · patches[(n,p,q), (i,j,c)]
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { convInfo, isChannelsFirst } from './conv-info.js';
import { heapKernels, heapKernelThreads, heapPointer } from './heap-kernels.js';
import { Scope } from './scope.js';
import { attr, wasmKernel, type WasmKernelFunc } from './types.js';

/** dW by im2col + one XNNPACK product (NHWC `x` and `dy`); see the module comment. */
function backpropFilterIm2col(s: Scope, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const backend = s.backendOf();
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: OH, outWidth: OW } = info;
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: Cout, batchSize: N } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rows = N * OH * OW;
  const cols = kh * kw * C;
  const dyT = s.run('Transpose', { x: s.run('Reshape', { x: dy }, { shape: [rows, Cout] }) }, { perm: [1, 0] }); // [Cout, rows]
  const patches = s.alloc([rows, cols]);
  // Heap views only after the last allocation: memory.grow detaches them.
  const pv = backend.typedArrayFromHeap(patches) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  let dst = 0;
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        for (let i = 0; i < kh; i++) {
          const h = p * sh + i - top;
          for (let j = 0; j < kw; j++, dst += C) {
            const w = q * sw + j - left;
            if (h < 0 || h >= H || w < 0 || w >= W) {
              pv.fill(0, dst, dst + C);
            } else {
              const src = ((n * H + h) * W + w) * C;
              for (let c = 0; c < C; c++) pv[dst + c] = xv[src + c]!;
            }
          }
        }
      }
    }
  }
  const product = s.run('BatchMatMul', { a: dyT, b: patches }, { transposeA: false, transposeB: false }); // [Cout, cols]
  const dW = wasmKernel('Transpose')({ inputs: { x: product }, backend, attrs: { perm: [1, 0] } });
  dW.shape = [kh, kw, C, Cout];
  return dW;
}

/** Positions summed by one gemm of {@link backpropFilterShifted}'s grid mode (its operands stay in cache). */
export const SHIFTED_BLOCK = 512;
/**
 * Most floats of partial products {@link backpropFilterShifted} keeps (32 MiB): beyond it the
 * blocks grow, so that a large layer (3×3×256 → 256 over many positions) does not hold
 * hundreds of filter-sized partial results. (A UNet's 14×14×128 → 64 layer at batch 64 keeps
 * 64 partials of 73 728 floats, 4.7M: measured 20% faster than grid mode's 32 blocks.)
 */
export const PARTIALS_BUDGET = 1 << 23;
let partialsBudget = PARTIALS_BUDGET;

/** Sets the floats of partial products {@link backpropFilterShifted} may keep (tests of its grid mode); returns the previous budget. */
export function setPartialsBudget(floats: number): number {
  const previous = partialsBudget;
  partialsBudget = floats;
  return previous;
}
/** Longest sum (positions) of one gemm in {@link backpropFilterShifted}'s example mode: longer examples are cut into bands of rows. */
export const EXAMPLE_BLOCK = 2048;

/**
 * Positions per block of {@link backpropFilterShifted}'s grid mode for `K` grid positions and
 * filters of `rowSize` floats: {@link SHIFTED_BLOCK}, or more where the partial results (one
 * per block) would exceed {@link PARTIALS_BUDGET} floats, keeping at least 8 blocks for the threads.
 */
export function shiftedBlock(K: number, rowSize: number): number {
  return Math.max(SHIFTED_BLOCK, Math.ceil(K / Math.max(8, Math.floor(partialsBudget / rowSize))));
}

/**
 * How {@link backpropFilterShifted} cuts its sum over positions: `'example'` (one gemm per
 * example and band of `rows` output rows, `bands` bands; the grid's `kh − 1` padding rows below
 * each example are skipped), or `'grid'` (blocks of {@link shiftedBlock} positions of the whole
 * padded grid, padding rows included) where one partial result per example and band would
 * exceed {@link PARTIALS_BUDGET} floats.
 */
export function shiftedPlan(
  N: number,
  OH: number,
  Wp: number,
  rowSize: number,
): { mode: 'example'; bands: number; rows: number } | { mode: 'grid' } {
  const bands = Math.ceil((OH * Wp) / EXAMPLE_BLOCK);
  if (N * bands * rowSize > partialsBudget) return { mode: 'grid' };
  return { mode: 'example', bands: Math.ceil(OH / Math.ceil(OH / bands)), rows: Math.ceil(OH / bands) };
}

/**
 * Copies `rows` runs of `run` floats from `src` (run `r` at `from(r)`) to `dst` (at `to(r)`,
 * increasing), zeroing everything of `dst` between and after them: the padded copies of
 * {@link backpropFilterShifted}, which write each element once.
 */
function copyRunsPadded(
  dst: Float32Array,
  src: Float32Array,
  rows: number,
  run: number,
  from: (r: number) => number,
  to: (r: number) => number,
): void {
  let cursor = 0;
  for (let r = 0; r < rows; r++) {
    const at = to(r);
    if (at > cursor) dst.fill(0, cursor, at);
    const source = from(r);
    dst.set(src.subarray(source, source + run), at);
    cursor = at + run;
  }
  if (dst.length > cursor) dst.fill(0, cursor);
}

/**
 * dW of a stride-1 convolution (NHWC `x` and `dy`) as products of shifted views, read in place
 * by the heap gemm (threaded). On a grid of `Hp = OH + kh − 1` by `Wp = OW + kw − 1` positions
 * per example, with `xp` the zero-padded input (`xp[n, P, Q] = x[n, P − top, Q − left]`, zero
 * outside `x`) and `dyp` the gradient at the top-left `OH × OW` positions (zero elsewhere), both
 * flattened over `m = (n·Hp + p)·Wp + q`:
 *
 *     dW[i, j, c, o] = Σ_m xp[m + i·Wp + j, c] · dyp[m, o]
 *
 * For one filter row `i`, the rows `(j, c)` of `A(r, m) = xp[(m + i·Wp)·C + r]`, `r = j·C + c`,
 * are one strided view (`sai = 1`, `sak = C`), so `dW[i]` (`[kw·C, Cout]`, contiguous in dW) is
 * one product `A · dyp`. Its long sum over `m` is cut into pieces, one gemm each (batches of
 * them shared among the threads), whose partial products are summed in a fixed order afterwards
 * (one more gemm: a row of ones times the partials), so the result does not depend on the thread
 * count. In example mode (see {@link shiftedPlan}) each piece is the `OH` rows of one example
 * (or a band of them), so only the `Wp − OW` padding columns cost multiply-adds: `Wp / OW`
 * (1.07x at 28×28 with a 3×3 filter, 1.29x at 7×7), and `dyp` keeps only those rows; in grid
 * mode (huge layers) the pieces are blocks of the whole grid: `Hp·Wp / (OH·OW)` (1.15x, 1.65x).
 * Measured against the XNNPACK correlation (grid mode, interleaved, busy 2-core machine, batch
 * 32-64, 3×3): 28×28×8 → 8 14x, 28×28×32 → 32 1.9x, 14×14×16 → 16 15x, 1×1 28×28×64 → 32 10x.
 * An image layer's few channels are padded with zeros to the gemm's tiles: 1-3 input channels to
 * 4, 1-7 output channels to 8 (a UNet's first and last convolutions, whose XNNPACK correlation or
 * im2col took 3x and 1.3x their forward convolution; measured at batch 64, 28×28, one thread:
 * 32 → 1 from 25.9 ms, 1 → 32 from 12.3 ms). `null` for other channel counts that do not fit the
 * gemm's 4×8 tiles (kw·C not a multiple of 4 from 4 channels on, Cout not a multiple of 8 from 8
 * on), or where the heap kernels are unavailable.
 */
function backpropFilterShifted(s: Scope, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | null {
  const backend = s.backendOf();
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: OH, outWidth: OW } = info;
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: Cout, batchSize: N } = info;
  const kernels = heapKernels(backend);
  if (kernels == null || sh !== 1 || sw !== 1 || N * OH * OW === 0) return null;
  // Channels as the gemm lays them out: an image layer's 1-3 input channels padded to 4 (so that
  // kw·Ci fills 4-row tiles), fewer than 8 output channels to 8 (zeros, whose products are dropped).
  const Ci = (kw * C) % 4 === 0 ? C : C < 4 ? 4 : 0;
  const Co = Cout % 8 === 0 ? Cout : Cout < 8 ? 8 : 0;
  if (Ci === 0 || Co === 0) return null;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const Hp = OH + kh - 1;
  const Wp = OW + kw - 1;
  const M = kw * Ci;
  const rowSize = kh * kw * Ci * Co; // one partial dW (padded channels included)
  const padded = Ci !== C || Co !== Cout;
  const plan = shiftedPlan(N, OH, Wp, rowSize);
  // Grid mode, where the padding adds much work and the channels are many: XNNPACK's correlation
  // is faster (measured interleaved, batch 64: 7×7×64 → 64 0.8x, 7×7×32 → 32 3.3x, 14×14×128 → 64 1.1x).
  if (plan.mode === 'grid' && Hp * Wp > 1.4 * OH * OW && C * Cout >= 4096) return null;
  // dyp's rows per example: only the OH rows with values in example mode.
  const R = plan.mode === 'example' ? OH : Hp;
  // The last position of the last piece reads up to (kh − 1)·Wp + kw − 1 positions past the grid.
  const tail = (kh - 1) * Wp + kw - 1;
  const direct = top === 0 && left === 0 && Hp === H && Wp === W; // 1×1, or 'valid' without remainder
  const xp = direct && tail === 0 && Ci === C ? x : s.alloc([(N * Hp * Wp + tail) * Ci]);
  const dyp = R === OH && Wp === OW && Co === Cout ? dy : s.alloc([N * R * Wp * Co]);
  // Pieces: [count, positions, a offset, b offset, c offset] of one gemmBatch each (offsets in
  // positions, and in partials for c), for filter row 0; parts: partial results.
  const pieces: [number, number, number, number, number][] = [];
  let parts: number;
  let block = 0;
  if (plan.mode === 'example') {
    const { bands, rows } = plan;
    for (let t = 0; t < bands; t++) {
      const p0 = t * rows;
      pieces.push([N, Math.min(rows, OH - p0) * Wp, p0 * Wp, p0 * Wp, t]);
    }
    parts = N * bands;
  } else {
    const K = N * Hp * Wp;
    block = shiftedBlock(K, rowSize);
    const blocks = Math.floor(K / block);
    const rest = K - blocks * block;
    if (blocks > 0) pieces.push([blocks, block, 0, 0, 0]);
    if (rest > 0) pieces.push([1, rest, blocks * block, blocks * block, blocks]);
    parts = blocks + (rest > 0 ? 1 : 0);
  }
  const longest = Math.max(...pieces.map((p) => p[1]));
  // One panel of dyp per thread: each gemm copies its piece's 8 columns contiguously.
  const panel = heapPointer(backend, s.alloc([longest * 8 * heapKernelThreads(backend)]));
  // dW (one of these three) is tracked by the scope until it is returned: freed if a gemm throws.
  const partials = s.alloc(parts === 1 && !padded ? [kh, kw, C, Cout] : [parts, rowSize]);
  const ones = parts === 1 ? null : s.alloc([parts]);
  const sum = parts === 1 ? partials : s.alloc(padded ? [rowSize] : [kh, kw, C, Cout]);
  const dW = padded ? s.alloc([kh, kw, C, Cout]) : sum;
  // Heap views only after the last allocation: memory.grow detaches them.
  if (ones != null) (backend.typedArrayFromHeap(ones) as Float32Array).fill(1);
  if (xp !== x) {
    const h0 = Math.max(0, top);
    const h1 = Math.min(Hp, H + top);
    const w0 = Math.max(0, left);
    const w1 = Math.min(Wp, W + left);
    const rows = Math.max(0, h1 - h0);
    const pv = backend.typedArrayFromHeap(xp) as Float32Array;
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    if (Ci === C) {
      copyRunsPadded(
        pv,
        xv,
        w1 > w0 ? N * rows : 0,
        (w1 - w0) * C,
        (r) => ((Math.floor(r / rows) * H + (r % rows) + h0 - top) * W + w0 - left) * C,
        (r) => ((Math.floor(r / rows) * Hp + (r % rows) + h0) * Wp + w0) * C,
      );
    } else {
      // 1-3 channels into Ci = 4 slots per pixel.
      pv.fill(0);
      for (let n = 0; n < N; n++) {
        for (let P = h0; P < h1; P++) {
          for (let Q = w0; Q < w1; Q++) {
            const src = ((n * H + P - top) * W + Q - left) * C;
            const dst = ((n * Hp + P) * Wp + Q) * Ci;
            for (let c = 0; c < C; c++) pv[dst + c] = xv[src + c]!;
          }
        }
      }
    }
  }
  if (dyp !== dy) {
    const pv = backend.typedArrayFromHeap(dyp) as Float32Array;
    const dv = backend.typedArrayFromHeap(dy) as Float32Array;
    if (Co === Cout) {
      copyRunsPadded(
        pv,
        dv,
        N * OH,
        OW * Cout,
        (r) => r * OW * Cout,
        (r) => (Math.floor(r / OH) * R + (r % OH)) * Wp * Cout,
      );
    } else {
      // 1-7 channels into Co = 8 slots per position.
      pv.fill(0);
      for (let n = 0; n < N; n++) {
        for (let p = 0; p < OH; p++) {
          for (let q = 0; q < OW; q++) {
            const src = ((n * OH + p) * OW + q) * Cout;
            const dst = ((n * R + p) * Wp + q) * Co;
            for (let o = 0; o < Cout; o++) pv[dst + o] = dv[src + o]!;
          }
        }
      }
    }
  }
  const a = heapPointer(backend, xp);
  const b = heapPointer(backend, dyp);
  const c = heapPointer(backend, partials);
  // Example mode: one entry per example; grid mode: consecutive blocks.
  const [strideA, strideB, strideC] =
    plan.mode === 'example' ? [Hp * Wp * Ci, R * Wp * Co, plan.bands * rowSize] : [block * Ci, block * Co, rowSize];
  for (let i = 0; i < kh; i++) {
    for (const [count, K, ma, mb, pc] of pieces) {
      kernels.gemmBatch(
        ...[count, 4 * strideA, 4 * strideB, 4 * strideC],
        ...[a + 4 * (ma + i * Wp) * Ci, b + 4 * mb * Co, c + 4 * (pc * rowSize + i * M * Co), 0],
        ...[M, Co, K, 4, 1, Ci, Co, 1, Co, 1, panel],
      );
    }
  }
  if (parts > 1) {
    // sum = onesᵀ · partials, in the order of the parts: four identical rows (the gemm's tile
    // height) all written to the one output row (sai = sci = 0).
    kernels.gemm(heapPointer(backend, ones!), c, heapPointer(backend, sum), 0, 4, rowSize, parts, 0, 0, 1, rowSize, 1, 0, 1, 0);
  }
  if (padded) {
    // dW[i, j, c, o] = sum[i, j, c, o] of the padded layout [kh, kw, Ci, Co].
    const sv = backend.typedArrayFromHeap(sum) as Float32Array;
    const ov = backend.typedArrayFromHeap(dW) as Float32Array;
    for (let ij = 0; ij < kh * kw; ij++) {
      for (let ch = 0; ch < C; ch++) {
        for (let o = 0; o < Cout; o++) ov[(ij * C + ch) * Cout + o] = sv[(ij * Ci + ch) * Co + o]!;
      }
    }
  }
  return s.keep(dW);
}

/** The wasm `Conv2DBackpropFilter` kernel (inputs `x`, `dy`; attrs as in tfjs-core). */
export const conv2DBackpropFilter: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const s = new Scope(backend);
  try {
    let x = inputs.x!;
    let dy = inputs.dy!;
    if (isChannelsFirst(attrs)) {
      x = s.run('Transpose', { x }, { perm: [0, 2, 3, 1] });
      dy = s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
    }
    const info = convInfo(attrs, x.shape, attr<number[]>(attrs, 'filterShape'));
    const shifted = backpropFilterShifted(s, x, dy, info);
    if (shifted != null) return shifted;
    if (info.inChannels * info.filterHeight * info.filterWidth < info.outChannels) return backpropFilterIm2col(s, x, dy, info);
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
    const { inHeight: H, inWidth: W, inChannels: C, batchSize: N } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // Far-side padding that makes the correlation's output exactly kh × kw.
    let bottom = (oh - 1) * sh + kh - H - top;
    let right = (ow - 1) * sw + kw - W - left;
    if (bottom < 0 || right < 0) {
      // Trailing rows/columns the forward convolution never read ('valid' with a remainder).
      x = s.run('Slice', { x }, { begin: [0, 0, 0, 0], size: [N, H + Math.min(bottom, 0), W + Math.min(right, 0), C] });
      bottom = Math.max(bottom, 0);
      right = Math.max(right, 0);
    }
    const xT = s.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [C, H, W, N]
    const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, Cout]
    const r = s.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        dataFormat: 'NHWC',
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
      },
    ); // [C, kh, kw, Cout]
    return wasmKernel('Transpose')({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } });
  } finally {
    s.dispose();
  }
};
