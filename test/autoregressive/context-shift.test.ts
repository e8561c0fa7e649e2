/**
 * Generation past blockSize with a context shift (`overflow: 'shift'`): CachedDecoder.prefill
 * against the full forward pass over exactly the kept tokens (`model.predict`, the oracle), on
 * both engines; the ids before the first shift equal cropping's; `keep = blockSize` is cropping
 * itself; no tensor leaks over 1,000 tokens and many shifts; invalid options.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { setArrayDecodingEnabled } from '../../src/autoregressive/array-decoder.js';
import { autoregressive, nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';

/** The full pass's last row of logits `[V]` over exactly `ids` (the oracle). */
function lastLogits(model: tfl.LayersModel, ids: number[]): number[] {
  const flat = tf.tidy(() => values(model.predict(tf.tensor2d([ids], [1, ids.length], 'int32')) as tf.Tensor));
  const v = flat.length / ids.length;
  return flat.slice((ids.length - 1) * v);
}

/** A gpt whose weights are scaled ×`scale`: logits that depend strongly on the context, so a different context changes the ids. */
function sharpGpt(config: Parameters<typeof nets.gpt>[0], scale: number): tfl.LayersModel {
  const model = nets.gpt(config);
  const scaled = model.getWeights().map((w) => tf.mul(w, scale));
  model.setWeights(scaled);
  tf.dispose(scaled);
  return model;
}

const ENGINES = ['arrays', 'tensors'] as const;

describe.each(TEST_BACKENDS)('context shift (overflow: shift) on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });
  afterEach(() => {
    setArrayDecodingEnabled(true);
  });

  it.each(ENGINES)(
    'CachedDecoder.prefill (%s engine) gives the full forward logits over exactly the fed ids (1e-5), then steps on',
    (engine) => {
      for (const tieWeights of [true, false]) {
        const model = nets.gpt({ vocabSize: 23, blockSize: 10, layers: 2, heads: 2, width: 16, seed: 41, tieWeights });
        const decoder = new autoregressive.CachedDecoder(model, { engine });
        expect(decoder.engine).toBe(engine);
        // Fill part of the cache first: prefill must restart at position 0.
        decoder.stepData(7);
        decoder.stepData(8);
        const kept = [4, 19, 0, 22, 5];
        expectClose(decoder.prefillData(kept), lastLogits(model, kept), 1e-5, 1e-5);
        expect(decoder.position).toBe(5);
        // Steps after the prefill extend the kept prefix.
        const more = [kept, [...kept, 11], [...kept, 11, 3]];
        expectClose(decoder.stepData(11), lastLogits(model, more[1]!), 1e-5, 1e-5);
        const logits = decoder.step(3);
        expectClose(values(logits), lastLogits(model, more[2]!), 1e-5, 1e-5);
        logits.dispose();
        // A whole block at once, and one token.
        const full = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        const tensor = decoder.prefill(full);
        expectClose(values(tensor), lastLogits(model, full), 1e-5, 1e-5);
        tensor.dispose();
        expect(() => decoder.stepData(0)).toThrow(/fit in the context of blockSize 10/);
        expectClose(decoder.prefillData([13]), lastLogits(model, [13]), 1e-5, 1e-5);
        decoder.dispose();
        model.dispose();
      }
    },
  );

  it('the arrays prefill equals stepping the same ids exactly (same arithmetic), at nanoGPT width and at widths not multiples of 8', () => {
    // Width 128 with 33 ids: 8 groups of 4 rows and one row alone; width 12 (3C = 36, V = 10 padded to
    // 12): matMat's column blocks of 8 and its remainder of 4, with 7 ids (one group, three rows alone).
    for (const [config, count] of [
      [{ vocabSize: 98, blockSize: 64, layers: 4, heads: 4, width: 128, seed: 42 }, 33],
      [{ vocabSize: 10, blockSize: 9, layers: 2, heads: 3, width: 12, seed: 43, tieWeights: false }, 7],
    ] as const) {
      const model = nets.gpt(config);
      const ids = tf.tidy(() => values(tf.randomUniformInt([count], 0, config.vocabSize, 43)));
      const stepped = new autoregressive.CachedDecoder(model);
      let expected: Float32Array = new Float32Array(0);
      for (const id of ids) expected = stepped.stepData(id);
      const prefilled = new autoregressive.CachedDecoder(model);
      expect(prefilled.engine).toBe('arrays');
      expect(Array.from(prefilled.prefillData(ids))).toEqual(Array.from(expected));
      // The caches agree too: the next step gives the same logits.
      expect(Array.from(prefilled.stepData(5))).toEqual(Array.from(stepped.stepData(5)));
      stepped.dispose();
      prefilled.dispose();
      model.dispose();
    }
  });

  it.each(ENGINES)(
    'each greedy id past several shifts is the argmax of the full forward over exactly the context since the last shift (%s engine)',
    async (engine) => {
      if (engine === 'tensors') setArrayDecodingEnabled(false);
      const blockSize = 8;
      const keep = 3;
      const model = sharpGpt({ vocabSize: 13, blockSize, layers: 2, heads: 2, width: 8, seed: 44 }, 4);
      const prompt = [1, 2, 3];
      const ids = await autoregressive.generate(model, prompt, { maxNewTokens: 30, temperature: 0, overflow: 'shift', keep });
      const all = [...prompt, ...ids];
      // Independent replay with the full forward pass: while the cache fills, the context is all
      // tokens since the last shift; the shift happens when the context would exceed blockSize,
      // and keeps the last `keep` tokens (hand-derived from the definition of the context shift).
      let start = 0;
      let shifts = 0;
      for (let n = prompt.length; n < all.length; n++) {
        if (n - start > blockSize) {
          start = n - keep;
          shifts++;
        }
        const logits = lastLogits(model, all.slice(start, n));
        // Greedy: each id is the argmax of the oracle's logits over the shifted context.
        expect(all[n]).toBe(logits.indexOf(Math.max(...logits)));
      }
      expect(shifts).toBe(4); // 3 prompt tokens, then shifts at 9, 15, 21, 27 tokens (every blockSize − keep + 1 = 6)
      model.dispose();
    },
  );

  it.each(ENGINES)('the decoder logits at each shift match the full forward over the kept tokens (%s engine)', async (engine) => {
    if (engine === 'tensors') setArrayDecodingEnabled(false);
    const model = nets.gpt({ vocabSize: 11, blockSize: 6, layers: 1, heads: 2, width: 8, seed: 45 });
    const prefills: number[][] = [];
    const original = autoregressive.CachedDecoder.prototype.prefillData;
    const spy = function (this: autoregressive.CachedDecoder, ids: ArrayLike<number>): Float32Array {
      const logits = original.call(this, ids);
      prefills.push(Array.from(ids));
      expectClose(logits, lastLogits(model, Array.from(ids)), 1e-5, 1e-5);
      return logits;
    };
    autoregressive.CachedDecoder.prototype.prefillData = spy;
    try {
      await autoregressive.generate(model, [0, 1], { maxNewTokens: 20, seed: 3, overflow: 'shift', keep: 4 });
    } finally {
      autoregressive.CachedDecoder.prototype.prefillData = original;
    }
    // 2 prompt tokens + 20 new (drawn after contexts of 2 … 21 tokens): shifts at 7, 10, 13, 16, 19 tokens (every 6 − 4 + 1 = 3).
    expect(prefills.map((p) => p.length)).toEqual([4, 4, 4, 4, 4]);
    model.dispose();
  });

  it.each(ENGINES)("gives cropping's ids before the first shift, then other ids (same seed; %s engine)", async (engine) => {
    if (engine === 'tensors') setArrayDecodingEnabled(false);
    const model = sharpGpt({ vocabSize: 7, blockSize: 6, layers: 1, heads: 2, width: 8, seed: 46 }, 25);
    const prompt = [1, 2];
    const options = { maxNewTokens: 40, seed: 5 };
    const crop = await autoregressive.generate(model, prompt, options);
    const shift = await autoregressive.generate(model, prompt, { ...options, overflow: 'shift', keep: 2 });
    // Tokens 1 … blockSize − 2 + 1 = 5 are drawn from contexts of at most blockSize tokens (2 + 4 = 6):
    // cropping and shifting both decode them with the cache.
    expect(shift.slice(0, 5)).toEqual(crop.slice(0, 5));
    expect(shift).not.toEqual(crop);
    // A prompt longer than blockSize: the first token sees the same last-blockSize window as cropping's.
    const long = [1, 2, 3, 4, 5, 6, 0, 1];
    const first = { maxNewTokens: 1, seed: 6 };
    expect(await autoregressive.generate(model, long, { ...first, overflow: 'shift' })).toEqual(
      await autoregressive.generate(model, long, first),
    );
    model.dispose();
  });

  it('with keep = blockSize every token is prefilled over the last blockSize tokens: the same ids as cropping', async () => {
    const model = sharpGpt({ vocabSize: 9, blockSize: 5, layers: 1, heads: 1, width: 8, seed: 47 }, 10);
    const options = { maxNewTokens: 30, seed: 8, temperature: 0.9 };
    const crop = await autoregressive.generate(model, [3], options);
    expect(await autoregressive.generate(model, [3], { ...options, overflow: 'crop' })).toEqual(crop);
    expect(await autoregressive.generate(model, [3], { ...options, overflow: 'shift', keep: 5 })).toEqual(crop);
    model.dispose();
  });

  it.each(ENGINES)('leaves no tensors behind over 1,000 tokens and many shifts (%s engine)', async (engine) => {
    if (engine === 'tensors') setArrayDecodingEnabled(false);
    const model = nets.gpt({ vocabSize: 5, blockSize: 16, layers: 1, heads: 1, width: 4, seed: 48 });
    const options = { maxNewTokens: 1000, seed: 1, overflow: 'shift' as const };
    await autoregressive.generate(model, [0], { ...options, maxNewTokens: 40 });
    const before = tf.memory().numTensors;
    const ids = await autoregressive.generate(model, [0, 1], options);
    expect(ids).toHaveLength(1000); // contexts of 2 … 1,001 tokens, blockSize 16, keep 8: shifts at 17, 26, …, 998 tokens (110)
    expect(tf.memory().numTensors).toBe(before);
    // Breaking out of the stream after some shifts frees the decoder too.
    let seen = 0;
    for await (const id of autoregressive.generateStream(model, [0], { ...options, maxNewTokens: 100 }))
      if (id >= 0 && ++seen === 50) break;
    expect(seen).toBe(50);
    const decoder = new autoregressive.CachedDecoder(model);
    for (let t = 0; t < 100; t++) decoder.prefill([t % 5, 1, 2]).dispose();
    decoder.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('rejects bad overflow and keep options and bad prefill ids, naming function, argument, expectation and value', async () => {
    const model = nets.gpt({ vocabSize: 5, blockSize: 4, layers: 1, heads: 1, width: 4, seed: 49 });
    const generate = (options: object) => autoregressive.generate(model, [0], { maxNewTokens: 1, ...options } as never);
    await expect(generate({ overflow: 'wrap' })).rejects.toThrow(
      /autoregressive\.generate: argument 'options\.overflow' must be one of 'crop', 'shift', received 'wrap'/,
    );
    await expect(generate({ overflow: 'shift', kep: 2 })).rejects.toThrow(
      /argument 'options\.kep' must be one of the known options.*Did you mean 'keep'/,
    );
    await expect(generate({ overflow: 'shift', keep: 0 })).rejects.toThrow(
      /autoregressive\.generate: argument 'options\.keep' must be a positive integer, received 0/,
    );
    await expect(generate({ overflow: 'shift', keep: 1.5 })).rejects.toThrow(
      /argument 'options\.keep' must be a positive integer, received 1\.5/,
    );
    await expect(generate({ overflow: 'shift', keep: 5 })).rejects.toThrow(
      /argument 'options\.keep' must be at most blockSize 4, received 5/,
    );
    await expect(generate({ overflow: 'shift', blockSize: 5 })).rejects.toThrow(
      /argument 'options\.blockSize' must be at most the model's blockSize 4 with overflow: 'shift'.*received 5/,
    );
    // A window shorter than the model's works: with keep = that window, cropping's ids over it.
    const short = { blockSize: 3, maxNewTokens: 10, seed: 1 };
    expect(await generate({ ...short, overflow: 'shift', keep: 3 })).toEqual(await generate(short));
    await expect(generate({ keep: 2 })).rejects.toThrow(/argument 'options\.keep' must be given only with overflow: 'shift', received 2/);
    await expect(generate({ overflow: 'shift', cache: false })).rejects.toThrow(
      /argument 'options\.overflow' must be 'crop' without the key\/value cache.*received 'shift' with cache: false/,
    );
    const decoder = new autoregressive.CachedDecoder(model);
    expect(() => decoder.prefillData([])).toThrow(
      /CachedDecoder\.prefillData: argument 'ids' must be an array of 1 to blockSize 4 token ids, received 0 ids/,
    );
    expect(() => decoder.prefill([0, 1, 2, 3, 4])).toThrow(
      /CachedDecoder\.prefill: argument 'ids' must be an array of 1 to blockSize 4 token ids, received 5 ids/,
    );
    expect(() => decoder.prefill('abc' as never)).toThrow(/argument 'ids' must be an array of 1 to blockSize 4 token ids, received/);
    expect(() => decoder.prefillData([0, 5])).toThrow(/argument 'ids\[1\]' must be below vocabSize 5, received 5/);
    expect(() => decoder.prefillData([0, -1])).toThrow(/argument 'ids\[1\]' must be a non-negative integer/);
    decoder.dispose();
    model.dispose();
  });
});
