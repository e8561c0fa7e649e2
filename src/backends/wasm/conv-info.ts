/**
 * Reading the attributes of tfjs conv backprop kernels into a `Conv2DInfo` (channels-last).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { attr, type PadArg } from './types.js';

type Shape4 = [number, number, number, number];

/** True when a kernel's `dataFormat` attribute is `'NCHW'`. */
export function isChannelsFirst(attrs: tf.NamedAttrMap): boolean {
  return attr<string | undefined>(attrs, 'dataFormat') === 'NCHW';
}

/** `[N,C,H,W]` → `[N,H,W,C]`. */
export function toChannelsLast(shape: readonly number[]): Shape4 {
  return [shape[0]!, shape[2]!, shape[3]!, shape[1]!];
}

/**
 * `computeConv2DInfo` for a channels-last input of shape `xShape` and the kernel's `strides`,
 * `pad`, `dimRoundingMode` and (when `depthwise`) `dilations` attributes.
 */
export function convInfo(
  attrs: tf.NamedAttrMap,
  xShape: readonly number[],
  filterShape: readonly number[],
  depthwise = false,
): tf.backend_util.Conv2DInfo {
  const dilations = depthwise ? (attr<number | [number, number] | undefined>(attrs, 'dilations') ?? 1) : 1;
  return tf.backend_util.computeConv2DInfo(
    [...xShape] as Shape4,
    [...filterShape] as Shape4,
    attr<number | [number, number]>(attrs, 'strides'),
    dilations,
    attr<PadArg>(attrs, 'pad'),
    attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'),
    depthwise,
    'channelsLast',
  );
}
