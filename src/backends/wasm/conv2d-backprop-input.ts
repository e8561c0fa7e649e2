/**
 * `Conv2DBackpropInput` for wasm by sub-pixel (phase) decomposition into stride-1 XNNPACK
 * convolutions. The stock kernel is a scalar loop at 4-5 GFLOP/s; it is the forward pass of every
 * `conv2dTranspose` and the input gradient of every conv.
 *
 * For output phase `(rh, rw)` (the rows `≡ rh` and columns `≡ rw` modulo the stride, after
 * padding) only the filter taps `i = rh + sh·a`, `j = rw + sw·b` contribute:
 *
 *     dx[q·sh + rh − top, p·sw + rw − left, c] = Σ_{a,b,o} dy[q − a, p − b, o] · W[rh + sh·a, rw + sw·b, c, o]
 *
 * which is a stride-1 correlation of `dy` with the flipped, in/out-swapped sub-filter. Each phase
 * computes exactly the rows and columns of `dx` it owns; a copy loop interleaves them. At stride 1
 * the single phase is `dx` itself.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { convInfo, isChannelsFirst, toChannelsLast } from './conv-info.js';
import { Scope } from './scope.js';
import { attr, wasmKernel, type WasmKernelFunc } from './types.js';

/**
 * Below this many input channels (`dx` channels) the phases are not used: XNNPACK GEMMs with
 * fewer than 4 output channels are no faster than the stock loop (measured: 11.5 vs 11.8 ms for
 * the DCGAN 1-channel layer). Those layers (a generator's last, image-channel transposed
 * convolution) go through {@link backpropInputColumns} instead.
 */
export const PHASE_MIN_CHANNELS = 4;

/**
 * Channels-last `dx` for few channels as one matrix product and a scatter (col2im): every `dy`
 * pixel's contributions to its `kh×kw×C` patch of `dx` are the rows of
 *
 *     cols[(n, y, x), (i, j, c)] = Σ_o dy[n, y, x, o] · W[i, j, c, o]      ([N·OH·OW, Cout] · [Cout, kh·kw·C])
 *
 * added into `dx[n, y·sh + i − top, x·sw + j − left, c]` where that lies inside `dx`. The
 * product runs at matrix speed; the scatter is `kh·kw·C` additions per `dy` pixel. Measured
 * against the stock loop, interleaved: the DCGAN tutorial's 28x28x1 output layer (batch 64, k5)
 * 18.1 → 4.4 ms, a 64x64x3 output layer (batch 16, k4) 43.3 → 6.9 ms.
 */
function backpropInputColumns(
  s: Scope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  inputShape: number[],
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const backend = s.backendOf();
  const info = convInfo(attrs, inputShape, filter.shape);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { inHeight: H, inWidth: W, inChannels: C, outChannels: Cout, batchSize: N } = info;
  const { top, left } = info.padInfo;
  const K = kh * kw * C;
  // wt[o, (i·kw + j)·C + c] = W[i, j, c, o]
  const wt = s.alloc([1, Cout, K]);
  {
    const wv = backend.typedArrayFromHeap(wt) as Float32Array;
    const fv = backend.typedArrayFromHeap(filter) as Float32Array;
    for (let k = 0; k < K; k++) for (let o = 0; o < Cout; o++) wv[o * K + k] = fv[k * Cout + o]!;
  }
  const M = N * oh * ow;
  const rows: tf.TensorInfo = { dataId: dy.dataId, shape: [1, M, Cout], dtype: 'float32' };
  const cols = s.run('BatchMatMul', { a: rows, b: wt }, { transposeA: false, transposeB: false });
  const dx = backend.makeOutput([N, H, W, C], 'float32');
  // Heap views only after the last allocation: memory.grow detaches them.
  const dv = backend.typedArrayFromHeap(dx) as Float32Array;
  const cv = backend.typedArrayFromHeap(cols) as Float32Array;
  dv.fill(0);
  let m = 0;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++, m++) {
        const row = m * K;
        for (let i = 0; i < kh; i++) {
          const h = y * sh + i - top;
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < kw; j++) {
            const w = x * sw + j - left;
            if (w < 0 || w >= W) continue;
            const dst = ((n * H + h) * W + w) * C;
            const src = row + (i * kw + j) * C;
            for (let c = 0; c < C; c++) dv[dst + c]! += cv[src + c]!;
          }
        }
      }
    }
  }
  return dx;
}

interface Phase {
  out: tf.TensorInfo;
  rh: number;
  rw: number;
  q0: number;
  q1: number;
  p0: number;
  p1: number;
}

/** Channels-last phase decomposition (inputs `dy` NHWC, `filter`; `inputShape` NHWC). */
function backpropInputPhases(
  s: Scope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  inputShape: number[],
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const backend = s.backendOf();
  const info = convInfo(attrs, inputShape, filter.shape);
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const { inHeight: H, inWidth: W, inChannels: Cin, outChannels: Cout, batchSize: N } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const phases: Phase[] = [];
  let complete = true; // false when some dx rows/columns receive no tap (they stay zero)
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const Jh = Math.ceil((kh - rh) / sh);
      const Jw = Math.ceil((kw - rw) / sw);
      // Rows q (columns p) of this phase that land inside dx.
      const q0 = Math.ceil((top - rh) / sh);
      const q1 = Math.floor((H - 1 + top - rh) / sh);
      const p0 = Math.ceil((left - rw) / sw);
      const p1 = Math.floor((W - 1 + left - rw) / sw);
      if (q1 < q0 || p1 < p0) continue;
      if (Jh <= 0 || Jw <= 0) {
        complete = false;
        continue;
      }
      const lo = q0 - Jh + 1;
      const loW = p0 - Jw + 1;
      const r0 = Math.max(0, lo);
      const r1 = Math.min(oh - 1, q1);
      const c0 = Math.max(0, loW);
      const c1 = Math.min(ow - 1, p1);
      if (r1 < r0 || c1 < c0) {
        complete = false;
        continue;
      }
      // sub[a][b][o][c] = W[rh + sh·(Jh−1−a)][rw + sw·(Jw−1−b)][c][o]
      const sub = s.alloc([Jh, Jw, Cout, Cin]);
      // Heap views only after the last allocation: memory.grow detaches them.
      const sv = backend.typedArrayFromHeap(sub) as Float32Array;
      const fv = backend.typedArrayFromHeap(filter) as Float32Array;
      for (let a = 0; a < Jh; a++) {
        for (let b = 0; b < Jw; b++) {
          const src0 = ((rh + sh * (Jh - 1 - a)) * kw + (rw + sw * (Jw - 1 - b))) * Cin * Cout;
          const dst0 = (a * Jw + b) * Cout * Cin;
          for (let c = 0; c < Cin; c++) {
            for (let o = 0; o < Cout; o++) sv[dst0 + o * Cin + c] = fv[src0 + c * Cout + o]!;
          }
        }
      }
      const cropped = r0 !== 0 || r1 !== oh - 1 || c0 !== 0 || c1 !== ow - 1;
      const xin = cropped ? s.run('Slice', { x: dy }, { begin: [0, r0, c0, 0], size: [N, r1 - r0 + 1, c1 - c0 + 1, Cout] }) : dy;
      const out = s.run(
        'Conv2D',
        { x: xin, filter: sub },
        {
          strides: [1, 1],
          dilations: [1, 1],
          dataFormat: 'NHWC',
          pad: [
            [0, 0],
            [r0 - lo, q1 - r1],
            [c0 - loW, p1 - c1],
            [0, 0],
          ],
        },
      );
      phases.push({ out, rh, rw, q0, q1, p0, p1 });
    }
  }
  if (sh === 1 && sw === 1 && phases.length === 1 && complete) return s.keep(phases[0]!.out);
  const dx = backend.makeOutput([N, H, W, Cin], 'float32');
  const dv = backend.typedArrayFromHeap(dx) as Float32Array;
  if (!complete || phases.length < sh * sw) dv.fill(0);
  for (const { out, rh, rw, q0, q1, p0, p1 } of phases) {
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    const rows = q1 - q0 + 1;
    const cols = p1 - p0 + 1;
    let src = 0;
    for (let n = 0; n < N; n++) {
      for (let q = 0; q < rows; q++) {
        const ih = (q0 + q) * sh + rh - top;
        let dst = ((n * H + ih) * W + (p0 * sw + rw - left)) * Cin;
        for (let p = 0; p < cols; p++, src += Cin, dst += sw * Cin) dv.set(ov.subarray(src, src + Cin), dst);
      }
    }
  }
  return dx;
}

/**
 * Wraps the stock wasm `Conv2DBackpropInput` kernel `original`: the phase decomposition for
 * `dx` with at least {@link PHASE_MIN_CHANNELS} channels, a product and scatter below that
 * (channels-last float32); the stock loop for anything else.
 */
export function makeConv2DBackpropInput(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const dy = inputs.dy!;
    const filter = inputs.filter!;
    if (dy.dtype !== 'float32') return original(args);
    const s = new Scope(backend);
    try {
      if (filter.shape[2]! < PHASE_MIN_CHANNELS) {
        if (isChannelsFirst(attrs)) return original(args);
        return backpropInputColumns(s, dy, filter, attr<number[]>(attrs, 'inputShape'), attrs);
      }
      if (!isChannelsFirst(attrs)) return backpropInputPhases(s, dy, filter, attr<number[]>(attrs, 'inputShape'), attrs);
      const dyLast = s.run('Transpose', { x: dy }, { perm: [0, 2, 3, 1] });
      const dx = backpropInputPhases(s, dyLast, filter, toChannelsLast(attr<number[]>(attrs, 'inputShape')), attrs);
      s.keep(dx);
      try {
        return wasmKernel('Transpose')({ inputs: { x: dx }, backend, attrs: { perm: [0, 3, 1, 2] } });
      } finally {
        backend.disposeData(dx.dataId);
      }
    } finally {
      s.dispose();
    }
  };
}
