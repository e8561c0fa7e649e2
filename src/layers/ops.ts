/**
 * Tensor maths shared by the transformer layers and by incremental generation (internal): a
 * linear map on the last axis, layer normalization, GELU, dropout with a per-call seed, and
 * the names of the config keys every tfjs-layers layer accepts.
 *
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core';

import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../backends/gelu-kernel.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../backends/layer-norm-kernel.js';

/**
 * `x · W + b` on the last axis of `x` `[..., in]` with `W` `[in, out]`: `[..., out]`. One fused
 * kernel (product and bias) where the backend has it; rank-2 inputs skip the reshapes.
 *
 * @internal
 */
export function linear(x: tf.Tensor, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor {
  const inner = x.shape[x.rank - 1]!;
  const flat = (x.rank === 2 ? x : tf.reshape(x, [-1, inner])) as tf.Tensor2D;
  const y = bias === undefined ? tf.matMul(flat, kernel) : (linearWithBias(flat, kernel, bias) as tf.Tensor2D);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1]]);
}

/**
 * `x · W + b` for `x` `[rows, in]` as one fused product, with `tf.fused.matMul`'s gradients:
 * `dy · Wᵀ`, `xᵀ · dy` and `Σ_rows dy` as one `Sum` over the rows (on wasm a single pass that adds
 * the rows in order, `sum-columns.ts`: the float32 sums the first row of `ones[4, rows] · dy`
 * gave before, bit for bit, without the product, the ones, a slice and a reshape).
 */
const linearWithBias = tf.customGrad(((x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, kernel]);
  return {
    value: tf.fused.matMul({ a: x, b: kernel, bias }),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [input, weights] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [
        // dy · Wᵀ: the wasm gemm reads W transposed into its panels (no transpose pass).
        tf.matMul(dy, weights, false, true),
        tf.matMul(input, dy, true, false),
        tf.sum(dy, 0),
      ];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor;

/**
 * Layer normalization over the last axis (Ba et al. 2016):
 * `γ ⊙ (x − mean) / √(var + ε) + β`, each position on its own.
 *
 * @internal
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D | undefined, epsilon: number): tf.Tensor {
  if (x.dtype === 'float32' && x.rank >= 1 && hasKernels(LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL)) {
    return tf.tidy(() => layerNormKernel(x, gamma, beta ?? tf.zerosLike(gamma), epsilon));
  }
  return tf.tidy(() => layerNormUntidied(x, gamma, beta, epsilon));
}

/**
 * {@link layerNorm} by the layer-normalization kernels (`../backends/layer-norm-kernel.ts`): one
 * kernel forward and one back (the gradients of x, γ and β) instead of about thirty.
 */
function layerNormKernel(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return normalizeByKernels(LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL, x, gamma, beta, epsilon);
}

/**
 * y = γ · x̂ + β by a pair of normalization kernels with the layer/group-norm contract: the
 * forward kernel takes `{ x, gamma, beta }` and `{ epsilon }` and returns `[y, x̂, r]`; the
 * gradient kernel takes `{ dy, xHat, r, gamma }` and returns the gradients of x, γ and β.
 * @internal
 */
export function normalizeByKernels(
  forwardKernel: string,
  gradKernel: string,
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): tf.Tensor {
  const normalize = tf.customGrad(((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, xHat, r] = tf.engine().runKernel(forwardKernel, { x: input, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
    save([xHat!, r!, g]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(gradKernel, { dy, xHat: saved[0]!, r: saved[1]!, gamma: saved[2]! }) as tf.Tensor[],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return normalize(x, gamma, beta);
}

function layerNormUntidied(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D | undefined, epsilon: number): tf.Tensor {
  // mean and variance by hand: tf.moments adds casts (extra kernels per call in decoding).
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  const normalized = tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon)));
  const scaled = tf.mul(normalized, gamma);
  return beta === undefined ? scaled : tf.add(scaled, beta);
}

/**
 * GELU in GPT-2's tanh form (Hendrycks & Gimpel 2016, as minGPT's `NewGELU`):
 * `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, computed as the equal
 * `x · σ(x · (2√(2/π) + 2·0.044715·√(2/π) x²))` (since `0.5 (1 + tanh z) = σ(2z)`): six kernels
 * instead of nine; one kernel forward and one back where the backend registers genblocks' GELU
 * kernels (wasm).
 *
 * @internal
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && hasKernels(GELU_KERNEL, GELU_GRAD_KERNEL)) return geluKernel(x);
  const a = 2 * Math.sqrt(2 / Math.PI);
  const b = a * 0.044715;
  return tf.mul(x, tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.square(x), b), a))));
}

/** Whether the active backend registers every one of `kernels`. @internal */
export function hasKernels(...kernels: string[]): boolean {
  const backend = tf.getBackend();
  return kernels.every((kernel) => tf.getKernel(kernel, backend) != null);
}

/**
 * {@link gelu} by the GELU kernels (`../backends/gelu-kernel.ts`): one pass forward and one back
 * instead of six element-wise kernels and their dozen gradients.
 */
const geluKernel = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const [y, t] = tf.engine().runKernel(GELU_KERNEL, { x }) as tf.Tensor[];
  save([x, t!]);
  return {
    value: y!,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.engine().runKernel(GELU_GRAD_KERNEL, { dy, x: saved[0]!, t: saved[1]! }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;

/** Dropout that draws a fresh mask per call: call k of a seeded layer uses seed `seed + k`. @internal */
export class SeededDropout {
  private count = 0;

  constructor(private readonly seed: number | undefined) {}

  /** `x` unchanged when `rate` is 0 or outside training; otherwise inverted dropout. */
  apply(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
    if (!training || rate === 0) return x;
    return tf.dropout(x, rate, undefined, this.seed === undefined ? undefined : this.seed + this.count++);
  }
}

/** Keys tfjs-layers itself puts in (or accepts from) a layer's config. @internal */
export const BASE_LAYER_KEYS = [
  'name',
  'trainable',
  'dtype',
  'batchInputShape',
  'inputShape',
  'batchSize',
  'inputDType',
  'weights',
  'customObjects',
] as const;

const defaultNameCounts = new Map<string, number>();

/** A default layer name `prefix_k` (tfjs' own default would contain the `>` of the class name). @internal */
export function defaultLayerName(prefix: string): string {
  const k = (defaultNameCounts.get(prefix) ?? 0) + 1;
  defaultNameCounts.set(prefix, k);
  return `${prefix}_${k}`;
}

/** A seeded normal initializer `N(0, stddev²)`; seed `seed + offset` when a seed is given. @internal */
export function normalInit(stddev: number, seed: number | undefined, offset: number): { mean: number; stddev: number; seed?: number } {
  return seed === undefined ? { mean: 0, stddev } : { mean: 0, stddev, seed: seed + offset };
}
