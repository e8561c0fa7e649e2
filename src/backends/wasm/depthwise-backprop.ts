/**
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput` for wasm (tfjs
 * 4.22 has neither). A depthwise convolution does `kh·kw` multiply-adds per output element, so
 * both gradients are memory-bound; they run as single passes over the wasm heap with the channel
 * loop innermost (contiguous in NHWC):
 *
 *     dW[i,j,c,m] = Σ_{n,p,q} x[n, p·sh + i·dh − top, q·sw + j·dw − left, c] · dy[n, p, q, c·M + m]
 *     dx[n, p·sh + i·dh − top, q·sw + j·dw − left, c] += Σ_m dy[n, p, q, c·M + m] · W[i,j,c,m]
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';

import { convInfo } from './conv-info.js';
import { attr, type WasmBackend, type WasmKernelFunc } from './types.js';

/** Visits every (n, p, q, i, j) whose input pixel is inside the image, with the flat offsets. */
function forEachTap(info: tf.backend_util.Conv2DInfo, visit: (xOffset: number, dyOffset: number, tap: number) => void): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        const dyOffset = ((n * OH + p) * OW + q) * CO;
        for (let i = 0; i < kh; i++) {
          const h = p * sh + i * dh - top;
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < kw; j++) {
            const w = q * sw + j * dw - left;
            if (w < 0 || w >= W) continue;
            visit(((n * H + h) * W + w) * C, dyOffset, i * kw + j);
          }
        }
      }
    }
  }
}

function float32View(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** The wasm `DepthwiseConv2dNativeBackpropFilter` kernel (inputs `x`, `dy`; NHWC). */
export const depthwiseConv2dNativeBackpropFilter: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x!;
  const dy = inputs.dy!;
  const filterShape = attr<number[]>(attrs, 'filterShape');
  const info = convInfo(attrs, x.shape, filterShape, true);
  const C = info.inChannels;
  const M = info.outChannels / C;
  const dW = backend.makeOutput([...filterShape], 'float32');
  const dv = float32View(backend, dW);
  dv.fill(0);
  const xv = float32View(backend, x);
  const yv = float32View(backend, dy);
  forEachTap(info, (xo, yo, tap) => {
    const wo = tap * C * M;
    for (let c = 0; c < C; c++) {
      const xc = xv[xo + c]!;
      for (let m = 0; m < M; m++) dv[wo + c * M + m] += xc * yv[yo + c * M + m]!;
    }
  });
  return dW;
};

/** The wasm `DepthwiseConv2dNativeBackpropInput` kernel (inputs `dy`, `filter`; NHWC). */
export const depthwiseConv2dNativeBackpropInput: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const inputShape = attr<number[]>(attrs, 'inputShape');
  const info = convInfo(attrs, inputShape, filter.shape, true);
  const C = info.inChannels;
  const M = info.outChannels / C;
  const dx = backend.makeOutput([...inputShape], 'float32');
  const dv = float32View(backend, dx);
  dv.fill(0);
  const fv = float32View(backend, filter);
  const yv = float32View(backend, dy);
  forEachTap(info, (xo, yo, tap) => {
    const wo = tap * C * M;
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += yv[yo + c * M + m]! * fv[wo + c * M + m]!;
      dv[xo + c] += acc;
    }
  });
  return dx;
};
