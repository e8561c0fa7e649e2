/**
 * Causal multi-head self-attention (Vaswani et al. 2017, as in GPT-2 / nanoGPT): pure
 * functions for a whole sequence and for one step with a key/value cache, and the registered
 * layer around them.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { CAUSAL_ATTENTION_GRAD_KERNEL, CAUSAL_ATTENTION_KERNEL } from '../backends/causal-attention-kernel.js';
import { ArgumentError, ConfigError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, describe, formatShape } from '../validation.js';
import { BASE_LAYER_KEYS, SeededDropout, defaultLayerName, hasKernels, linear, normalInit } from './ops.js';

const FN = 'layers.CausalSelfAttention';

/**
 * The weights of one attention block: the fused query/key/value projection `[C, 3C]` (columns
 * `[q | k | v]`) and the output projection `[C, C]`, with optional biases.
 *
 * @category Layers
 */
export interface AttentionWeights {
  /** Fused projection `[C, 3C]`: `x · qkvKernel = [q | k | v]`. */
  qkvKernel: tf.Tensor2D;
  /** Bias `[3C]` of the fused projection, if any. */
  qkvBias?: tf.Tensor1D;
  /** Output projection `[C, C]`. */
  projectionKernel: tf.Tensor2D;
  /** Bias `[C]` of the output projection, if any. */
  projectionBias?: tf.Tensor1D;
}

/**
 * Keys and values of the positions seen so far, per head: keys stored transposed
 * `[B, H, C/H, t]` (ready for `q · kᵀ`), values `[B, H, t, C/H]`. The cache of one attention
 * block; a transformer keeps one per block.
 *
 * @category Layers
 */
// A type alias (not an interface) so that it is a tf.TensorContainer and can leave a tf.tidy.
export type KeyValueCache = {
  /** Keys, transposed: `[B, H, C/H, t]`. */
  keys: tf.Tensor4D;
  /** Values `[B, H, t, C/H]`. */
  values: tf.Tensor4D;
};

/** Options of {@link causalSelfAttention}. @category Layers */
export interface CausalSelfAttentionOptions {
  /** Number of heads H; must divide the width C. */
  heads: number;
  /** Dropout rate on the attention weights (training only). Default 0. */
  attentionDropout?: number;
  /** Dropout rate on the output projection (training only). Default 0. */
  residualDropout?: number;
  /** Whether dropout is active. Default false. */
  training?: boolean;
  /** Seed of the dropout masks (the attention weights' uses `seed`, the output's `seed + 1`). Default: unseeded. */
  seed?: number;
}

/** What one decoding step returns: the new position's output and the extended cache. @category Layers */
export interface AttentionStepResult {
  /** Output of the new position `[B, 1, C]`. */
  output: tf.Tensor3D;
  /** The cache extended by the new position (new tensors; the caller disposes the old cache). */
  cache: KeyValueCache;
}

/** Mask value added to the scores of future positions: exp of it underflows to exactly 0. */
const MASKED = -1e9;

/**
 * The fused projection as rows `[B·T, 3C]` (columns `[q | k | v]`) → queries, keys and values
 * `[B, H, T, C/H]` (keys as rows: `q kᵀ` is a product with `transposeB`, whose gradients need
 * no transpose of their own). One transpose to `[3, B, H, T, C/H]`
 * and an unstack along its leading axis (contiguous slices), instead of a split along the last
 * axis and a transpose per part: tfjs-backend-wasm's `SplitV` copies the whole tensor off the heap
 * once per part and slices it in JavaScript (about a tenth of a GPT training step).
 */
function splitQueryKeyValue(qkv: tf.Tensor, b: number, t: number, heads: number): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const depth = qkv.shape[qkv.rank - 1]! / (3 * heads);
  const stacked = tf.transpose(tf.reshape(qkv, [b, t, 3, heads, depth]), [2, 0, 3, 1, 4]);
  return tf.unstack(stacked) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

/** `[B, H, T, D]` → rows `[B·T, H·D]`. */
function mergeHeads(x: tf.Tensor4D): tf.Tensor2D {
  const [b, h, t, d] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b * t, h * d]) as tf.Tensor2D;
}

/**
 * Scaled dot-product attention of queries `[B, H, Tq, D]` over keys given transposed
 * `[B, H, D, Tk]` (the cache's layout) or as rows `[B, H, Tk, D]`, and values `[B, H, Tk, D]`:
 * `softmax(q kᵀ / √D + mask) v`. The one place the full-sequence and the incremental forms share.
 */
function attend(
  q: tf.Tensor4D,
  keys: { transposed: tf.Tensor4D } | { rows: tf.Tensor4D },
  values: tf.Tensor4D,
  mask: tf.Tensor2D | undefined,
  dropoutRate: number,
  training: boolean,
  dropout: SeededDropout | undefined,
): tf.Tensor4D {
  let weights = attentionWeights(q, keys, mask);
  if (dropout !== undefined) weights = dropout.apply(weights, dropoutRate, training) as tf.Tensor4D;
  return tf.matMul(weights, values);
}

/** The attention weights `softmax(q kᵀ / √D + mask)` `[B, H, Tq, Tk]` of {@link attend}. */
function attentionWeights(
  q: tf.Tensor4D,
  keys: { transposed: tf.Tensor4D } | { rows: tf.Tensor4D },
  mask: tf.Tensor2D | undefined,
): tf.Tensor4D {
  const depth = q.shape[3];
  const products = 'transposed' in keys ? tf.matMul(q, keys.transposed) : tf.matMul(q, keys.rows, false, true);
  let scores: tf.Tensor = tf.mul(products, 1 / Math.sqrt(depth));
  if (mask !== undefined) scores = tf.add(scores, mask);
  return tf.softmax(scores) as tf.Tensor4D;
}

/**
 * Causal attention from the fused projection's rows `[B·T, 3C]` to the merged heads `[B·T, C]`
 * (split, {@link attend} with the causal mask, merge), without dropout, as one node of the
 * gradient tape with the gradient written out: with `P = softmax(S)`, `S = q kᵀ s + M`,
 * `s = 1/√D` and `O = P v`,
 *
 *     dv = Pᵀ dO,   dP = dO vᵀ,   dS = P ⊙ (dP − rowsum(dO ⊙ O)),   dq = s·dS k,   dk = s·dSᵀ q
 *
 * (`rowsum(dP ⊙ P) = rowsum(dO ⊙ O)`, the identity FlashAttention uses: the row sums come from
 * `[B, H, T, D]` tensors instead of `[B, H, T, T]` ones; `s` is applied to `dO` once). Against
 * tfjs' own gradients of the same ops this drops two passes over the `[B, H, T, T]` scores (the
 * softmax gradient's product with the broadcast row sums, and the scale's product) and the
 * tape's copies of every intermediate. The forward values are {@link attend}'s, bit for bit.
 * Where the backend registers the causal-attention kernels (wasm) and `D % 4 == 0`, the same
 * maths runs as one kernel each way ({@link causalAttentionByKernels}).
 */
function causalAttentionRows(qkv: tf.Tensor2D, b: number, t: number, heads: number): tf.Tensor2D {
  const depth = qkv.shape[1] / (3 * heads);
  if (qkv.dtype === 'float32' && depth % 4 === 0 && hasKernels(CAUSAL_ATTENTION_KERNEL, CAUSAL_ATTENTION_GRAD_KERNEL))
    return causalAttentionByKernels(qkv, b, t, heads);
  const core = tf.customGrad(((rows: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const [q, k, v] = splitQueryKeyValue(rows, b, t, heads);
    const p = attentionWeights(q, { rows: k }, causalMask(t));
    const o = tf.matMul(p, v) as tf.Tensor4D;
    save([q, k, v, p, o]);
    return {
      value: mergeHeads(o),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp, so] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const depth = sq.shape[3];
        const dO = tf.transpose(tf.reshape(dy, [b, t, heads, depth]), [0, 2, 1, 3]) as tf.Tensor4D;
        const dOScaled = tf.mul(dO, 1 / Math.sqrt(depth)) as tf.Tensor4D;
        const dv = tf.matMul(sp, dO, true, false);
        const dp = tf.matMul(dOScaled, sv, false, true);
        const ds = tf.mul(sp, tf.sub(dp, tf.sum(tf.mul(dOScaled, so), -1, true))) as tf.Tensor4D;
        const dq = tf.matMul(ds, sk);
        const dk = tf.matMul(ds, sq, true, false);
        const stacked = tf.transpose(tf.stack([dq, dk, dv]), [1, 3, 0, 2, 4]);
        return tf.reshape(stacked, [b * t, 3 * heads * depth]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (rows: tf.Tensor2D) => tf.Tensor2D;
  return core(qkv);
}

/**
 * {@link causalAttentionRows} by the causal-attention kernels (`../backends/causal-attention-kernel.ts`):
 * one kernel forward, reading q, k and v in place and writing the merged heads, and one back,
 * writing `d(qkv)` in the projection's layout; the same maths, computed only over the causal part.
 */
function causalAttentionByKernels(qkv: tf.Tensor2D, b: number, t: number, heads: number): tf.Tensor2D {
  const width = qkv.shape[1];
  const core = tf.customGrad(((rows: tf.Tensor3D, save: tf.GradSaveFunc) => {
    const [out, probs] = tf.engine().runKernel(CAUSAL_ATTENTION_KERNEL, { qkv: rows }, { heads }) as tf.Tensor[];
    save([rows, out!, probs!]);
    return {
      value: out!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qkvRows, out, probs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(CAUSAL_ATTENTION_GRAD_KERNEL, { dy, qkv: qkvRows, out, probs }, { heads }) as tf.Tensor;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (rows: tf.Tensor3D) => tf.Tensor3D;
  return tf.reshape(core(tf.reshape(qkv, [b, t, width]) as tf.Tensor3D), [b * t, width / 3]) as tf.Tensor2D;
}

/** The additive causal mask `[T, T]`: 0 on and below the diagonal, {@link MASKED} above. */
function causalMask(t: number): tf.Tensor2D {
  // Built on the CPU and uploaded once: tf.linalg.bandPart costs ~100 kernels (it unstacks rows).
  const mask = new Float32Array(t * t);
  for (let s = 0; s < t; s++) mask.fill(MASKED, s * t + s + 1, (s + 1) * t);
  return tf.tensor2d(mask, [t, t]);
}

/**
 * Checks that `heads` is a positive integer that divides the width `C` (an `ArgumentError`, a
 * `ShapeError`), named `arg` (`'options.heads'` for the functions, `'config.heads'` for the layers).
 *
 * @internal
 */
export function checkHeads(width: number, heads: unknown, fn: string, arg = 'options.heads'): asserts heads is number {
  assertPositiveInt(heads, arg, fn);
  if (width % heads !== 0) {
    throw new ShapeError({ fn, arg, expected: `divide the width ${width}`, received: String(heads) });
  }
}

/**
 * Causal multi-head self-attention over a whole sequence `x` `[B, T, C]`:
 *
 *     [q | k | v] = x Wqkv + bqkv,   headᵢ = softmax(qᵢ kᵢᵀ / √(C/H) + M) vᵢ,
 *     y = concat(head₁ … head_H) Wproj + bproj
 *
 * with `M[s, j] = −10⁹` for `j > s` (a position never sees a later one: its output does not
 * change, bit for bit, when a later input does). Returns `[B, T, C]`.
 *
 * @see https://arxiv.org/abs/1706.03762 (Vaswani et al. 2017, §3.2)
 * @param x Input `[B, T, C]`, float32.
 * @param weights See {@link AttentionWeights}.
 * @param options See {@link CausalSelfAttentionOptions}.
 * @returns The attention output `[B, T, C]` (before any residual connection).
 * @example
 * ```ts
 * const c = 8;
 * const weights = { qkvKernel: tf.randomNormal([c, 3 * c]) as tf.Tensor2D, projectionKernel: tf.eye(c) as tf.Tensor2D };
 * const y = layers.causalSelfAttention(tf.randomNormal([1, 5, c]), weights, { heads: 2 }); // [1, 5, 8]
 * ```
 * @category Layers
 */
export function causalSelfAttention(x: tf.Tensor, weights: AttentionWeights, options: CausalSelfAttentionOptions): tf.Tensor3D {
  const fn = 'layers.causalSelfAttention';
  if (!(x instanceof tf.Tensor) || x.rank !== 3) {
    throw new ShapeError({ fn, arg: 'x', expected: 'be a tensor of rank 3 [B, T, C]', received: describe(x) });
  }
  const { heads, attentionDropout = 0, residualDropout = 0, training = false, seed } = options;
  checkHeads(x.shape[2]!, heads, fn);
  const dropout = new SeededDropout(seed);
  return tf.tidy(() => {
    const [b, t, c] = x.shape as [number, number, number];
    const rows = tf.reshape(x, [b * t, c]) as tf.Tensor2D;
    return tf.reshape(causalSelfAttentionRows(rows, b, t, weights, heads, attentionDropout, residualDropout, training, dropout), [
      b,
      t,
      c,
    ]) as tf.Tensor3D;
  });
}

/**
 * {@link causalSelfAttention} on the rows `[B·T, C]` of a `[B, T, C]` input, returning rows
 * `[B·T, C]` (the transformer block keeps its whole residual stream as a matrix, so the linear
 * maps need no reshapes). Call inside a tidy.
 *
 * @internal
 */
export function causalSelfAttentionRows(
  x: tf.Tensor2D,
  b: number,
  t: number,
  weights: AttentionWeights,
  heads: number,
  attentionDropout: number,
  residualDropout: number,
  training: boolean,
  dropout: SeededDropout,
): tf.Tensor2D {
  const qkv = linear(x, weights.qkvKernel, weights.qkvBias) as tf.Tensor2D;
  let merged: tf.Tensor2D;
  if (training && attentionDropout > 0) {
    const [q, k, v] = splitQueryKeyValue(qkv, b, t, heads);
    merged = mergeHeads(attend(q, { rows: k }, v, causalMask(t), attentionDropout, training, dropout));
  } else {
    merged = causalAttentionRows(qkv, b, t, heads);
  }
  const y = linear(merged, weights.projectionKernel, weights.projectionBias);
  return dropout.apply(y, residualDropout, training) as tf.Tensor2D;
}

/**
 * One step of {@link causalSelfAttention} for generation: the new position's input `xT`
 * `[B, 1, C]` attends to the cached keys and values of the earlier positions and to itself.
 * The maths is the full form's (same projection, same `attend`), so its output equals row `t`
 * of the full pass over the same prefix (to float32 rounding), at O(t) cost instead of O(t²).
 *
 * @see https://arxiv.org/abs/1706.03762 (Vaswani et al. 2017, §3.2)
 * @param weights See {@link AttentionWeights}.
 * @param xT The new position `[B, 1, C]`.
 * @param cache Keys and values of the earlier positions, or `null` at the first position.
 * @param options `heads`: the number of heads.
 * @returns See {@link AttentionStepResult}: `output` `[B, 1, C]` and the extended cache.
 * @example
 * ```ts
 * let cache: layers.KeyValueCache | null = null;
 * const step = layers.attentionStep(weights, xT, cache, { heads: 2 });
 * cache = step.cache;
 * ```
 * @category Layers
 */
export function attentionStep(
  weights: AttentionWeights,
  xT: tf.Tensor,
  cache: KeyValueCache | null,
  options: { heads: number },
): AttentionStepResult {
  const fn = 'layers.attentionStep';
  if (!(xT instanceof tf.Tensor) || xT.rank !== 3 || xT.shape[1] !== 1) {
    throw new ShapeError({ fn, arg: 'xT', expected: 'be a tensor of shape [B, 1, C]', received: describe(xT) });
  }
  checkHeads(xT.shape[2]!, options.heads, fn);
  return tf.tidy(() => {
    const [b, , c] = xT.shape as [number, number, number];
    const step = attentionStep2d(weights, tf.reshape(xT, [b, c]) as tf.Tensor2D, cache, options.heads);
    return { output: tf.reshape(step.output, [b, 1, c]) as tf.Tensor3D, cache: step.cache };
  });
}

/**
 * {@link attentionStep} on a rank-2 input `[B, C]` (the decoding loop keeps one position as a
 * matrix, so no reshapes are needed around the projections): the output `[B, C]` and the
 * extended cache. Call inside a tidy.
 *
 * @internal
 */
export function attentionStep2d(
  weights: AttentionWeights,
  x: tf.Tensor2D,
  cache: KeyValueCache | null,
  heads: number,
): { output: tf.Tensor2D; cache: KeyValueCache } {
  const [b, c] = x.shape;
  const qkv = linear(x, weights.qkvKernel, weights.qkvBias);
  const [q, k, v] = tf.split(qkv, 3, -1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  // One position: splitting heads is a reshape (no transpose), [B, C] → [B, H, 1, D] or [B, H, D, 1].
  const newKeys = tf.reshape(k, [b, heads, c / heads, 1]) as tf.Tensor4D;
  const newValues = tf.reshape(v, [b, heads, 1, c / heads]) as tf.Tensor4D;
  const keys = cache === null ? newKeys : (tf.concat([cache.keys, newKeys], 3) as tf.Tensor4D);
  const values = cache === null ? newValues : (tf.concat([cache.values, newValues], 2) as tf.Tensor4D);
  const attended = attend(
    tf.reshape(q, [b, heads, 1, c / heads]) as tf.Tensor4D,
    { transposed: keys },
    values,
    undefined,
    0,
    false,
    undefined,
  );
  const output = linear(tf.reshape(attended, [b, c]), weights.projectionKernel, weights.projectionBias) as tf.Tensor2D;
  return { output, cache: { keys, values } };
}

/** Arguments of {@link CausalSelfAttention}. @category Layers */
export interface CausalSelfAttentionArgs {
  /** Number of heads; must divide the input width. */
  heads: number;
  /** Dropout on the attention weights. Default 0. */
  attentionDropout?: number;
  /** Dropout on the output. Default 0. */
  residualDropout?: number;
  /** Whether the projections have biases. Default true. */
  useBias?: boolean;
  /** Standard deviation of the normal initializer of the fused projection. Default 0.02 (GPT-2). */
  stddev?: number;
  /** Standard deviation for the output projection. Default `stddev`. */
  projectionStddev?: number;
  /** Seed of the initializers and dropout. Default: unseeded. */
  seed?: number;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

const ATTENTION_KEYS = [
  'heads',
  'attentionDropout',
  'residualDropout',
  'useBias',
  'stddev',
  'projectionStddev',
  'seed',
  ...BASE_LAYER_KEYS,
];

/** Validates the hyperparameters shared by the attention layer and the transformer block. @internal */
export function checkAttentionArgs(args: Record<string, unknown>, fn: string): void {
  assertPositiveInt(args['heads'], 'config.heads', fn);
  for (const key of ['attentionDropout', 'residualDropout', 'dropout']) {
    if (args[key] !== undefined) assertNumber(args[key], `config.${key}`, fn, { min: 0, max: 1, maxExclusive: true });
  }
  for (const key of ['stddev', 'projectionStddev']) {
    if (args[key] !== undefined) assertNumber(args[key], `config.${key}`, fn, { min: 0, minExclusive: true });
  }
  if (args['seed'] !== undefined) assertNumber(args['seed'], 'config.seed', fn, { integer: true });
  if (args['useBias'] !== undefined && typeof args['useBias'] !== 'boolean') {
    throw new ConfigError({ fn, arg: 'config.useBias', expected: 'be a boolean', received: describe(args['useBias']) });
  }
}

/**
 * Causal multi-head self-attention as a registered layer: {@link causalSelfAttention} with its
 * own weights (`qkv_kernel` `[C, 3C]`, `projection_kernel` `[C, C]`, and their biases).
 * Input and output `[B, T, C]`. Use {@link CausalSelfAttention.step} (or the pure
 * {@link attentionStep}) to decode one position at a time with a key/value cache.
 *
 * Registered as `genblocks>CausalSelfAttention`.
 *
 * @see https://arxiv.org/abs/1706.03762 (Vaswani et al. 2017)
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 32] });
 * const y = new layers.CausalSelfAttention({ heads: 4, seed: 1 }).apply(x); // [null, 16, 32]
 * ```
 * @category Layers
 */
export class CausalSelfAttention extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>CausalSelfAttention';

  /** Number of heads. */
  readonly heads: number;
  /** Attention-weight dropout rate. */
  readonly attentionDropout: number;
  /** Output dropout rate. */
  readonly residualDropout: number;
  /** Whether the projections have biases. */
  readonly useBias: boolean;
  /** Initializer standard deviation of the fused projection. */
  readonly stddev: number;
  /** Initializer standard deviation of the output projection. */
  readonly projectionStddev: number;
  /** Seed, if any. */
  readonly seed: number | undefined;
  private calls = 0;
  private qkvKernel: tfl.LayerVariable | null = null;
  private qkvBias: tfl.LayerVariable | null = null;
  private projectionKernel: tfl.LayerVariable | null = null;
  private projectionBias: tfl.LayerVariable | null = null;

  constructor(args: CausalSelfAttentionArgs) {
    if (args === null || typeof args !== 'object') {
      throw new ArgumentError({ fn: FN, arg: 'args', expected: 'be an object with heads', received: describe(args) });
    }
    assertKnownKeys(args, ATTENTION_KEYS, 'config', FN);
    checkAttentionArgs(args as unknown as Record<string, unknown>, FN);
    const { heads, attentionDropout = 0, residualDropout = 0, useBias = true, stddev = 0.02, seed, name } = args;
    super({ name: name ?? defaultLayerName('causal_self_attention'), trainable: args.trainable });
    this.heads = heads;
    this.attentionDropout = attentionDropout;
    this.residualDropout = residualDropout;
    this.useBias = useBias;
    this.stddev = stddev;
    this.projectionStddev = args.projectionStddev ?? stddev;
    this.seed = seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const width = shape[shape.length - 1];
    if (shape.length !== 3 || width == null) {
      throw new ShapeError({
        fn: FN,
        arg: 'inputs',
        expected: 'have shape [B, T, C] with a known C',
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    checkHeads(width, this.heads, FN, 'config.heads');
    const normal = (std: number, offset: number) => tfl.initializers.randomNormal(normalInit(std, this.seed, offset));
    this.qkvKernel = this.addWeight('qkv_kernel', [width, 3 * width], 'float32', normal(this.stddev, 0));
    this.projectionKernel = this.addWeight('projection_kernel', [width, width], 'float32', normal(this.projectionStddev, 1));
    if (this.useBias) {
      this.qkvBias = this.addWeight('qkv_bias', [3 * width], 'float32', tfl.initializers.zeros());
      this.projectionBias = this.addWeight('projection_bias', [width], 'float32', tfl.initializers.zeros());
    }
    this.built = true;
  }

  /** The current weights as tensors (owned by the layer's variables: do not dispose). */
  attentionWeights(): AttentionWeights {
    return {
      qkvKernel: this.qkvKernel!.read() as tf.Tensor2D,
      projectionKernel: this.projectionKernel!.read() as tf.Tensor2D,
      ...(this.qkvBias ? { qkvBias: this.qkvBias.read() as tf.Tensor1D } : {}),
      ...(this.projectionBias ? { projectionBias: this.projectionBias.read() as tf.Tensor1D } : {}),
    };
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return causalSelfAttention(x, this.attentionWeights(), {
      heads: this.heads,
      attentionDropout: this.attentionDropout,
      residualDropout: this.residualDropout,
      training: kwargs?.['training'] === true,
      // A fresh pair of masks per training call: seed + 1000 + 2k for call k.
      seed: this.seed === undefined || kwargs?.['training'] !== true ? undefined : this.seed + 1000 + 2 * this.calls++,
    });
  }

  /** One decoding step with a key/value cache: {@link attentionStep} with this layer's weights. */
  step(xT: tf.Tensor, cache: KeyValueCache | null): AttentionStepResult {
    return attentionStep(this.attentionWeights(), xT, cache, { heads: this.heads });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      heads: this.heads,
      attentionDropout: this.attentionDropout,
      residualDropout: this.residualDropout,
      useBias: this.useBias,
      stddev: this.stddev,
      projectionStddev: this.projectionStddev,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>CausalSelfAttention` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(CausalSelfAttention, 'genblocks', 'CausalSelfAttention');
