/**
 * Token plus learned position embeddings (GPT-2's `wte` + `wpe`), whose token table also serves
 * as the tied output head.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ShapeError } from '../errors.js';
import { assertKnownKeys, assertNonNegativeInt, assertNumber, assertPositiveInt, describe, formatShape } from '../validation.js';
import { BASE_LAYER_KEYS, SeededDropout, defaultLayerName, normalInit } from './ops.js';

const FN = 'layers.TokenPositionEmbedding';

/** Arguments of {@link TokenPositionEmbedding}. @category Layers */
export interface TokenPositionEmbeddingArgs {
  /** Number of distinct tokens V. */
  vocabSize: number;
  /** Longest sequence T_max (rows of the position table). */
  blockSize: number;
  /** Embedding width C. */
  width: number;
  /** Dropout on the summed embeddings (training only). Default 0. */
  dropout?: number;
  /** Standard deviation of the normal initializer. Default 0.02 (GPT-2). */
  stddev?: number;
  /** Seed of the initializers and dropout. Default: unseeded. */
  seed?: number;
  /** Layer name. */
  name?: string;
  /** Accepted from tfjs-layers' deserialization. */
  trainable?: boolean;
}

/**
 * The padded head is for batches of positions: fewer rows than this (one position per step in
 * the tensor decoding engine) take the plain product.
 */
const MIN_PRODUCT_ROWS = 8;

/**
 * `E[ids] + P` for ids `[B, T]`, the token table `E` `[V, C]` and the positions' rows `P`
 * `[T, C]`: `[B, T, C]`, with the gather's gradient written out (`dE` summed per id by
 * `unsortedSegmentSum`, `dP` summed over the batch), so that the broadcast add's gradient is not
 * taped. The gather checks the ids (an id outside `[0, V)` is an error on cpu and wasm; with
 * genblocks' kernels wasm's `GatherV2` copies whole rows instead of its stock scalar loop).
 */
function embedTokensAndPositions(ids: tf.Tensor2D, table: tf.Tensor2D, positions: tf.Tensor2D): tf.Tensor3D {
  const [b, t] = ids.shape;
  const [vocabulary, width] = table.shape;
  const flatIds = tf.reshape(ids, [b * t]) as tf.Tensor1D;
  const embed = tf.customGrad(((e: tf.Tensor2D, p: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([flatIds]);
    const rows = tf.gather(e, flatIds);
    return {
      value: tf.add(tf.reshape(rows, [b, t, width]), p),
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => [
        tf.unsortedSegmentSum(tf.reshape(dy, [b * t, width]), saved[0] as tf.Tensor1D, vocabulary),
        tf.sum(dy, 0),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (e: tf.Tensor2D, p: tf.Tensor2D) => tf.Tensor3D;
  return embed(table, positions);
}

/**
 * The tied head's logits `h Eᵀ` for rows `h` `[N, C]` and the token table `E` `[V, C]`: `[N, V]`,
 * with `E` padded by zero rows to a multiple of 8 tokens for the product (as nanoGPT pads GPT-2's
 * vocabulary to 50304), and the gradient written out:
 *
 *     dh = dlogits · E,   dE = (first V rows of) [dlogits | 0]ᵀ · h
 *
 * so that all three products fit the wasm gemm's 4x8 tiles (a vocabulary of 98 does not: its
 * products took XNNPACK or the transposing fallback, about 3.5 ms of a GPT step against about
 * 1 ms). The padding is copied by `concat`, the logits of the padding sliced off.
 */
function tiedLogits(hidden: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor2D {
  const [rows, width] = hidden.shape;
  const vocabulary = table.shape[0];
  const padding = (8 - (vocabulary % 8)) % 8;
  if (padding === 0 || rows < MIN_PRODUCT_ROWS) return tf.matMul(hidden, table, false, true);
  const head = tf.customGrad(((h: tf.Tensor2D, e: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([h, e]);
    const padded = tf.concat([e, tf.zeros([padding, width])], 0) as tf.Tensor2D;
    return {
      value: tf.slice(tf.matMul(h, padded, false, true), [0, 0], [rows, vocabulary]),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sh, se] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dyPadded = tf.concat([dy, tf.zeros([rows, padding])], 1) as tf.Tensor2D;
        return [tf.matMul(dy, se), tf.slice(tf.matMul(dyPadded, sh, true, false), [0, 0], [vocabulary, width])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (h: tf.Tensor2D, e: tf.Tensor2D) => tf.Tensor2D;
  return head(hidden, table);
}

/**
 * Embeds token ids and their positions, and (applied a second time, to hidden states) maps back
 * to logits with the same token table:
 *
 *     embed:  ids [B, T] (int32) → E[ids] + P[offset … offset+T−1]        [B, T, C]
 *     head:   h [B, T, C] (float32) → h Eᵀ                                [B, T, V]
 *
 * Applying one layer twice in a functional model shares its weights, which is how the output
 * head is tied to the token embedding (Press & Wolf 2017) in a model that still saves and loads
 * with plain `model.save` / `tf.loadLayersModel`: the input's rank chooses the role (rank 2:
 * ids; rank 3: hidden states). Weights: `token_embeddings` `[V, C]`, `position_embeddings`
 * `[T_max, C]`.
 *
 * Registered as `genblocks>TokenPositionEmbedding`.
 *
 * @see https://arxiv.org/abs/1608.05859 (Press & Wolf 2017, tied input and output embeddings)
 * @example
 * ```ts
 * const ids = tf.input({ shape: [null], dtype: 'int32' });
 * const embedding = new layers.TokenPositionEmbedding({ vocabSize: 65, blockSize: 64, width: 32 });
 * const h = embedding.apply(ids) as tf.SymbolicTensor;      // [null, null, 32]
 * const logits = embedding.apply(h) as tf.SymbolicTensor;   // [null, null, 65], tied
 * ```
 * @category Layers
 */
export class TokenPositionEmbedding extends tfl.layers.Layer {
  /** Registered class name (package prefix `genblocks>`). */
  static className = 'genblocks>TokenPositionEmbedding';

  /** Vocabulary size V. */
  readonly vocabSize: number;
  /** Longest sequence. */
  readonly blockSize: number;
  /** Width C. */
  readonly width: number;
  /** Embedding dropout rate. */
  readonly dropout: number;
  /** Initializer standard deviation. */
  readonly stddev: number;
  /** Seed, if any. */
  readonly seed: number | undefined;
  private readonly dropoutSource: SeededDropout;
  private tokenEmbeddings: tfl.LayerVariable | null = null;
  private positionEmbeddings: tfl.LayerVariable | null = null;
  /** Symbolic applications as the tied head (each adds a reference that no model releases). */
  private tiedApplications = 0;

  constructor(args: TokenPositionEmbeddingArgs) {
    if (args === null || typeof args !== 'object') {
      throw new ArgumentError({
        fn: FN,
        arg: 'args',
        expected: 'be an object with vocabSize, blockSize and width',
        received: describe(args),
      });
    }
    assertKnownKeys(args, ['vocabSize', 'blockSize', 'width', 'dropout', 'stddev', 'seed', ...BASE_LAYER_KEYS], 'config', FN);
    assertPositiveInt(args.vocabSize, 'config.vocabSize', FN);
    assertPositiveInt(args.blockSize, 'config.blockSize', FN);
    assertPositiveInt(args.width, 'config.width', FN);
    if (args.dropout !== undefined) assertNumber(args.dropout, 'config.dropout', FN, { min: 0, max: 1, maxExclusive: true });
    if (args.stddev !== undefined) assertNumber(args.stddev, 'config.stddev', FN, { min: 0, minExclusive: true });
    if (args.seed !== undefined) assertNumber(args.seed, 'config.seed', FN, { integer: true });
    super({ name: args.name ?? defaultLayerName('token_position_embedding'), trainable: args.trainable });
    this.vocabSize = args.vocabSize;
    this.blockSize = args.blockSize;
    this.width = args.width;
    this.dropout = args.dropout ?? 0;
    this.stddev = args.stddev ?? 0.02;
    this.seed = args.seed;
    this.dropoutSource = new SeededDropout(args.seed === undefined ? undefined : args.seed + 1000);
  }

  override build(): void {
    const normal = (offset: number) => tfl.initializers.randomNormal(normalInit(this.stddev, this.seed, offset));
    this.tokenEmbeddings = this.addWeight('token_embeddings', [this.vocabSize, this.width], 'float32', normal(0));
    this.positionEmbeddings = this.addWeight('position_embeddings', [this.blockSize, this.width], 'float32', normal(1));
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    if (shape.length === 2) return [...shape, this.width];
    if (shape.length === 3) return [shape[0]!, shape[1]!, this.vocabSize];
    throw new ShapeError({
      fn: FN,
      arg: 'inputs',
      expected: 'be token ids [B, T] or hidden states [B, T, C]',
      received: `shape ${formatShape(shape.map((d) => d ?? -1))}`,
    });
  }

  /**
   * Embeds ids `[B, T]` placed at positions `offset … offset+T−1` (the incremental form used
   * by generation; `call` uses offset 0).
   */
  embed(ids: tf.Tensor, offset = 0, training = false): tf.Tensor3D {
    assertNonNegativeInt(offset, 'offset', `${FN}.embed`);
    const t = ids.shape[1]!;
    if (ids.rank !== 2 || offset + t > this.blockSize) {
      throw new ShapeError({
        fn: `${FN}.embed`,
        arg: 'ids',
        expected: `be token ids [B, T] with offset + T <= blockSize ${this.blockSize} (offset ${offset})`,
        received: `shape ${formatShape(ids.shape)}`,
        hint: 'Crop the context to the last blockSize tokens',
      });
    }
    return tf.tidy(() => {
      const positions = tf.slice(this.positionEmbeddings!.read(), [offset, 0], [t, this.width]) as tf.Tensor2D;
      const summed = embedTokensAndPositions(tf.cast(ids, 'int32') as tf.Tensor2D, this.tokenEmbeddings!.read() as tf.Tensor2D, positions);
      return this.dropoutSource.apply(summed, this.dropout, training) as tf.Tensor3D;
    });
  }

  /** The tied head: hidden states `[B, T, C]` → logits `h Eᵀ` `[B, T, V]`. */
  logits(hidden: tf.Tensor): tf.Tensor3D {
    if (hidden.rank !== 3 || hidden.shape[2] !== this.width) {
      throw new ShapeError({
        fn: `${FN}.logits`,
        arg: 'hidden',
        expected: `have shape [B, T, ${this.width}]`,
        received: `shape ${formatShape(hidden.shape)}`,
      });
    }
    return tf.tidy(() => {
      const [b, t, c] = hidden.shape as [number, number, number];
      const projected = tiedLogits(tf.reshape(hidden, [b * t, c]) as tf.Tensor2D, this.tokenEmbeddings!.read() as tf.Tensor2D);
      return tf.reshape(projected, [b, t, this.vocabSize]) as tf.Tensor3D;
    });
  }

  override apply(
    inputs: tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[],
    kwargs?: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] | tfl.SymbolicTensor | tfl.SymbolicTensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (x instanceof tfl.SymbolicTensor && x.rank === 3) this.tiedApplications++;
    return super.apply(inputs, kwargs);
  }

  /**
   * Releases one reference (tfjs-layers counts one per symbolic application). A model that
   * uses this layer twice (embedding and tied head) releases it once, so when only the tied
   * applications' references remain, they are released too and the weights are freed.
   */
  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    let result = super.dispose();
    while (
      result.refCountAfterDispose !== null &&
      result.refCountAfterDispose > 0 &&
      result.refCountAfterDispose <= this.tiedApplications
    ) {
      this.tiedApplications--;
      const next = super.dispose();
      result = {
        refCountAfterDispose: next.refCountAfterDispose,
        numDisposedVariables: result.numDisposedVariables + next.numDisposedVariables,
      };
    }
    return result;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (x.rank === 2) return this.embed(x, 0, kwargs?.['training'] === true);
    return this.logits(x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      vocabSize: this.vocabSize,
      blockSize: this.blockSize,
      width: this.width,
      dropout: this.dropout,
      stddev: this.stddev,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

// Import-time side effect (this file is named in package.json `sideEffects`): the layer is saved
// as `genblocks>TokenPositionEmbedding` and found again by tf.loadLayersModel in any program whose code reaches
// this file, also in a bundle that keeps only part of genblocks.
tf.serialization.registerClass(TokenPositionEmbedding, 'genblocks', 'TokenPositionEmbedding');
