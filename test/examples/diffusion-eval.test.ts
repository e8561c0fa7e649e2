/**
 * The saved-diffusion-model path of `npm run eval` and `npm run example:generate`
 * (examples/shared/diffusion.ts): a tiny UNet saved with its diffusion.json to a temp folder,
 * sampled with the saved settings, and the eval script run on it end to end (4 samples, an
 * untrained feature net: the numbers are arbitrary, the report's lines and counts are not).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main as generate, parseOptions as parseGenerate } from '../../examples/generate/main.js';
import { askedForShares, drawDiffusionSamples, readDiffusionSettings, type DiffusionSettings } from '../../examples/shared/diffusion.js';
import { diffusion, metrics, nets } from '../../src/index.js';
import { loadModel, saveModel } from '../../src/node.js';
import { useTestBackend } from '../helpers/backends.js';

const root = mkdtempSync(join(tmpdir(), 'genblocks-diffusion-eval-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const settings: DiffusionSettings = {
  schedule: { kind: 'cosine', timesteps: 50 },
  prediction: 'v',
  numClasses: 10,
  nullLabel: 10,
  sampler: { sampler: 'ddim', steps: 2, eta: 0, clipSample: 1, guidanceScale: 1.5 },
};

/** Saves a tiny conditional UNet (28×28, as the eval's feature net needs) and its settings to `dir`. */
async function saveTinyModel(dir: string): Promise<void> {
  const model = nets.unet({
    imageShape: [28, 28, 1],
    baseChannels: 4,
    channelMultipliers: [1, 2],
    attentionAt: [],
    groups: 2,
    numClasses: 10,
    seed: 3,
  });
  await saveModel(model as LayersModel, dir);
  writeFileSync(join(dir, 'diffusion.json'), JSON.stringify(settings));
  model.dispose();
}

describe('saved diffusion models (eval and generate)', () => {
  const modelDir = join(root, 'run', 'model');
  beforeAll(async () => {
    await useTestBackend('wasm');
    await saveTinyModel(modelDir);
  });

  it('readDiffusionSettings returns the saved settings, undefined without diffusion.json, and rejects a malformed file', () => {
    expect(readDiffusionSettings(modelDir)).toEqual(settings);
    expect(readDiffusionSettings(root)).toBeUndefined();
    const bad = mkdtempSync(join(root, 'bad-'));
    writeFileSync(join(bad, 'diffusion.json'), JSON.stringify({ ...settings, prediction: 'score' }));
    expect(() => readDiffusionSettings(bad)).toThrow(/diffusion\.json: expected \{ schedule/);
  });

  it('drawDiffusionSamples samples each batch as diffusion.sample does with the saved settings, cycling the labels', async () => {
    const model = await loadModel(modelDir);
    const before = tf.memory().numTensors;
    const drawn = await drawDiffusionSamples(model, settings, { count: 4, seed: 7, batchSize: 3 });
    expect(tf.memory().numTensors - before, 'only the samples remain').toBe(1);
    expect(drawn.samples.shape).toEqual([4, 28, 28, 1]);
    expect(drawn.labels).toEqual([0, 1, 2, 3]); // i mod numClasses
    // The independent expectation: diffusion.sample called directly on each batch, batch k's seed
    // being seed + its first index (7, then 7 + 3).
    const schedule = diffusion.noiseSchedule({ kind: 'cosine', timesteps: 50 });
    const common = {
      schedule,
      sampler: 'ddim',
      steps: 2,
      eta: 0,
      clipSample: 1,
      prediction: 'v',
      guidanceScale: 1.5,
      nullLabel: 10,
    } as const;
    const first = await diffusion.sample(model, { ...common, shape: [3, 28, 28, 1], seed: 7, labels: [0, 1, 2] });
    const second = await diffusion.sample(model, { ...common, shape: [1, 28, 28, 1], seed: 10, labels: [3] });
    const expected = tf.concat([first.samples, second.samples]);
    expect(Array.from(await drawn.samples.data())).toEqual(Array.from(await expected.data()));
    // The overrides change what is drawn: no guidance gives other samples.
    const plain = await drawDiffusionSamples(model, settings, { count: 4, seed: 7, batchSize: 3, guidanceScale: 0, labels: [5, 5, 5, 5] });
    expect(plain.labels).toEqual([5, 5, 5, 5]);
    const difference = tf.max(tf.abs(tf.sub(plain.samples, drawn.samples)));
    expect((await difference.data())[0]).toBeGreaterThan(1e-3);
    tf.dispose([drawn.samples, plain.samples, first.samples, second.samples, expected, difference]);
    await expect(drawDiffusionSamples(model, settings, { count: 4, seed: 7, labels: [1] })).rejects.toThrow(
      /expected 4 labels, received 1/,
    );
    model.dispose();
  });

  it('askedForShares counts, per class asked for, the samples whose argmax is that class', async () => {
    // argmax per row: 0, 1, 1, 2; asked 0, 1, 2, 2 → hits on rows 0, 1, 3: 3/4 overall;
    // class 0: 1/1, class 1: 1/1, class 2: 1/2, class 3 never asked (NaN).
    const probabilities = tf.tensor2d(
      [
        [0.7, 0.1, 0.1, 0.1],
        [0.2, 0.5, 0.2, 0.1],
        [0.1, 0.6, 0.3, 0.0],
        [0.0, 0.1, 0.8, 0.1],
      ],
      [4, 4],
    );
    const shares = await askedForShares(probabilities, [0, 1, 2, 2]);
    probabilities.dispose();
    expect(shares.overall).toBe(0.75);
    expect(shares.perClass).toEqual([1, 1, 0.5, Number.NaN]);
  });

  it('generate draws a grid from a saved diffusion model, the --label digit or each digit in turn', async () => {
    const file = join(root, 'generated.png');
    await generate(parseGenerate(['--model', modelDir, '--count', '2', '--label', '3', '--out', file]));
    expect(existsSync(file)).toBe(true);
    await expect(generate(parseGenerate(['--model', modelDir, '--count', '2', '--label', '10', '--out', file]))).rejects.toThrow(
      /--label must be in \[0, 10\) for this model, received 10/,
    );
  });

  it('npm run eval on the run folder draws the samples with the saved sampler and reports the asked-for share', async () => {
    const featureDir = join(root, 'feature-net');
    const net = metrics.mnistFeatureNet({ seed: 1 });
    await saveModel(net, featureDir);
    net.dispose();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/eval.ts', join(root, 'run'), '--feature-net', featureDir, '--samples', '4', '--batch-size', '4'],
      { cwd: resolve(__dirname, '../..'), timeout: 240_000 },
    );
    expect(stdout).toMatch(/drew 4 samples \(DDIM, 2 steps, guidance scale 1\.5\) in \d+\.\d s/);
    expect(stdout).toContain(`diffusion model ${modelDir} (DDIM, 2 steps, guidance scale 1.5) (4 samples vs 4 real MNIST test images`);
    for (const line of ['FID', 'KID', 'classifier score', 'confident', 'classes']) expect(stdout).toMatch(new RegExp(`\\n  ${line} +\\S`));
    // 4 samples asked for digits 0-3, one each: every share is a multiple of 25%, digits 4-9 never asked.
    expect(stdout).toMatch(/asked-for digit {2}(0|25|50|75|100)\.0% of samples classified as the digit asked for/);
    expect(stdout).toMatch(/per digit {8}0:(0|100)% 1:(0|100)% 2:(0|100)% 3:(0|100)% 4:- /);
  }, 300_000);
});
