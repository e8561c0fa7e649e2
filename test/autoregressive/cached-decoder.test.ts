/**
 * CachedDecoder's typed-array engine (the default): its logits against the full forward pass
 * (`model.predict`, the oracle) for several prefixes and model forms, dropout ignored, weights
 * read again after an assignment, sampling unchanged for a fixed seed, the tensor engine as a
 * second reference, invalid options, and no tensors over 1,000 generated tokens.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { setArrayDecodingEnabled } from '../../src/autoregressive/array-decoder.js';
import { autoregressive, layers, nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';

/** The full pass's logits `[T, V]` over `ids`, row by row (the oracle). */
function fullLogits(model: tfl.LayersModel, ids: number[]): number[][] {
  const flat = tf.tidy(() => values(model.predict(tf.tensor2d([ids], [1, ids.length], 'int32')) as tf.Tensor));
  const v = flat.length / ids.length;
  return ids.map((_, t) => flat.slice(t * v, (t + 1) * v));
}

/** Decodes `ids` with a fresh decoder and checks every step against the full pass (1e-5). */
function expectParity(model: tfl.LayersModel, ids: number[], options?: autoregressive.CachedDecoderOptions): autoregressive.CachedDecoder {
  const decoder = new autoregressive.CachedDecoder(model, options);
  const full = fullLogits(model, ids);
  ids.forEach((id, t) => expectClose(decoder.stepData(id), full[t]!, 1e-5, 1e-5));
  return decoder;
}

/** A seeded id sequence in [0, vocab). */
function randomIds(length: number, vocab: number, seed: number): number[] {
  return tf.tidy(() => values(tf.randomUniformInt([length], 0, vocab, seed)));
}

describe.each(TEST_BACKENDS)('autoregressive.CachedDecoder (typed-array engine) on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('gives the full forward pass logits (1e-5) for several prefixes at nanoGPT width, tied, untied and without biases', () => {
    const configs = [
      { tieWeights: true, bias: true },
      { tieWeights: false, bias: true },
      { tieWeights: true, bias: false },
    ];
    for (const [k, config] of configs.entries()) {
      const model = nets.gpt({ vocabSize: 98, blockSize: 24, layers: 2, heads: 4, width: 128, seed: 11 + k, ...config });
      for (const seed of [1, 2]) {
        const decoder = expectParity(model, randomIds(24, 98, 10 * k + seed), {});
        expect(decoder.engine).toBe('arrays');
        expect(decoder.position).toBe(24);
        decoder.dispose();
      }
      model.dispose();
    }
  });

  it('handles widths, vocabularies and MLP sizes that are not multiples of four', () => {
    // 3 heads of depth 2: qkv rows 18, MLP 24; vocabulary 7.
    const model = nets.gpt({ vocabSize: 7, blockSize: 9, layers: 2, heads: 3, width: 6, seed: 21 });
    expectParity(model, [6, 0, 3, 3, 1, 5, 2, 4, 0]).dispose();
    model.dispose();
  });

  it('agrees with the tensor engine step by step, also after reset()', () => {
    const model = nets.gpt({ vocabSize: 13, blockSize: 10, layers: 2, heads: 2, width: 8, seed: 22 });
    const arrays = new autoregressive.CachedDecoder(model);
    const tensors = new autoregressive.CachedDecoder(model, { engine: 'tensors' });
    expect(tensors.engine).toBe('tensors');
    for (const ids of [
      [1, 2, 3, 4, 5],
      [12, 0, 7, 7, 7, 2, 9, 11, 3, 6],
    ]) {
      arrays.reset();
      tensors.reset();
      for (const id of ids) {
        const t = tensors.step(id);
        const a = arrays.step(id);
        expectClose(values(a), values(t), 1e-5, 1e-5);
        tf.dispose([a, t]);
      }
    }
    arrays.dispose();
    tensors.dispose();
    model.dispose();
  });

  it('hands its arrays to the next decoder of the model on dispose, and can still be used after it', () => {
    const model = nets.gpt({ vocabSize: 10, blockSize: 6, layers: 2, heads: 2, width: 8, seed: 19 });
    const ids = [4, 9, 0, 2, 2, 7];
    const full = fullLogits(model, ids);
    const first = new autoregressive.CachedDecoder(model);
    [5, 5, 5].forEach((id) => first.stepData(id));
    first.dispose();
    const second = new autoregressive.CachedDecoder(model); // takes the first one's heap
    // Interleaved: neither decoder's cache may touch the other's.
    ids.forEach((id, t) => {
      expectClose(first.stepData(id), full[t]!, 1e-5, 1e-5);
      expectClose(second.stepData(id), full[t]!, 1e-5, 1e-5);
    });
    first.dispose();
    second.dispose();
    model.dispose();
  });

  it('ignores dropout (inference), as predict does', () => {
    const model = nets.gpt({ vocabSize: 11, blockSize: 8, layers: 2, heads: 2, width: 8, dropout: 0.5, seed: 23 });
    expectParity(model, [3, 1, 4, 1, 5, 9, 2, 6]).dispose();
    model.dispose();
  });

  it('reads the weights again after they are assigned (setWeights, an optimizer step)', () => {
    const model = nets.gpt({ vocabSize: 9, blockSize: 6, layers: 1, heads: 2, width: 8, seed: 24 });
    const decoder = new autoregressive.CachedDecoder(model);
    const before = decoder.stepData(4);
    // Scale every weight by 1.5: a different model, whose logits the decoder must now give.
    const scaled = model.getWeights().map((w) => tf.mul(w, 1.5));
    model.setWeights(scaled);
    tf.dispose(scaled);
    decoder.reset();
    const after = decoder.stepData(4);
    const expected = fullLogits(model, [4])[0]!;
    expectClose(after, expected, 1e-5, 1e-5);
    expect(Math.max(...Array.from(after, (x, i) => Math.abs(x - before[i]!)))).toBeGreaterThan(1e-3);
    decoder.dispose();
    model.dispose();
  });

  it("reproduces a model with tfjs-layers' layerNormalization as the final norm", () => {
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const embedding = new layers.TokenPositionEmbedding({ vocabSize: 10, blockSize: 6, width: 8, seed: 25 });
    let h = new layers.TransformerBlock({ heads: 2, seed: 26 }).apply(embedding.apply(ids)) as tfl.SymbolicTensor;
    h = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-3 }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: ids, outputs: embedding.apply(h) as tfl.SymbolicTensor });
    const decoder = expectParity(model, [9, 0, 5, 5, 2, 7]);
    expect(decoder.engine).toBe('arrays');
    decoder.dispose();
    model.dispose();
  });

  it('takes the tensor engine where the arrays cannot run (no wasm SIMD), with the same logits', () => {
    const model = nets.gpt({ vocabSize: 12, blockSize: 6, layers: 1, heads: 2, width: 8, seed: 20 });
    setArrayDecodingEnabled(false);
    try {
      const decoder = expectParity(model, [11, 3, 0, 7, 7, 1]);
      expect(decoder.engine).toBe('tensors');
      decoder.dispose();
    } finally {
      setArrayDecodingEnabled(true);
    }
    model.dispose();
  });

  it('falls back to the tensor engine for a head with an activation, still matching predict', () => {
    const ids = tfl.input({ shape: [null], dtype: 'int32' });
    const embedding = new layers.TokenPositionEmbedding({ vocabSize: 10, blockSize: 5, width: 8, seed: 27 });
    let h = new layers.TransformerBlock({ heads: 2, seed: 28 }).apply(embedding.apply(ids)) as tfl.SymbolicTensor;
    h = new layers.LayerNorm().apply(h) as tfl.SymbolicTensor;
    const head = tfl.layers.dense({ units: 10, activation: 'tanh' }).apply(h) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: ids, outputs: head });
    const decoder = expectParity(model, [1, 8, 3, 0, 4]);
    expect(decoder.engine).toBe('tensors');
    decoder.dispose();
    model.dispose();
  });

  it('leaves the sampled ids unchanged for a fixed seed: the same as recomputing the window with predict', async () => {
    const model = nets.gpt({ vocabSize: 29, blockSize: 40, layers: 2, heads: 2, width: 16, seed: 29 });
    for (const sampling of [
      { temperature: 0.8 },
      { topK: 5 },
      { topP: 0.9, temperature: 1.3 },
      { temperature: 0.7, topK: 10, topP: 0.95 },
    ]) {
      const options = { maxNewTokens: 37, seed: 31, ...sampling };
      const cached = await autoregressive.generate(model, [3, 1, 4], options);
      const window = await autoregressive.generate(model, [3, 1, 4], { ...options, cache: false });
      expect(cached).toEqual(window);
    }
    model.dispose();
  });

  it("gives the ids the tensor path gave before the typed-array engine (nanoGPT's CPU size, seed 7)", async () => {
    const model = nets.gpt({ vocabSize: 98, blockSize: 64, layers: 4, heads: 4, width: 128, seed: 1 });
    const ids = await autoregressive.generate(model, [0], { maxNewTokens: 30, seed: 7, temperature: 0.8, topK: 40, topP: 0.9 });
    // Recorded on cpu and wasm with the tensor-op CachedDecoder of commit de564ad (same model, same options).
    expect(ids).toEqual([
      0, 0, 97, 82, 49, 45, 41, 21, 60, 72, 31, 14, 77, 50, 20, 34, 25, 53, 35, 97, 37, 87, 15, 14, 14, 20, 59, 81, 17, 86,
    ]);
    model.dispose();
  });

  it('uses the cache only while the prompt fits: a prompt longer than blockSize gives the window ids', async () => {
    const model = nets.gpt({ vocabSize: 7, blockSize: 5, layers: 1, heads: 2, width: 8, seed: 30 });
    // Weights ×25: logits that depend strongly on the context, so a wrong context changes the ids.
    const scaled = model.getWeights().map((w) => tf.mul(w, 25));
    model.setWeights(scaled);
    tf.dispose(scaled);
    const prompt = [1, 2, 3, 4, 5, 6, 0, 1];
    const options = { maxNewTokens: 12, seed: 5 };
    expect(await autoregressive.generate(model, prompt, options)).toEqual(
      await autoregressive.generate(model, prompt, { ...options, cache: false }),
    );
    model.dispose();
  });

  it('leaves no tensors behind over 1,000 tokens decoded with the cache', async () => {
    const model = nets.gpt({ vocabSize: 5, blockSize: 1001, layers: 1, heads: 1, width: 4, seed: 32 });
    await autoregressive.generate(model, [0], { maxNewTokens: 2, seed: 1 });
    const before = tf.memory().numTensors;
    const ids = await autoregressive.generate(model, [0], { maxNewTokens: 1000, seed: 1 });
    expect(ids).toHaveLength(1000);
    expect(tf.memory().numTensors).toBe(before);
    const decoder = new autoregressive.CachedDecoder(model);
    for (let t = 0; t < 1000; t++) decoder.step(t % 5).dispose();
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('rejects unknown options and engines, and ids outside the vocabulary or the context', () => {
    const model = nets.gpt({ vocabSize: 5, blockSize: 2, layers: 1, heads: 1, width: 4, seed: 33 });
    expect(() => new autoregressive.CachedDecoder(model, { engin: 'arrays' } as never)).toThrow(
      /CachedDecoder: argument 'options.engin' must be one of the known options \(engine\).*Did you mean 'engine'/,
    );
    expect(() => new autoregressive.CachedDecoder(model, { engine: 'gpu' as never })).toThrow(
      /argument 'options.engine' must be one of 'arrays', 'tensors', received 'gpu'/,
    );
    const decoder = new autoregressive.CachedDecoder(model);
    expect(() => decoder.stepData(5)).toThrow(/CachedDecoder.stepData: argument 'id' must be below vocabSize 5, received 5/);
    expect(() => decoder.stepData(-1)).toThrow(/argument 'id' must be a non-negative integer/);
    decoder.stepData(0);
    decoder.stepData(1);
    expect(() => decoder.stepData(2)).toThrow(/must fit in the context of blockSize 2, received position 2/);
    decoder.dispose();
    model.dispose();
  });
});
