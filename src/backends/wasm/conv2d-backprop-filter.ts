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
