/**
 * Incremental decoding of a {@link nets.gpt} model with a key/value cache per block.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError, ShapeError } from '../errors.js';
import type { KeyValueCache } from '../layers/causal-self-attention.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { TokenPositionEmbedding } from '../layers/token-position-embedding.js';
import { layerNorm, linear } from '../layers/ops.js';
import { TransformerBlock, transformerBlock, transformerBlockStep2d } from '../layers/transformer-block.js';
import { assertKnownKeys, assertNonNegativeInt, assertOneOf, describe } from '../validation.js';
import { ArrayDecoder } from './array-decoder.js';

const FN = 'autoregressive.CachedDecoder';

/** The parts of a GPT built by `nets.gpt`, found in its layers. @internal */
export interface GptParts {
  embedding: TokenPositionEmbedding;
  blocks: TransformerBlock[];
  norm: tfl.layers.Layer;
  /** Untied head (a dense layer); undefined when the head is the embedding itself. */
  head: tfl.layers.Layer | undefined;
}

/** The GPT structure of `model` (embedding, blocks, final norm, head), or undefined when it has another structure. @internal */
export function gptParts(model: tfl.LayersModel): GptParts | undefined {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const [embedding, ...rest] = layers;
  if (!(embedding instanceof TokenPositionEmbedding)) return undefined;
  const blocks = rest.filter((l): l is TransformerBlock => l instanceof TransformerBlock);
  const after = rest.slice(blocks.length);
  if (blocks.length === 0 || rest.slice(0, blocks.length).some((l, i) => l !== blocks[i])) return undefined;
  const [norm, head] = after;
  if (norm === undefined || !(norm instanceof LayerNorm || norm.getClassName() === 'LayerNormalization')) return undefined;
  if (after.length === 1) return { embedding, blocks, norm, head: undefined };
  if (after.length === 2 && head!.getClassName() === 'Dense') return { embedding, blocks, norm, head };
  return undefined;
}

/** Options of {@link CachedDecoder}. @category Autoregressive */
export interface CachedDecoderOptions {
  /**
   * How each step is computed. `'arrays'` (default): the weights are read once into typed
   * arrays (again after any of the model's variables is assigned) and each token runs without
   * a tensor or kernel per token, its matrix-vector products in a small SIMD WebAssembly module,
   * the keys and values in preallocated arrays: the fast form for models of nanoGPT's size.
   * `'tensors'`: tfjs ops on the active backend, reading the layers' weights at every step (the
   * reference form, and the one for a large model on a GPU backend). Where the engine lacks
   * WebAssembly SIMD, or the model's final norm or head has a form the arrays do not reproduce
   * (an activation on the head, a norm over other axes), the decoder uses `'tensors'`.
   */
  engine?: 'arrays' | 'tensors';
}

const OPTION_KEYS = ['engine'];

/**
 * Decodes a {@link nets.gpt} model one token at a time, keeping each block's keys and values
 * (a key/value cache), so that token `t` costs one position's work instead of a pass over the
 * whole prefix. `step(id)` feeds the next token and returns the logits for the token after it,
 * equal (to float32 rounding) to the last row of `model.predict` over the same prefix;
 * `stepData(id)` returns them as a `Float32Array` without a tensor.
 *
 * By default (`engine: 'arrays'`) the step runs on typed arrays: the weights are read once per
 * model (and again after a variable of the model is assigned, e.g. by an optimizer step), the
 * products run in a SIMD WebAssembly module, the cache is `2 · layers` preallocated arrays of
 * `blockSize · width` floats written in place, and no tensor is created except the one `step`
 * returns. With `engine: 'tensors'` each step runs tfjs
 * ops and the cache holds `2 · layers` tensors of shape `[1, heads, t, width/heads]`; call
 * `dispose()` (or `reset()`) to free them. Dropout is never applied (inference). At most
 * `blockSize` tokens fit: `step` throws after that. `prefill(ids)` empties the cache and feeds
 * up to `blockSize` tokens from position 0 in one pass (layer by layer over the positions,
 * rather than token by token); {@link generate}'s `overflow: 'shift'` uses it to go on past
 * `blockSize` with the cache (a context shift), its `overflow: 'crop'` (default) recomputes
 * the sliding window without the cache, as nanoGPT does.
 *
 * @see https://arxiv.org/abs/1911.02150 (Shazeer 2019, incremental decoding with cached keys and values, §2.3)
 * @example
 * ```ts
 * const decoder = new autoregressive.CachedDecoder(model);
 * const logits = decoder.step(0); // [V]: the distribution of the token after id 0
 * logits.dispose();
 * const next = decoder.stepData(3); // Float32Array [V] after ids 0, 3
 * const again = decoder.prefillData([3, 1, 4]); // [V] after ids 3, 1, 4 (the cache restarted at position 0)
 * decoder.dispose();
 * ```
 * @category Autoregressive
 */
export class CachedDecoder {
  /** The longest context (the model's `blockSize`). */
  readonly blockSize: number;
  /** Vocabulary size V. */
  readonly vocabSize: number;
  /** How the steps are computed (see {@link CachedDecoderOptions.engine}; `'tensors'` also where the arrays cannot reproduce the model). */
  readonly engine: 'arrays' | 'tensors';
  private readonly model: tfl.LayersModel;
  private readonly parts: GptParts;
  /** The typed-array decoder (engine 'arrays'), handed back on dispose and taken again on the next step. */
  private arrays: ArrayDecoder | undefined;
  private caches: Array<KeyValueCache | null>;
  private length = 0;

  /**
   * @param model A model built by {@link nets.gpt} (or with the same layers in the same order).
   * @param options See {@link CachedDecoderOptions}.
   * @throws {@link ArgumentError} when the model does not have that structure, or for an unknown option.
   */
  constructor(model: tfl.LayersModel, options: CachedDecoderOptions = {}) {
    const parts =
      model !== null && typeof model === 'object' && Array.isArray((model as tfl.LayersModel).layers) ? gptParts(model) : undefined;
    if (parts === undefined) {
      throw new ArgumentError({
        fn: FN,
        arg: 'model',
        expected: 'be a model built by nets.gpt (TokenPositionEmbedding, TransformerBlocks, LayerNorm, optional dense head)',
        received: describe(model),
      });
    }
    assertKnownKeys(options, OPTION_KEYS, 'options', FN);
    const { engine = 'arrays' } = options;
    assertOneOf(engine, ['arrays', 'tensors'] as const, 'options.engine', FN);
    this.model = model;
    this.parts = parts;
    this.blockSize = parts.embedding.blockSize;
    this.vocabSize = parts.embedding.vocabSize;
    this.caches = parts.blocks.map(() => null);
    this.arrays = engine === 'arrays' ? ArrayDecoder.create(model, parts) : undefined;
    this.engine = this.arrays === undefined ? 'tensors' : 'arrays';
  }

  /** Number of tokens fed since construction or the last `reset()`. */
  get position(): number {
    return this.length;
  }

  /**
   * Feeds the next token id and returns the logits `[V]` for the token after it (a new tensor:
   * the caller disposes it).
   */
  step(id: number): tf.Tensor1D {
    this.checkStep(id, 'step');
    if (this.engine === 'arrays') return tf.tensor1d(this.arraysStep(id), 'float32');
    return this.tensorsStep(id);
  }

  /**
   * Feeds the next token id and returns the logits `[V]` for the token after it as a new
   * `Float32Array` (no tensor: the form a sampling loop reads).
   */
  stepData(id: number): Float32Array {
    this.checkStep(id, 'stepData');
    if (this.engine === 'arrays') return this.arraysStep(id);
    const logits = this.tensorsStep(id);
    // The synchronous form of step; generation reads the tensor engine through it too (the arrays engine reads nothing).
    // eslint-disable-next-line no-restricted-syntax
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    return values;
  }

  /**
   * Empties the cache, feeds `ids` at positions `0 … T−1` in one pass (`T ≤ blockSize`) and
   * returns the logits `[V]` for the token after the last (a new tensor: the caller disposes
   * it): the same as `reset()` then `step` over each id, in one batched forward. Afterwards
   * `position` is `T`.
   *
   * @param ids The token ids `[T]`, `1 ≤ T ≤ blockSize`.
   */
  prefill(ids: ArrayLike<number>): tf.Tensor1D {
    const tokens = this.checkPrefill(ids, 'prefill');
    if (this.engine === 'arrays') return tf.tensor1d(this.arraysPrefill(tokens), 'float32');
    return this.tensorsPrefill(tokens);
  }

  /** {@link CachedDecoder.prefill} returning the logits `[V]` as a new `Float32Array` (no tensor). */
  prefillData(ids: ArrayLike<number>): Float32Array {
    const tokens = this.checkPrefill(ids, 'prefillData');
    if (this.engine === 'arrays') return this.arraysPrefill(tokens);
    const logits = this.tensorsPrefill(tokens);
    // The synchronous form of prefill, as stepData's.
    // eslint-disable-next-line no-restricted-syntax
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    return values;
  }

  /** Empties the cache (back to position 0). */
  reset(): void {
    this.disposeCaches();
    this.caches = this.parts.blocks.map(() => null);
    this.length = 0;
  }

  /** Frees the cached tensors (and hands the typed arrays back for the model's next decoder). */
  dispose(): void {
    this.reset();
    this.arrays?.release();
    this.arrays = undefined;
  }

  private checkStep(id: number, method: string): void {
    assertNonNegativeInt(id, 'id', `${FN}.${method}`);
    if (id >= this.vocabSize)
      throw new ArgumentError({ fn: `${FN}.${method}`, arg: 'id', expected: `be below vocabSize ${this.vocabSize}`, received: String(id) });
    if (this.length >= this.blockSize) {
      throw new ShapeError({
        fn: `${FN}.${method}`,
        arg: 'id',
        expected: `fit in the context of blockSize ${this.blockSize}`,
        received: `position ${this.length}`,
        hint: 'Call reset() and feed the last tokens again',
      });
    }
  }

  private checkPrefill(ids: unknown, method: string): number[] {
    const fn = `${FN}.${method}`;
    const isList = Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView));
    const length = isList ? (ids as ArrayLike<number>).length : 0;
    if (length === 0 || length > this.blockSize) {
      throw new ArgumentError({
        fn,
        arg: 'ids',
        expected: `be an array of 1 to blockSize ${this.blockSize} token ids`,
        received: isList ? `${length} ids` : describe(ids),
      });
    }
    const tokens = Array.from(ids as ArrayLike<number>);
    tokens.forEach((id, i) => {
      assertNonNegativeInt(id, `ids[${i}]`, fn);
      if (id >= this.vocabSize)
        throw new ArgumentError({ fn, arg: `ids[${i}]`, expected: `be below vocabSize ${this.vocabSize}`, received: String(id) });
    });
    return tokens;
  }

  private arraysPrefill(ids: number[]): Float32Array {
    const logits = new Float32Array(this.vocabSize);
    this.reset();
    this.arrays ??= ArrayDecoder.create(this.model, this.parts, true)!;
    this.arrays.prefill(ids, logits);
    this.length = ids.length;
    return logits;
  }

  /**
   * The whole prefix through each block at once (the full forward's ops), keeping each block's
   * keys `[1, H, D, T]` and values `[1, H, T, D]` from its fused projection.
   */
  private tensorsPrefill(ids: number[]): tf.Tensor1D {
    const { embedding, blocks, norm, head } = this.parts;
    const count = ids.length;
    const result = tf.tidy(() => {
      let x = embedding.embed(tf.tensor2d([ids], [1, count], 'int32'), 0);
      const caches: KeyValueCache[] = blocks.map((block) => {
        const w = block.blockWeights();
        const depth = embedding.width / block.heads;
        const qkv = linear(layerNorm(x, w.norm1Gamma, w.norm1Beta, block.epsilon), w.attention.qkvKernel, w.attention.qkvBias);
        const [, k, v] = tf.split(qkv, 3, -1);
        const cache = {
          keys: tf.transpose(tf.reshape(k!, [1, count, block.heads, depth]), [0, 2, 3, 1]) as tf.Tensor4D,
          values: tf.transpose(tf.reshape(v!, [1, count, block.heads, depth]), [0, 2, 1, 3]) as tf.Tensor4D,
        };
        x = transformerBlock(x, w, { heads: block.heads, epsilon: block.epsilon });
        return cache;
      });
      const h = norm.apply(tf.reshape(tf.slice(x, [0, count - 1, 0], [1, 1, embedding.width]), [1, embedding.width])) as tf.Tensor;
      const logits = head === undefined ? embedding.logits(tf.reshape(h, [1, 1, embedding.width])) : (head.apply(h) as tf.Tensor);
      return { logits: tf.reshape(logits, [this.vocabSize]) as tf.Tensor1D, caches };
    });
    this.adoptCaches(result.caches);
    this.length = count;
    return result.logits;
  }

  private arraysStep(id: number): Float32Array {
    const logits = new Float32Array(this.vocabSize);
    this.arrays ??= ArrayDecoder.create(this.model, this.parts, true)!;
    this.arrays.step(id, this.length, logits);
    this.length++;
    return logits;
  }

  private tensorsStep(id: number): tf.Tensor1D {
    const { embedding, blocks, norm, head } = this.parts;
    const result = tf.tidy(() => {
      // One position as a matrix [1, C] through the blocks: no reshapes around the projections.
      let x = tf.reshape(embedding.embed(tf.tensor2d([[id]], [1, 1], 'int32'), this.length), [1, embedding.width]) as tf.Tensor2D;
      const caches: KeyValueCache[] = [];
      blocks.forEach((block, i) => {
        const out = transformerBlockStep2d(x, block.blockWeights(), this.caches[i]!, block.heads, block.epsilon);
        x = out.output;
        caches.push(out.cache);
      });
      const h = norm.apply(x) as tf.Tensor;
      const logits = head === undefined ? embedding.logits(tf.reshape(h, [1, 1, embedding.width])) : (head.apply(h) as tf.Tensor);
      return { logits: tf.reshape(logits, [this.vocabSize]) as tf.Tensor1D, caches };
    });
    this.adoptCaches(result.caches);
    this.length++;
    return result.logits;
  }

  /** Replaces the cache with `caches`, kept: it must outlive a tf.tidy the caller may run step() in (reset/dispose free it). */
  private adoptCaches(caches: KeyValueCache[]): void {
    for (const cache of caches) {
      tf.keep(cache.keys);
      tf.keep(cache.values);
    }
    this.disposeCaches();
    this.caches = caches;
  }

  private disposeCaches(): void {
    for (const cache of this.caches) if (cache !== null) tf.dispose([cache.keys, cache.values]);
  }
}
