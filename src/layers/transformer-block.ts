/**
 * The pre-LayerNorm transformer block of GPT-2 / nanoGPT: `x + attn(ln₁(x))`, then
 * `+ mlp(ln₂(x))`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertPositiveInt, describe, formatShape } from '../validation.js';
import { attentionStep2d, causalSelfAttentionRows, checkAttentionArgs, checkHeads } from './causal-self-attention.js';
import type { AttentionStepResult, AttentionWeights, KeyValueCache } from './causal-self-attention.js';
import { BASE_LAYER_KEYS, SeededDropout, defaultLayerName, gelu, layerNorm, linear, normalInit } from './ops.js';

const FN = 'layers.TransformerBlock';

/** The weights of a {@link TransformerBlock}. @category Layers */
export interface TransformerBlockWeights {
  /** First layer norm's scale `[C]`. */
  norm1Gamma: tf.Tensor1D;
  /** First layer norm's shift `[C]` (absent without biases). */
  norm1Beta?: tf.Tensor1D;
  /** The attention's weights. */
  attention: AttentionWeights;
  /** Second layer norm's scale `[C]`. */
  norm2Gamma: tf.Tensor1D;
  /** Second layer norm's shift `[C]`. */
  norm2Beta?: tf.Tensor1D;
  /** MLP expansion `[C, mlpRatio·C]`. */
  mlpKernel: tf.Tensor2D;
  /** MLP expansion bias `[mlpRatio·C]`. */
  mlpBias?: tf.Tensor1D;
  /** MLP projection back `[mlpRatio·C, C]`. */
  mlpProjectionKernel: tf.Tensor2D;
  /** MLP projection bias `[C]`. */
  mlpProjectionBias?: tf.Tensor1D;
}

/** Arguments of {@link TransformerBlock}. @category Layers */
export interface TransformerBlockArgs {
  /** Number of attention heads; must divide the width. */
  heads: number;
  /** Hidden width of the MLP as a multiple of the block width. Default 4. */
  mlpRatio?: number;
  /** Dropout on the attention weights and on both residual branches (training only). Default 0. */
  dropout?: number;
  /** Whether the linear maps and the layer norms have biases (nanoGPT's `bias`). Default true. */
  useBias?: boolean;
  /** Standard deviation of the normal initializer of the linear maps. Default 0.02. */
  stddev?: number;
  /**
   * Standard deviation for the two projections into the residual stream. Default `stddev`;
   * GPT-2 uses `stddev / √(2·layers)` ({@link nets.gpt} sets it).
   */
  projectionStddev?: number;
  /** ε of the layer norms. Default 1e-5 (PyTorch's). */
  epsilon?: number;
  /** Seed of the initializers and dropout. Default: unseeded. */
  seed?: number;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

/** Options of {@link transformerBlock}. @category Layers */
export interface TransformerBlockOptions {
  /** Number of heads. */
  heads: number;
  /** Dropout rate (training only). Default 0. */
  dropout?: number;
  /** Layer-norm ε. Default 1e-5. */
  epsilon?: number;
  /** Whether dropout is active. Default false. */
  training?: boolean;
  /** Seed of the dropout masks (`seed`, `seed + 1` in the attention, `seed + 2` on the MLP). Default: unseeded. */
  seed?: number;
}

function mlp(x: tf.Tensor, w: TransformerBlockWeights): tf.Tensor {
  return linear(gelu(linear(x, w.mlpKernel, w.mlpBias)), w.mlpProjectionKernel, w.mlpProjectionBias);
}

/**
 * A pre-LN transformer block (GPT-2, Radford et al. 2019; nanoGPT's `Block`) on `x` `[B, T, C]`:
 *
 *     x ← x + attention(LN₁(x)),   x ← x + W₂ GELU(W₁ LN₂(x) + b₁) + b₂
 *
 * with causal attention, so each position depends only on itself and earlier positions.
 *
 * @see https://d4mucfpksywv.cloudfront.net/better-language-models/language_models_are_unsupervised_multitask_learners.pdf (GPT-2, §2.3)
 * @param x Input `[B, T, C]`.
 * @param weights See {@link TransformerBlockWeights}.
 * @param options See {@link TransformerBlockOptions}.
 * @returns `[B, T, C]`.
 * @example
 * ```ts
 * const y = layers.transformerBlock(x, weights, { heads: 4 });
 * ```
 * @category Layers
 */
export function transformerBlock(x: tf.Tensor, weights: TransformerBlockWeights, options: TransformerBlockOptions): tf.Tensor3D {
  const fn = 'layers.transformerBlock';
  if (!(x instanceof tf.Tensor) || x.rank !== 3) {
    throw new ShapeError({ fn, arg: 'x', expected: 'be a tensor of rank 3 [B, T, C]', received: describe(x) });
  }
  const { heads, dropout = 0, epsilon = 1e-5, training = false, seed } = options;
  checkHeads(x.shape[2]!, heads, fn);
  return tf.tidy(() => {
    // The residual stream as rows [B·T, C]: the linear maps and layer norms need no reshapes.
    const [b, t, c] = x.shape as [number, number, number];
    const rows = tf.reshape(x, [b * t, c]) as tf.Tensor2D;
    const attended = causalSelfAttentionRows(
      layerNorm(rows, weights.norm1Gamma, weights.norm1Beta, epsilon) as tf.Tensor2D,
      b,
      t,
      weights.attention,
      heads,
      dropout,
      dropout,
      training,
      new SeededDropout(seed),
    );
    const h = tf.add(rows, attended);
    const m = new SeededDropout(seed === undefined ? undefined : seed + 2).apply(
      mlp(layerNorm(h, weights.norm2Gamma, weights.norm2Beta, epsilon), weights),
      dropout,
      training,
    );
    return tf.reshape(tf.add(h, m), [b, t, c]) as tf.Tensor3D;
  });
}

/**
 * One decoding step of {@link transformerBlock} for the new position `xT` `[B, 1, C]`, with the
 * attention's key/value cache (see {@link attentionStep}). Inference only (no dropout).
 *
 * @param xT The new position `[B, 1, C]`.
 * @param weights See {@link TransformerBlockWeights}.
 * @param cache The block's cache, or `null` at the first position.
 * @param options `heads` and `epsilon` (default 1e-5).
 * @returns See {@link AttentionStepResult}: `output` `[B, 1, C]` and the extended cache.
 * @example
 * ```ts
 * const { output, cache } = layers.transformerBlockStep(xT, weights, null, { heads: 4 });
 * ```
 * @category Layers
 */
export function transformerBlockStep(
  xT: tf.Tensor,
  weights: TransformerBlockWeights,
  cache: KeyValueCache | null,
  options: { heads: number; epsilon?: number },
): AttentionStepResult {
  const fn = 'layers.transformerBlockStep';
  if (!(xT instanceof tf.Tensor) || xT.rank !== 3 || xT.shape[1] !== 1) {
    throw new ShapeError({ fn, arg: 'xT', expected: 'be a tensor of shape [B, 1, C]', received: describe(xT) });
  }
  checkHeads(xT.shape[2]!, options.heads, fn);
  const epsilon = options.epsilon ?? 1e-5;
  return tf.tidy(() => {
    const [b, , c] = xT.shape as [number, number, number];
    const step = transformerBlockStep2d(tf.reshape(xT, [b, c]) as tf.Tensor2D, weights, cache, options.heads, epsilon);
    return { output: tf.reshape(step.output, [b, 1, c]) as tf.Tensor3D, cache: step.cache };
  });
}

/** {@link transformerBlockStep} on one position as a matrix `[B, C]` (call inside a tidy). @internal */
export function transformerBlockStep2d(
  x: tf.Tensor2D,
  weights: TransformerBlockWeights,
  cache: KeyValueCache | null,
  heads: number,
  epsilon: number,
): { output: tf.Tensor2D; cache: KeyValueCache } {
  const step = attentionStep2d(
    weights.attention,
    layerNorm(x, weights.norm1Gamma, weights.norm1Beta, epsilon) as tf.Tensor2D,
    cache,
    heads,
  );
  const h = tf.add(x, step.output);
  const output = tf.add(h, mlp(layerNorm(h, weights.norm2Gamma, weights.norm2Beta, epsilon), weights)) as tf.Tensor2D;
  return { output, cache: step.cache };
}

const BLOCK_KEYS = ['heads', 'mlpRatio', 'dropout', 'useBias', 'stddev', 'projectionStddev', 'epsilon', 'seed', ...BASE_LAYER_KEYS];

/**
 * {@link transformerBlock} as a registered layer with its own weights (names as nanoGPT's:
 * `ln_1`, `attn.c_attn`, `attn.c_proj`, `ln_2`, `mlp.c_fc`, `mlp.c_proj`). Input and output
 * `[B, T, C]`; {@link TransformerBlock.step} decodes one position with a key/value cache.
 *
 * Registered as `genblocks>TransformerBlock`.
 *
 * @see https://github.com/karpathy/nanoGPT/blob/master/model.py (`Block`)
 * @example
 * ```ts
 * const x = tf.input({ shape: [16, 32] });
 * const y = new layers.TransformerBlock({ heads: 4, seed: 1 }).apply(x); // [null, 16, 32]
 * ```
 * @category Layers
 */
export class TransformerBlock extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>TransformerBlock';

  /** Number of heads. */
  readonly heads: number;
  /** MLP width multiple. */
  readonly mlpRatio: number;
  /** Dropout rate. */
  readonly dropout: number;
  /** Whether linear maps and norms have biases. */
  readonly useBias: boolean;
  /** Initializer standard deviation. */
  readonly stddev: number;
  /** Initializer standard deviation of the residual projections. */
  readonly projectionStddev: number;
  /** Layer-norm ε. */
  readonly epsilon: number;
  /** Seed, if any. */
  readonly seed: number | undefined;
  private calls = 0;
  private variables: Record<string, tfl.LayerVariable> = {};

  constructor(args: TransformerBlockArgs) {
    if (args === null || typeof args !== 'object') {
      throw new ArgumentError({ fn: FN, arg: 'args', expected: 'be an object with heads', received: describe(args) });
    }
    assertKnownKeys(args, BLOCK_KEYS, 'config', FN);
    checkAttentionArgs(args as unknown as Record<string, unknown>, FN);
    if (args.mlpRatio !== undefined) assertPositiveInt(args.mlpRatio, 'config.mlpRatio', FN);
    if (args.epsilon !== undefined) assertNumber(args.epsilon, 'config.epsilon', FN, { min: 0, minExclusive: true });
    super({ name: args.name ?? defaultLayerName('transformer_block'), trainable: args.trainable });
    this.heads = args.heads;
    this.mlpRatio = args.mlpRatio ?? 4;
    this.dropout = args.dropout ?? 0;
    this.useBias = args.useBias ?? true;
    this.stddev = args.stddev ?? 0.02;
    this.projectionStddev = args.projectionStddev ?? this.stddev;
    this.epsilon = args.epsilon ?? 1e-5;
    this.seed = args.seed;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as tfl.Shape;
    const c = shape[shape.length - 1];
    if (shape.length !== 3 || c == null) {
      throw new ShapeError({
        fn: FN,
        arg: 'inputs',
        expected: 'have shape [B, T, C] with a known C',
        received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
      });
    }
    checkHeads(c, this.heads, FN, 'config.heads');
    const hidden = this.mlpRatio * c;
    const normal = (std: number, offset: number) => tfl.initializers.randomNormal(normalInit(std, this.seed, offset));
    const add = (name: string, shape: number[], init: ReturnType<typeof tfl.initializers.zeros>) =>
      (this.variables[name] = this.addWeight(name, shape, 'float32', init));
    add('ln_1/gamma', [c], tfl.initializers.ones());
    if (this.useBias) add('ln_1/beta', [c], tfl.initializers.zeros());
    add('attn/c_attn/kernel', [c, 3 * c], normal(this.stddev, 0));
    if (this.useBias) add('attn/c_attn/bias', [3 * c], tfl.initializers.zeros());
    add('attn/c_proj/kernel', [c, c], normal(this.projectionStddev, 1));
    if (this.useBias) add('attn/c_proj/bias', [c], tfl.initializers.zeros());
    add('ln_2/gamma', [c], tfl.initializers.ones());
    if (this.useBias) add('ln_2/beta', [c], tfl.initializers.zeros());
    add('mlp/c_fc/kernel', [c, hidden], normal(this.stddev, 2));
    if (this.useBias) add('mlp/c_fc/bias', [hidden], tfl.initializers.zeros());
    add('mlp/c_proj/kernel', [hidden, c], normal(this.projectionStddev, 3));
    if (this.useBias) add('mlp/c_proj/bias', [c], tfl.initializers.zeros());
    this.built = true;
  }

  /** The current weights as tensors (owned by the layer's variables: do not dispose). */
  blockWeights(): TransformerBlockWeights {
    const read = <T extends tf.Tensor>(name: string) => this.variables[name]?.read() as T | undefined;
    const optional = <K extends string>(key: K, name: string) => {
      const t = read<tf.Tensor1D>(name);
      return (t === undefined ? {} : { [key]: t }) as Partial<Record<K, tf.Tensor1D>>;
    };
    return {
      norm1Gamma: read<tf.Tensor1D>('ln_1/gamma')!,
      ...optional('norm1Beta', 'ln_1/beta'),
      attention: {
        qkvKernel: read<tf.Tensor2D>('attn/c_attn/kernel')!,
        projectionKernel: read<tf.Tensor2D>('attn/c_proj/kernel')!,
        ...optional('qkvBias', 'attn/c_attn/bias'),
        ...optional('projectionBias', 'attn/c_proj/bias'),
      },
      norm2Gamma: read<tf.Tensor1D>('ln_2/gamma')!,
      ...optional('norm2Beta', 'ln_2/beta'),
      mlpKernel: read<tf.Tensor2D>('mlp/c_fc/kernel')!,
      ...optional('mlpBias', 'mlp/c_fc/bias'),
      mlpProjectionKernel: read<tf.Tensor2D>('mlp/c_proj/kernel')!,
      ...optional('mlpProjectionBias', 'mlp/c_proj/bias'),
    };
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return inputShape as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return transformerBlock(x, this.blockWeights(), {
      heads: this.heads,
      dropout: this.dropout,
      epsilon: this.epsilon,
      training: kwargs?.['training'] === true,
      // Fresh masks per training call: seeds seed + 1000 + 3k … + 2 for call k.
      seed: this.seed === undefined || kwargs?.['training'] !== true ? undefined : this.seed + 1000 + 3 * this.calls++,
    });
  }

  /** One decoding step with a key/value cache: {@link transformerBlockStep} with this layer's weights. */
  step(xT: tf.Tensor, cache: KeyValueCache | null): AttentionStepResult {
    return transformerBlockStep(xT, this.blockWeights(), cache, { heads: this.heads, epsilon: this.epsilon });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      heads: this.heads,
      mlpRatio: this.mlpRatio,
      dropout: this.dropout,
      useBias: this.useBias,
      stddev: this.stddev,
      projectionStddev: this.projectionStddev,
      epsilon: this.epsilon,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>TransformerBlock` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(TransformerBlock, 'genblocks', 'TransformerBlock');
