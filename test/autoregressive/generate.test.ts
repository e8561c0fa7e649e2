/**
 * Generation: incremental decoding with the key/value cache against the full forward pass,
 * greedy decoding with and without the cache, seeding, streaming, stop tokens, the sliding
 * window past blockSize, invalid usage, and no tensor leaks over 1,000 generated tokens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { autoregressive, nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, values } from '../helpers/memory.js';

describe.each(TEST_BACKENDS)('autoregressive generation on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it("CachedDecoder.step gives the full forward pass's last logits for every prefix (1e-5), tied and untied", () => {
    for (const tieWeights of [true, false]) {
      const model = nets.gpt({ vocabSize: 17, blockSize: 12, layers: 2, heads: 2, width: 16, seed: 2, tieWeights });
      const ids = [5, 0, 16, 3, 3, 9, 1, 12, 7, 2, 11, 4];
      const decoder = new autoregressive.CachedDecoder(model);
      const full = tf.tidy(() => values(model.predict(tf.tensor2d([ids], [1, ids.length], 'int32')) as tf.Tensor));
      ids.forEach((id, t) => {
        const logits = decoder.step(id);
        expectClose(values(logits), full.slice(t * 17, (t + 1) * 17), 1e-5, 1e-5);
        logits.dispose();
      });
      expect(() => decoder.step(1)).toThrow(/fit in the context of blockSize 12/);
      decoder.dispose();
    }
  });

  it('CachedDecoder keeps its cache when step() runs inside a tf.tidy, and frees it on dispose', () => {
    const model = nets.gpt({ vocabSize: 7, blockSize: 8, layers: 1, heads: 1, width: 4, seed: 6 });
    const decoder = new autoregressive.CachedDecoder(model);
    const reference = new autoregressive.CachedDecoder(model);
    const before = tf.memory().numTensors;
    const inside = [3, 1, 4].map((id) => tf.tidy(() => values(decoder.step(id))));
    const outside = [3, 1, 4].map((id) => {
      const logits = reference.step(id);
      const v = values(logits);
      logits.dispose();
      return v;
    });
    expect(inside).toEqual(outside);
    decoder.dispose();
    reference.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('greedy decoding gives the same ids with and without the cache, also past blockSize', async () => {
    const model = nets.gpt({ vocabSize: 11, blockSize: 8, layers: 1, heads: 2, width: 8, seed: 3 });
    const options = { maxNewTokens: 20, temperature: 0 };
    const cached = await autoregressive.generate(model, [1, 2, 3], options);
    const recomputed = await autoregressive.generate(model, [1, 2, 3], { ...options, cache: false });
    expect(cached).toHaveLength(20);
    expect(cached).toEqual(recomputed);
    // Independent check of the first greedy id: argmax of the full pass's last row.
    const last = tf.tidy(() =>
      values(tf.argMax(tf.slice(model.predict(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')) as tf.Tensor, [0, 2, 0], [1, 1, 11]), -1)),
    );
    expect(cached[0]).toBe(last[0]);
  });

  it('same seed, same ids; stream, onToken and generate agree; stopAt ends after the stop token', async () => {
    const model = nets.gpt({ vocabSize: 9, blockSize: 16, layers: 1, heads: 1, width: 8, seed: 4 });
    const a = await autoregressive.generate(model, [0], { maxNewTokens: 30, seed: 9, topK: 5, topP: 0.95 });
    const seen: number[] = [];
    const b = await autoregressive.generate(model, [0], {
      maxNewTokens: 30,
      seed: 9,
      topK: 5,
      topP: 0.95,
      onToken: (id, i) => seen.push(id * 100 + i),
    });
    expect(b).toEqual(a);
    expect(seen).toEqual(a.map((id, i) => id * 100 + i));
    const streamed: number[] = [];
    for await (const id of autoregressive.generateStream(model, [0], { maxNewTokens: 30, seed: 9, topK: 5, topP: 0.95 })) streamed.push(id);
    expect(streamed).toEqual(a);
    expect(await autoregressive.generate(model, [0], { maxNewTokens: 30, seed: 10 })).not.toEqual(a);
    const stop = a[4]!;
    const stopped = await autoregressive.generate(model, [0], { maxNewTokens: 30, seed: 9, topK: 5, topP: 0.95, stopAt: stop });
    expect(stopped).toEqual(a.slice(0, a.indexOf(stop) + 1));
  });

  it('leaves no tensors behind over 1,000 generated tokens (cache, then the sliding window)', async () => {
    const model = nets.gpt({ vocabSize: 5, blockSize: 16, layers: 1, heads: 1, width: 4, seed: 5 });
    await autoregressive.generate(model, [0], { maxNewTokens: 2, seed: 1 });
    const before = tf.memory().numTensors;
    const ids = await autoregressive.generate(model, [0, 1], { maxNewTokens: 1000, seed: 1 });
    expect(ids).toHaveLength(1000);
    expect(tf.memory().numTensors).toBe(before);
    // Breaking out of the stream early frees the cache too.
    for await (const id of autoregressive.generateStream(model, [0], { maxNewTokens: 10, seed: 2 })) if (id >= 0) break;
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad prompts, options and models', async () => {
    const model = nets.gpt({ vocabSize: 5, blockSize: 4, layers: 1, heads: 1, width: 4, seed: 5 });
    await expect(autoregressive.generate(model, [], { maxNewTokens: 1 })).rejects.toThrow(
      /generate: argument 'promptIds' must be a non-empty array of token ids/,
    );
    await expect(autoregressive.generate(model, [0, 5], { maxNewTokens: 1 })).rejects.toThrow(
      /argument 'promptIds\[1\]' must be below the vocabulary size 5, received 5/,
    );
    await expect(autoregressive.generate(model, [0], { maxNewTokens: -1 })).rejects.toThrow(/maxNewTokens' must be a non-negative integer/);
    await expect(autoregressive.generate(model, [0], { maxNewTokens: 1, temprature: 1 } as never)).rejects.toThrow(
      /Did you mean 'temperature'/,
    );
    expect(() => new autoregressive.CachedDecoder(nets.mlpGenerator({ latentDim: 2, outputShape: [3] }))).toThrow(
      /must be a model built by nets\.gpt/,
    );
  });
});
