/**
 * Smoke tests of the example programs: each runs a few steps on a small slice of the real,
 * bundled MNIST (wasm backend), so the examples cannot rot. The full runs are not part of CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { metrics } from 'genblocks';
import { saveModel } from 'genblocks/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { useTestBackend } from '../helpers/backends.js';
import { main as generate, parseOptions as parseGenerate } from '../../examples/generate/main.js';
import { drawLabels } from '../../examples/shared/labels.js';
import { main as cgan, parseOptions as parseCgan } from '../../examples/mnist-cgan/main.js';
import { main as gan, parseOptions as parseGan } from '../../examples/mnist-gan/main.js';
import { main as vaeExample, parseOptions as parseVae } from '../../examples/mnist-vae/main.js';

const root = mkdtempSync(join(tmpdir(), 'genblocks-examples-'));
beforeAll(() => useTestBackend('wasm'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function png(file: string): PNG {
  return PNG.sync.read(readFileSync(file));
}

describe('examples', () => {
  it('mnist-gan: trains a few steps, writes samples, curves and the generator, and reports FID/KID/score', async () => {
    const out = join(root, 'gan');
    // An (untrained) feature network is enough to exercise the closing quality report.
    const featureNet = metrics.mnistFeatureNet();
    await saveModel(featureNet, join(root, 'feature-net'));
    featureNet.dispose();
    const log = vi.spyOn(console, 'log');
    const before = tf.memory().numTensors;
    const { files } = await gan(
      parseGan([
        '--limit',
        '128',
        '--steps',
        '2',
        '--batch-size',
        '16',
        '--out',
        out,
        '--quiet',
        '--feature-net',
        join(root, 'feature-net'),
      ]),
    );
    expect(tf.memory().numTensors, 'the example leaks no tensors').toBe(before);
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/FID \d+\.\d+, KID -?\d+\.\d+ ± \d+\.\d+, classifier score \d+\.\d+/);
    expect(printed).toMatch(/\d+\.\d% of samples labelled with confidence >= 0\.9/);
    expect(files).toContain(join(out, 'samples-final.png'));
    const grid = png(join(out, 'samples-final.png'));
    // 10x10 grid of 28x28 images with 2-pixel padding: 10*28 + 11*2 = 302 (imageGrid's layout).
    expect([grid.width, grid.height]).toEqual([302, 302]);
    const csv = readFileSync(join(out, 'losses.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^step,.*discriminator.*generator/);
    expect(csv).toHaveLength(3); // header + 2 steps
    expect(csv.slice(1).map((row) => row.split(',')[0])).toEqual(['1', '2']); // trainer step numbers
    expect(readFileSync(join(out, 'losses.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(existsSync(join(out, 'generator', 'model.json'))).toBe(true);
    // Conditioned on 100 k-means clusters by default: the generator takes [noise, cluster], and
    // the clusters' frequencies (of the 128 images) are saved next to it.
    expect(printed).toMatch(/k-means: 100 clusters of \d+ to \d+ images/);
    const model = JSON.parse(readFileSync(join(out, 'generator', 'model.json'), 'utf8'));
    expect(model.modelTopology.config.input_layers).toHaveLength(2);
    const { frequencies } = JSON.parse(readFileSync(join(out, 'generator', 'label-frequencies.json'), 'utf8'));
    expect(frequencies).toHaveLength(100);
    expect(frequencies.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 6);
    expect(frequencies.every((f: number) => f >= 0 && Math.abs(f * 128 - Math.round(f * 128)) < 1e-9)).toBe(true); // shares of 128 images
  });

  it('mnist-gan --clusters 0: the plain, unconditional DCGAN', async () => {
    const out = join(root, 'gan-plain');
    await gan(
      parseGan([
        '--limit',
        '64',
        '--steps',
        '2',
        '--batch-size',
        '16',
        '--clusters',
        '0',
        '--out',
        out,
        '--quiet',
        '--feature-net',
        join(root, 'none'),
      ]),
    );
    const model = JSON.parse(readFileSync(join(out, 'generator', 'model.json'), 'utf8'));
    expect(model.modelTopology.config.input_layers).toHaveLength(1);
    expect(existsSync(join(out, 'generator', 'label-frequencies.json'))).toBe(false);
  });

  it('mnist-gan --loss wgan-gp: the layer-norm critic with the projection head trains and logs the penalty', async () => {
    const out = join(root, 'gan-wgan');
    await gan(
      parseGan([
        '--limit',
        '64',
        '--steps',
        '2',
        '--batch-size',
        '16',
        '--clusters',
        '4',
        '--loss',
        'wgan-gp',
        '--out',
        out,
        '--quiet',
        '--feature-net',
        join(root, 'none'),
      ]),
    );
    const csv = readFileSync(join(out, 'losses.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/penalty/);
    expect(
      csv.slice(1).every((row) =>
        row
          .split(',')
          .slice(1)
          .every((v) => v === '' || Number.isFinite(Number(v))),
      ),
    ).toBe(true);
  });

  it('generate: loads the saved generator and writes a grid', async () => {
    const file = join(root, 'generated.png');
    await generate(parseGenerate(['--model', join(root, 'gan', 'generator'), '--count', '16', '--out', file]));
    const grid = png(file);
    // 16 images -> 4 columns: 4*28 + 5*2 = 122.
    expect([grid.width, grid.height]).toEqual([122, 122]);
  });

  it('mnist-vae: trains, reports the test negative ELBO and writes its images', async () => {
    const out = join(root, 'vae');
    const log = vi.spyOn(console, 'log');
    const { testNelbo, files } = await vaeExample(
      parseVae(['--limit', '200', '--epochs', '1', '--batch-size', '50', '--latent-dim', '2', '--out', out, '--quiet']),
    );
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/epoch 1: test negative ELBO \d+\.\d\d nats per image \(\d+\.\d s with the test evaluation\)/);
    expect(testNelbo).toHaveLength(1);
    // An untrained Bernoulli decoder costs about 784*ln 2 = 543 nats per image; a few steps
    // must already be finite and below a flat-out-wrong magnitude.
    expect(Number.isFinite(testNelbo[0]!)).toBe(true);
    expect(testNelbo[0]!).toBeGreaterThan(0);
    expect(testNelbo[0]!).toBeLessThan(800);
    for (const name of ['reconstructions.png', 'samples.png', 'manifold.png']) expect(files).toContain(join(out, name));
  });

  it('mnist-cgan: writes a grid with one row per digit class and reports how many samples show the digit asked for', async () => {
    const out = join(root, 'cgan');
    const log = vi.spyOn(console, 'log');
    const before = tf.memory().numTensors;
    const { files } = await cgan(
      parseCgan([
        '--limit',
        '64',
        '--steps',
        '2',
        '--batch-size',
        '16',
        '--out',
        out,
        '--quiet',
        '--feature-net',
        join(root, 'feature-net'),
      ]),
    );
    expect(tf.memory().numTensors, 'the example leaks no tensors').toBe(before);
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/\d+\.\d% of samples classified as the digit asked for/);
    expect(files).toContain(join(out, 'digits-final.png'));
    expect(existsSync(join(out, 'generator', 'model.json'))).toBe(true);
  });

  it('mnist-cgan --head acgan: trains the AC-GAN classifier terms and logs them', async () => {
    const out = join(root, 'acgan');
    const before = tf.memory().numTensors;
    await cgan(
      parseCgan([
        '--head',
        'acgan',
        '--limit',
        '64',
        '--steps',
        '2',
        '--batch-size',
        '16',
        '--out',
        out,
        '--quiet',
        '--feature-net',
        join(root, 'feature-net'),
      ]),
    );
    expect(tf.memory().numTensors, 'the example leaks no tensors').toBe(before);
    const csv = readFileSync(join(out, 'losses.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('step,discriminator,generator,classReal,classFake');
    expect(csv).toHaveLength(3);
  });

  it('generate: a conditional generator draws the --label digit, or cycles through the classes', async () => {
    const one = join(root, 'digit-3.png');
    await generate(parseGenerate(['--model', join(root, 'cgan', 'generator'), '--count', '4', '--label', '3', '--out', one]));
    expect(png(one).width).toBe(2 * 28 + 3 * 2);
    const all = join(root, 'all-digits.png');
    await generate(parseGenerate(['--model', join(root, 'cgan', 'generator'), '--count', '10', '--out', all]));
    expect(existsSync(all)).toBe(true);
    await expect(generate(parseGenerate(['--model', join(root, 'cgan', 'generator'), '--label', '10', '--out', one]))).rejects.toThrow(
      /--label must be in \[0, 10\) for this generator, received 10/,
    );
  });

  it('drawLabels draws each label with its frequency (stratified), shuffled by the seed unless sorted', () => {
    const draw = (...args: Parameters<typeof drawLabels>) => {
      const t = drawLabels(...args);
      const v = Array.from(t.dataSync());
      t.dispose();
      return v;
    };
    expect(draw([0.5, 0.25, 0.25], 8, 1, { sorted: true })).toEqual([0, 0, 0, 0, 1, 1, 2, 2]);
    const shuffled = draw([2, 1, 1], 8, 1); // unnormalized weights work too
    expect([...shuffled].sort()).toEqual([0, 0, 0, 0, 1, 1, 2, 2]);
    expect(draw([2, 1, 1], 8, 1)).toEqual(shuffled);
    expect(draw([0, 1, 0], 3, 5)).toEqual([1, 1, 1]);
  });

  it('mnist-gan: two runs with the same --seed log the same losses (weights, data order and noise all seeded)', async () => {
    // Before builders took a seed, the networks' initial weights came from tfjs' global random
    // state and two such runs differed from the first step.
    const losses = async (name: string, seed: string) => {
      const out = join(root, name);
      await gan(
        parseGan([
          '--limit',
          '64',
          '--steps',
          '3',
          '--batch-size',
          '16',
          '--clusters',
          '0',
          '--seed',
          seed,
          '--out',
          out,
          '--quiet',
          '--feature-net',
          join(root, 'none'),
        ]),
      );
      return readFileSync(join(out, 'losses.csv'), 'utf8').trim().split('\n').slice(1);
    };
    const first = await losses('seed-a', '5');
    expect(first).toHaveLength(3);
    expect(await losses('seed-b', '5')).toEqual(first);
    // Control: another seed gives other losses, so the equality above is not a constant.
    expect(await losses('seed-c', '6')).not.toEqual(first);
  });

  it('rejects bad flags with a message naming the flag', () => {
    expect(() => parseGan(['--loss', 'bogus'])).toThrow(/--loss must be one of nonSaturating, hinge, wgan-gp, received 'bogus'/);
    expect(() => parseGan(['--clusters', '1'])).toThrow(/--clusters must be 0 \(unconditional\) or an integer of at least 2, received '1'/);
    expect(() => parseCgan(['--ema', '1'])).toThrow(/--ema must be a number in \[0, 1\), received '1'/);
    expect(() => parseCgan(['--head', 'cgan'])).toThrow(/--head must be 'projection' or 'acgan', received 'cgan'/);
    expect(() => parseVae(['--epochs', '0'])).toThrow(/--epochs must be a positive integer, received '0'/);
  });
});
