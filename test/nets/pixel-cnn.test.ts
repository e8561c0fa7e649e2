/**
 * nets.pixelCnn and autoregressive.samplePixels / pixelTargets: whole-network causality over
 * pixels (exact), shapes, save/load, a few Adam steps lowering the loss, sampling against the softmax of the first pixel (chi-square), seeding,
 * memory, invalid configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { autoregressive, losses, nets } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { values } from '../helpers/memory.js';

describe.each(TEST_BACKENDS)('nets.pixelCnn on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it.each([false, true])('logits of pixel i see only pixels before i, exactly (gated: %s)', (gated) => {
    const [h, w, levels] = [5, 4, 3];
    const model = nets.pixelCnn({ imageShape: [h, w, 1], filters: 4, layers: 2, gated, levels, firstKernelSize: 3, seed: 1 });
    const base = Array.from({ length: h * w }, (_, i) => ((i * 5) % 7) / 6);
    const run = (img: number[]) => tf.tidy(() => values(model.predict(tf.tensor4d(img, [1, h, w, 1])) as tf.Tensor));
    const y = run(base);
    expect(y.length).toBe(h * w * levels);
    for (let p = 0; p < h * w; p++) {
      const changed = base.slice();
      changed[p] = 1 - changed[p]! + 0.5;
      const y2 = run(changed);
      for (let i = 0; i < (p + 1) * levels; i++)
        if (y2[i] !== y[i]) expect.fail(`logit ${i} (pixel ${Math.floor(i / levels)}) changed when pixel ${p} did`);
      if (p < h * w - 1) expect(y2.slice((p + 1) * levels).some((v, i) => v !== y[(p + 1) * levels + i])).toBe(true);
    }
  });

  it('saves and loads (gated) with identical logits; 20 Adam steps on crossEntropy(pixelTargets) lower the loss', async () => {
    const model = nets.pixelCnn({ imageShape: [4, 4, 1], filters: 4, layers: 1, gated: true, levels: 2, seed: 2 });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const images = tf.tensor4d(
      Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      [2, 4, 4, 1],
    );
    expect(tf.tidy(() => values(loaded.predict(images) as tf.Tensor))).toEqual(tf.tidy(() => values(model.predict(images) as tf.Tensor)));
    // pixelTargets: round(x · (levels − 1)), squeezed: 0/1 images give their own values.
    const targets = autoregressive.pixelTargets(images, 2);
    expect(targets.shape).toEqual([2, 4, 4]);
    expect(values(targets)).toEqual(values(images));
    const optimizer = tf.train.adam(1e-2);
    const loss = () => losses.autoregressive.crossEntropy(model.apply(images, { training: true }) as tf.Tensor, targets);
    const first = values(loss())[0]!;
    for (let i = 0; i < 20; i++) tf.dispose(optimizer.minimize(loss, true) ?? []);
    const last = values(loss())[0]!;
    expect(Number.isFinite(first)).toBe(true);
    expect(last).toBeLessThan(first);
    tf.dispose([images, targets]);
  });

  it('samplePixels: first pixel follows its softmax (chi-square), levels are valid, same seed same images, no leaks', async () => {
    const levels = 4;
    const model = nets.pixelCnn({ imageShape: [2, 2, 1], filters: 3, layers: 1, levels, firstKernelSize: 3, seed: 3 });
    // Pixel 0 sees nothing (type A): its logits are the same for every image, read from a zero image.
    const logits0 = tf.tidy(() => values(tf.slice(model.predict(tf.zeros([1, 2, 2, 1])) as tf.Tensor, [0, 0, 0, 0], [1, 1, 1, levels])));
    const max = Math.max(...logits0);
    const z = logits0.reduce((s, x) => s + Math.exp(x - max), 0);
    const before = tf.memory().numTensors;
    const images = await autoregressive.samplePixels(model, { n: 4000, seed: 7 });
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(images.shape).toEqual([4000, 2, 2, 1]);
    const pixels = values(images);
    const counts = new Array<number>(levels).fill(0);
    for (let i = 0; i < 4000; i++) counts[Math.round(pixels[i * 4]! * (levels - 1))]!++;
    expect(pixels.every((v) => [0, 1 / 3, 2 / 3, 1].some((l) => Math.abs(v - l) < 1e-6))).toBe(true);
    const chiSquare = counts.reduce(
      (s, c, i) => s + (c - (4000 * Math.exp(logits0[i]! - max)) / z) ** 2 / ((4000 * Math.exp(logits0[i]! - max)) / z),
      0,
    );
    // χ²(3) upper 0.1% point: 16.27.
    expect(chiSquare).toBeLessThan(16.27);
    const again = await autoregressive.samplePixels(model, { n: 4000, seed: 7 });
    expect(values(again)).toEqual(pixels);
    tf.dispose([images, again]);
    await expect(autoregressive.samplePixels(model, { n: 0 })).rejects.toThrow(/options\.n' must be a positive integer/);
  });

  it('rejects multi-channel images and bad levels', () => {
    expect(() => nets.pixelCnn({ imageShape: [8, 8, 3] })).toThrow(/nets\.pixelCnn: argument 'config\.imageShape' must have one channel/);
    expect(() => nets.pixelCnn({ imageShape: [8, 8, 1], levels: 1 })).toThrow(/config\.levels' must be an integer >= 2 and <= 256/);
    expect(() => nets.pixelCnn({ imageShape: [8, 8, 1], gate: true } as never)).toThrow(/Did you mean 'gated'/);
  });
});
