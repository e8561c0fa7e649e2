/**
 * Smoke tests of the autoregressive examples (wasm, tiny settings, seconds): text-gpt on a small
 * text file, generate-text from the model it saved, mnist-pixelcnn on a slice of MNIST.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { main as generateText, parseOptions as parseGenerateText } from '../../examples/generate-text/main.js';
import { main as pixelCnn, parseOptions as parsePixelCnn } from '../../examples/mnist-pixelcnn/main.js';
import { main as textGpt, parseOptions as parseTextGpt } from '../../examples/text-gpt/main.js';
import { useTestBackend } from '../helpers/backends.js';

const root = mkdtempSync(join(tmpdir(), 'genblocks-ar-examples-'));
beforeAll(() => useTestBackend('wasm'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('autoregressive examples', () => {
  it('text-gpt trains a few steps on --text, reports train/val loss, samples, saves model + vocabulary; generate-text reloads it', async () => {
    const text = join(root, 'corpus.txt');
    writeFileSync(text, 'the quick brown fox jumps over the lazy dog. '.repeat(40));
    const out = join(root, 'text-gpt');
    const log = vi.spyOn(console, 'log');
    const before = tf.memory().numTensors;
    const { evaluations, sample } = await textGpt(
      parseTextGpt([
        '--text',
        text,
        '--iterations',
        '4',
        '--eval-interval',
        '2',
        '--eval-iters',
        '2',
        '--layers',
        '1',
        '--heads',
        '2',
        '--width',
        '16',
        '--block-size',
        '16',
        '--batch-size',
        '4',
        '--sample-length',
        '20',
        '--out',
        out,
        '--quiet',
      ]),
    );
    expect(tf.memory().numTensors, 'the example leaks no tensors').toBe(before);
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    // The pangram has all 26 letters, plus ' ' and '.': 28 distinct; 45 · 40 = 1,800 characters, 90% = 1,620.
    expect(printed).toMatch(/corpus: 1800 characters, 28 distinct; 1620 train, 180 validation/);
    expect(evaluations.map((e) => e.step)).toEqual([0, 2, 4]);
    // Untrained, the loss is close to ln 28 = 3.33 nats (uniform over the vocabulary).
    expect(Math.abs(evaluations[0]!.validation - Math.log(28))).toBeLessThan(0.2);
    expect(printed).toMatch(/step 4: train loss \d\.\d{4}, val loss \d\.\d{4} nats\/char/);
    expect([...sample]).toHaveLength(20);
    const vocabulary = JSON.parse(readFileSync(join(out, 'model', 'vocabulary.json'), 'utf8'));
    expect(vocabulary.characters).toHaveLength(28);
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);

    const args = ['--model', join(out, 'model'), '--prompt', 'the ', '--length', '12', '--seed', '3', '--quiet'];
    const cached = await generateText(parseGenerateText(args));
    const uncached = await generateText(parseGenerateText([...args, '--no-cache']));
    expect([...cached.text]).toHaveLength(12);
    expect(cached.text).toBe(uncached.text);
    expect([...cached.text].every((c) => vocabulary.characters.includes(c))).toBe(true);
    // Past the block (16): the default context shift and --overflow crop agree on the characters drawn
    // from contexts of at most 16 characters ('the ' is 4, so the first 16 − 4 + 1 = 13).
    const long = ['--model', join(out, 'model'), '--prompt', 'the ', '--length', '30', '--seed', '3', '--quiet'];
    const shifted = await generateText(parseGenerateText(long));
    const cropped = await generateText(parseGenerateText([...long, '--overflow', 'crop']));
    expect([...shifted.text]).toHaveLength(30);
    expect([...shifted.text].slice(0, 13)).toEqual([...cropped.text].slice(0, 13));
    expect(() => parseGenerateText(['--overflow', 'slide'])).toThrow(/--overflow must be 'shift' or 'crop', received 'slide'/);
  });

  it('mnist-pixelcnn trains a step on binarized MNIST, reports test NLL in nats per image, writes a sample grid', async () => {
    const out = join(root, 'pixelcnn');
    const log = vi.spyOn(console, 'log');
    const { testNll, files } = await pixelCnn(
      parsePixelCnn([
        '--limit',
        '32',
        '--steps',
        '1',
        '--batch-size',
        '16',
        '--filters',
        '4',
        '--layers',
        '1',
        '--samples',
        '4',
        '--out',
        out,
        '--quiet',
      ]),
    );
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/binarized MNIST \(threshold 0\.5\): 32 training and 32 test images/);
    // Nearly untrained: about 784 · ln 2 = 543 nats per image, give or take the initial logits.
    expect(testNll).toHaveLength(1);
    expect(testNll[0]!).toBeGreaterThan(200);
    expect(testNll[0]!).toBeLessThan(1500);
    const grid = PNG.sync.read(readFileSync(files[0]!));
    // 2 × 2 grid of 28 × 28 with 2-pixel padding: 2·28 + 3·2 = 62.
    expect([grid.width, grid.height]).toEqual([62, 62]);
  });
});
