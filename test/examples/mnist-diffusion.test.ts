/**
 * Smoke test of examples/mnist-diffusion: a few steps on a slice of the bundled MNIST (wasm),
 * so the example cannot rot. The full run is not part of CI.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { main, parseOptions } from '../../examples/mnist-diffusion/main.js';
import { loadModel } from '../../src/node.js';
import { useTestBackend } from '../helpers/backends.js';

const root = mkdtempSync(join(tmpdir(), 'genblocks-diffusion-example-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('examples/mnist-diffusion', () => {
  beforeAll(async () => {
    await useTestBackend('wasm');
  });

  it('trains a few steps, writes grids, a denoising strip, loss curves and a loadable model', async () => {
    const out = join(root, 'run');
    const log = vi.spyOn(console, 'log');
    const before = tf.memory().numTensors;
    const args = [
      '--limit',
      '32',
      '--steps',
      '2',
      '--batch-size',
      '16',
      '--samples',
      '10',
      '--sampler-steps',
      '2',
      '--timesteps',
      '50',
      '--base-channels',
      '8',
    ];
    const result = await main(parseOptions([...args, '--out', out, '--quiet']));
    expect(tf.memory().numTensors, 'the example leaks no tensors').toBe(before);
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/trained 2 steps in \d+\.\d s/);
    expect(printed).toMatch(/sampled with DDIM in 2 steps, guidance scale 4: \d+\.\d s in all/);
    expect(result.losses).toHaveLength(2);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    for (const name of ['samples-step-2.png', 'samples.png', 'denoising.png', 'losses.csv', 'losses.svg', 'model']) {
      expect(result.files).toContain(join(out, name));
      expect(existsSync(join(out, name))).toBe(true);
    }
    const settings = JSON.parse(readFileSync(join(out, 'model', 'diffusion.json'), 'utf8'));
    expect(settings).toMatchObject({ schedule: { kind: 'cosine', timesteps: 50 }, prediction: 'v', numClasses: 10, nullLabel: 10 });
    const model = await loadModel(join(out, 'model'));
    expect(model.layers.map((l) => l.getClassName())).toContain('genblocks>SpatialAttention');
    expect(model.inputs).toHaveLength(3);
    model.dispose();
  });

  it('rejects bad flags', () => {
    expect(() => parseOptions(['--sampler', 'euler'])).toThrow(/--sampler must be one of ddim, ddpm, received 'euler'/);
    expect(() => parseOptions(['--sampler-steps', '0'])).toThrow(/--sampler-steps must be a positive integer/);
    expect(parseOptions(['--no-conditional']).conditional).toBe(false);
    expect(() => parseOptions(['--channel-multipliers', '1,2,x'])).toThrow(
      /--channel-multipliers must be a comma-separated list of positive integers, received '1,2,x'/,
    );
    expect(() => parseOptions(['--channel-multipliers', ''])).toThrow(/--channel-multipliers must be a comma-separated list/);
    expect(parseOptions(['--attention-at', '']).attentionAt).toEqual([]);
    expect(parseOptions(['--attention-at', '14,7']).attentionAt).toEqual([14, 7]);
    expect(parseOptions(['--warmup-steps', '0']).warmupSteps).toBe(0);
    // The default length is 2,800 steps unless --epochs is given; both at once is an error.
    expect(parseOptions([]).steps).toBeUndefined();
    expect(parseOptions(['--epochs', '2']).epochs).toBe(2);
    expect(() => parseOptions(['--steps', '10', '--epochs', '1'])).toThrow(/give --steps or --epochs, not both/);
  });
});
