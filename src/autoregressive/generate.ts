/**
 * Text (token) generation from an autoregressive model: streaming and collected forms.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertNonNegativeInt, assertOneOf, assertPositiveInt, describe } from '../validation.js';
import { CachedDecoder, gptParts } from './cached-decoder.js';
import { samplerFor, type SampleTokenOptions } from './sample-token.js';

/** Options of {@link generate} and {@link generateStream}. @category Autoregressive */
export interface GenerateOptions extends SampleTokenOptions {
  /** Number of tokens to generate. Required. */
  maxNewTokens: number;
  /** Seed of the sampling (one mulberry32 stream for the whole sequence). Default: `Math.random`. */
  seed?: number;
  /** Token id (or ids) that end the generation; the stop token is included in the output. Default: none. */
  stopAt?: number | readonly number[];
  /** Called with each new token id and its index (0-based) as it is generated. */
  onToken?: (id: number, index: number) => void;
  /**
   * Use the key/value cache (a {@link nets.gpt} model only; other models always recompute the
   * window). Default true.
   */
  cache?: boolean;
  /**
   * Longest context fed to the model. Default: the model's `blockSize` for a {@link nets.gpt}
   * model, else its fixed input length, else unlimited.
   */
  blockSize?: number;
  /**
   * What happens once the sequence is longer than `blockSize`:
   *
   * - `'crop'` (default): nanoGPT's cropping. Every token recomputes the window of the last
   *   `blockSize` tokens with a full forward pass (no cache): each token sees exactly
   *   `blockSize` tokens of context, at the cost of a `blockSize`-token forward per token.
   * - `'shift'`: a context shift (as llama.cpp's). When the cache is full, the last `keep`
   *   tokens are fed again from position 0 in one prefill ({@link CachedDecoder.prefill}) and
   *   decoding goes on with the cache. With learned absolute positions a cached key cannot be
   *   moved to another position, so this approximates cropping: a token drawn `j` tokens after a
   *   shift sees `keep + j` tokens of context (`keep ≤ keep + j ≤ blockSize`) instead of exactly
   *   `blockSize`, the earliest of them at position 0 rather than at the window's start. It costs
   *   one prefill of `keep` tokens per `blockSize − keep + 1` new tokens, the other tokens one
   *   cached step each. Tokens drawn before the first shift are those of `'crop'`. Needs the
   *   key/value cache: a {@link nets.gpt} model with `cache` true.
   */
  overflow?: 'crop' | 'shift';
  /**
   * Tokens kept at a context shift (`overflow: 'shift'` only), `1 ≤ keep ≤ blockSize`.
   * Default `max(1, floor(blockSize / 2))`. Larger: more context after each shift, more
   * prefills (`keep = blockSize` prefills every token: cropping's context, batched).
   */
  keep?: number;
}

const KEYS = ['maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stopAt', 'onToken', 'cache', 'blockSize', 'overflow', 'keep'];

function checkPrompt(promptIds: unknown, fn: string): number[] {
  const ok = (Array.isArray(promptIds) || ArrayBuffer.isView(promptIds)) && (promptIds as ArrayLike<number>).length > 0;
  if (!ok) throw new ArgumentError({ fn, arg: 'promptIds', expected: 'be a non-empty array of token ids', received: describe(promptIds) });
  const ids = Array.from(promptIds as ArrayLike<number>);
  ids.forEach((id, i) => assertNonNegativeInt(id, `promptIds[${i}]`, fn));
  return ids;
}

/** The logits `[V]` after the last of `window`, by a full forward pass (no cache). */
function windowLogits(model: tfl.LayersModel, window: number[]): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = model.predict(tf.tensor2d([window], [1, window.length], 'int32')) as tf.Tensor;
    const v = logits.shape[2]!;
    return tf.reshape(tf.slice(logits, [0, window.length - 1, 0], [1, 1, v]), [v]) as tf.Tensor1D;
  });
}

/**
 * Generates tokens one at a time and yields each as soon as it is drawn, so a page can show
 * text as it appears. Each token is drawn from the model's logits for the context so far with
 * {@link sampleToken}'s temperature / top-k / top-p (temperature 0: greedy). With a
 * {@link nets.gpt} model the context is decoded incrementally with a key/value cache
 * ({@link CachedDecoder}, on typed arrays: no tensor per token). Once the sequence is longer
 * than `blockSize`, `overflow` decides: `'crop'` (default) recomputes the window of the last
 * `blockSize` tokens with `model.predict` for every token (nanoGPT's cropping, exact), reading
 * its logits with `await data()`; `'shift'` keeps decoding with the cache, feeding the last
 * `keep` tokens again from position 0 whenever it is full (a context shift: faster, an
 * approximation of cropping; see {@link GenerateOptions.overflow}).
 *
 * @see https://arxiv.org/abs/1904.09751 (Holtzman et al. 2019, nucleus sampling)
 * @param model A model mapping int32 ids `[1, T]` to logits `[1, T, V]` (e.g. {@link nets.gpt}).
 * @param promptIds The prompt's token ids (at least one).
 * @param options See {@link GenerateOptions}.
 * @returns An async iterator over the new token ids.
 * @example
 * ```ts
 * for await (const id of autoregressive.generateStream(model, vocabulary.encode('The '), { maxNewTokens: 500, seed: 1, overflow: 'shift' })) {
 *   process.stdout.write(vocabulary.decode([id]));
 * }
 * ```
 * @category Autoregressive
 */
export async function* generateStream(
  model: tfl.LayersModel,
  promptIds: ArrayLike<number>,
  options: GenerateOptions,
): AsyncGenerator<number, void, undefined> {
  const fn = 'autoregressive.generate';
  if (model === null || typeof model !== 'object' || typeof (model as tfl.LayersModel).predict !== 'function') {
    throw new ArgumentError({ fn, arg: 'model', expected: 'be a tf.LayersModel', received: describe(model) });
  }
  assertKnownKeys(options, KEYS, 'options', fn);
  if (options === undefined)
    throw new ArgumentError({ fn, arg: 'options', expected: 'be an object with maxNewTokens', received: 'undefined' });
  const { maxNewTokens, stopAt = [], onToken, cache = true } = options;
  assertNonNegativeInt(maxNewTokens, 'options.maxNewTokens', fn);
  const stops = new Set(typeof stopAt === 'number' ? [stopAt] : stopAt);
  if (onToken !== undefined && typeof onToken !== 'function')
    throw new ArgumentError({ fn, arg: 'options.onToken', expected: 'be a function', received: describe(onToken) });
  const parts = gptParts(model);
  const inputLength = model.inputs[0]?.shape[1];
  const blockSize = options.blockSize ?? parts?.embedding.blockSize ?? (typeof inputLength === 'number' ? inputLength : Infinity);
  if (blockSize !== Infinity) assertPositiveInt(blockSize, 'options.blockSize', fn);
  const { overflow = 'crop' } = options;
  assertOneOf(overflow, ['crop', 'shift'] as const, 'options.overflow', fn);
  const shift = overflow === 'shift';
  if (shift && !(cache && parts !== undefined)) {
    throw new ArgumentError({
      fn,
      arg: 'options.overflow',
      expected: "be 'crop' without the key/value cache ('shift' needs a nets.gpt model and cache: true)",
      received: `'shift' with ${parts === undefined ? 'a model that is not a nets.gpt model' : 'cache: false'}`,
    });
  }
  if (shift && blockSize > parts!.embedding.blockSize) {
    throw new ArgumentError({
      fn,
      arg: 'options.blockSize',
      expected: `be at most the model's blockSize ${parts!.embedding.blockSize} with overflow: 'shift' (the cache's length)`,
      received: String(blockSize),
    });
  }
  if (options.keep !== undefined && !shift) {
    throw new ArgumentError({ fn, arg: 'options.keep', expected: "be given only with overflow: 'shift'", received: String(options.keep) });
  }
  const keep = options.keep ?? Math.max(1, Math.floor(blockSize / 2));
  assertPositiveInt(keep, 'options.keep', fn);
  if (shift && keep > blockSize)
    throw new ArgumentError({ fn, arg: 'options.keep', expected: `be at most blockSize ${blockSize}`, received: String(keep) });
  const draw = samplerFor(options, fn);
  const context = checkPrompt(promptIds, fn);
  const vocabSize = parts?.embedding.vocabSize ?? model.outputs[0]?.shape[2];
  if (typeof vocabSize === 'number') {
    const bad = context.findIndex((id) => id >= vocabSize);
    if (bad >= 0)
      throw new ArgumentError({
        fn,
        arg: `promptIds[${bad}]`,
        expected: `be below the vocabulary size ${vocabSize}`,
        received: String(context[bad]),
      });
  }

  const decoder = cache && parts !== undefined ? new CachedDecoder(model) : undefined;
  // The context index of the cache's position 0 (moved by each context shift).
  let offset = 0;
  // The next token's logits: read from the cache's typed arrays, or from a tensor of the model's output.
  const next = async (): Promise<ArrayLike<number>> => {
    if (decoder !== undefined && (shift || context.length <= blockSize)) {
      if (context.length - offset > blockSize) {
        // The cache cannot take the next token: the context shift. A prompt longer than blockSize is
        // cut to the window cropping would see (so the first token is cropping's); later, the last `keep` tokens.
        offset = context.length - (decoder.position === 0 ? blockSize : keep);
        return decoder.prefillData(context.slice(offset));
      }
      // Feeds what the cache lacks: the whole prompt at first, then the token just drawn.
      let logits = decoder.stepData(context[offset + decoder.position]!);
      while (offset + decoder.position < context.length) logits = decoder.stepData(context[offset + decoder.position]!);
      return logits;
    }
    const logits = windowLogits(model, context.slice(-blockSize));
    try {
      return await logits.data();
    } finally {
      logits.dispose();
    }
  };
  try {
    for (let i = 0; i < maxNewTokens; i++) {
      const id = draw(await next());
      context.push(id);
      onToken?.(id, i);
      yield id;
      if (stops.has(id)) return;
    }
  } finally {
    decoder?.dispose();
  }
}

/**
 * Generates up to `maxNewTokens` token ids after the prompt and returns them (the prompt not
 * included; a stop token, when met, is the last id). The collected form of
 * {@link generateStream}: same options, same ids for the same seed.
 *
 * @see https://github.com/karpathy/nanoGPT/blob/master/model.py (`GPT.generate`)
 * @param model A model mapping int32 ids `[1, T]` to logits `[1, T, V]` (e.g. {@link nets.gpt}).
 * @param promptIds The prompt's token ids (at least one).
 * @param options See {@link GenerateOptions}.
 * @returns The new token ids.
 * @example
 * ```ts
 * const ids = await autoregressive.generate(model, [0], { maxNewTokens: 50, temperature: 0.8, topK: 40, seed: 1 });
 * ```
 * @category Autoregressive
 */
export async function generate(model: tfl.LayersModel, promptIds: ArrayLike<number>, options: GenerateOptions): Promise<number[]> {
  const ids: number[] = [];
  for await (const id of generateStream(model, promptIds, options)) ids.push(id);
  return ids;
}
