/**
 * `Conv2D`, `FusedConv2D`, `DepthwiseConv2dNative` and `FusedDepthwiseConv2D` for wasm with
 * `'same'` padding passed as explicit pads. The stock kernels hand XNNPACK its TensorFlow-SAME
 * flag, which returns wrong results for some shapes (measured: kernel 1×3, stride [2, 1],
 * relative error 1.0 against cpu; tfjs issues 5907 and 6629 report others). The explicit pads
 * are the ones tfjs-core's `computeConv2DInfo` derives for `'same'`, so results are unchanged
 * wherever the stock kernels were right.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { attr, type PadArg, type WasmKernelFunc } from './types.js';

type Shape4 = [number, number, number, number];

/** Wraps stock kernel `original`; `depthwise` selects the depthwise filter layout. */
export function makeExplicitSamePadding(original: WasmKernelFunc, depthwise: boolean): WasmKernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    if (attr<PadArg>(attrs, 'pad') !== 'same' || attr<string | undefined>(attrs, 'dataFormat') === 'NCHW') return original(args);
    const info = tf.backend_util.computeConv2DInfo(
      inputs.x!.shape as Shape4,
      inputs.filter!.shape as Shape4,
      attr<number | [number, number]>(attrs, 'strides'),
      attr<number | [number, number] | undefined>(attrs, 'dilations') ?? 1,
      'same',
      attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'),
      depthwise,
    );
    const { top, bottom, left, right } = info.padInfo;
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return original({ ...args, attrs: { ...attrs, pad } });
  };
}
