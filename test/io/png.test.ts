/**
 * writePng / encodePng / writeImageGrid: round trips decoded with pngjs' own reader, colour
 * types, value validation, atomic writes and memory.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodePng, writeImageGrid, writePng } from '../../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'genblocks-png-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Decodes a PNG file with pngjs; `data` is always RGBA, 4 bytes per pixel. */
function decode(path: string): pngjs.PNGWithMetadata {
  return pngjs.PNG.sync.read(readFileSync(path));
}

describe('writePng', () => {
  it('writes a gray [h, w, 1] float image as 8-bit grayscale, round(255 · v)', async () => {
    const v = [0, 0.5, 1, 0.25, 0.75, 0.1];
    const image = tf.tensor3d(v, [2, 3, 1]);
    const path = join(dir, 'gray.png');
    await writePng(image, path);
    const png = decode(path);
    expect([png.width, png.height, png.colorType]).toEqual([3, 2, 0]); // colour type 0: grayscale (PNG spec 11.2.2)
    for (let i = 0; i < 6; i++) {
      const expected = Math.round(255 * v[i]!); // 0, 128, 255, 64, 191, 26
      expect(Array.from(png.data.subarray(4 * i, 4 * i + 4))).toEqual([expected, expected, expected, 255]);
    }
    image.dispose();
  });

  it('accepts a rank-2 image as grayscale', async () => {
    const image = tf.tensor2d([[1, 0]]);
    const path = join(dir, 'rank2.png');
    await writePng(image, path);
    const png = decode(path);
    expect([png.width, png.height]).toEqual([2, 1]);
    expect(Array.from(png.data)).toEqual([255, 255, 255, 255, 0, 0, 0, 255]);
    image.dispose();
  });

  it('writes RGB and RGBA, float or int32 0–255', async () => {
    const rgb = tf.tensor3d([255, 0, 10, 0, 128, 255], [1, 2, 3], 'int32');
    await writePng(rgb, join(dir, 'rgb.png'));
    const a = decode(join(dir, 'rgb.png'));
    expect(a.colorType).toBe(2);
    expect(Array.from(a.data)).toEqual([255, 0, 10, 255, 0, 128, 255, 255]);

    const rgba = tf.tensor3d([1, 0, 0, 0.5, 0, 1, 0, 1], [2, 1, 4]);
    await writePng(rgba, join(dir, 'rgba.png'));
    const b = decode(join(dir, 'rgba.png'));
    expect(b.colorType).toBe(6);
    expect([b.width, b.height]).toEqual([1, 2]);
    expect(Array.from(b.data)).toEqual([255, 0, 0, 128, 0, 255, 0, 255]);
    tf.dispose([rgb, rgba]);
  });

  it('writes atomically (no temporary file left) into a new folder, and overwrites', async () => {
    const sub = join(dir, 'nested', 'deeper');
    const image = tf.zeros([2, 2, 1]);
    await writePng(image, join(sub, 'x.png'));
    const ones = tf.ones([2, 2, 1]);
    await writePng(ones, join(sub, 'x.png'));
    expect(readdirSync(sub)).toEqual(['x.png']);
    expect(decode(join(sub, 'x.png')).data[0]).toBe(255);
    tf.dispose([image, ones]);
  });

  it('onto a folder, or under a file, gives a clear error instead of a raw EISDIR / ENOTDIR', async () => {
    const folder = join(dir, 'a-folder.png');
    mkdirSync(folder);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const image = tf.zeros([2, 2, 1]);
    await expect(writePng(image, folder)).rejects.toThrow(
      /writePng: argument 'path' must name a file to write, received '.*a-folder\.png', which is a folder/,
    );
    const batch = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    await expect(writeImageGrid(batch, folder)).rejects.toThrow(/writeImageGrid: argument 'path' must name a file to write/);
    batch.dispose();
    await expect(writePng(image, join(file, 'x.png'))).rejects.toThrow(
      /writePng: argument 'path' must be inside a folder that exists or can be created, received '.*a-file\/x\.png' \(a parent is a file, not a folder\)/,
    );
    expect(readdirSync(folder)).toEqual([]);
    image.dispose();
  });

  it('neither disposes its input nor leaks', async () => {
    const image = tf.ones([4, 4, 1]);
    const before = tf.memory().numTensors;
    await encodePng(image);
    expect(image.isDisposed).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    image.dispose();
  });

  it('rejects out-of-range values, NaN, bad shapes and dtypes with clear messages', async () => {
    const signed = tf.tensor3d([-1, 0.5], [1, 2, 1]);
    const nan = tf.tensor3d([NaN], [1, 1, 1]);
    const big = tf.tensor2d([[256]], [1, 1], 'int32');
    const rank4 = tf.zeros([1, 2, 2, 1]);
    const two = tf.zeros([2, 2, 2]);
    const empty = tf.zeros([0, 2, 1]);
    const bool = tf.tensor2d([[1]], [1, 1], 'bool');
    const path = join(dir, 'never.png');
    await expect(writePng(signed, path)).rejects.toThrow(
      /writePng: argument 'image' must hold values in \[0, 1\], received -1 at flat index 0 .*data\.imageGrid\(x, \{ range: '\[-1,1\]' \}\)/,
    );
    await expect(writePng(nan, path)).rejects.toThrow(/must hold values in \[0, 1\], received NaN/);
    await expect(writePng(big, path)).rejects.toThrow(/must hold values in 0–255, received 256/);
    await expect(writePng(rank4, path)).rejects.toThrow(/argument 'image' must have rank 2 or 3, received shape \[1,2,2,1\]/);
    await expect(writePng(two, path)).rejects.toThrow(/must have 1, 3 or 4 channels .*received shape \[2,2,2\]/);
    await expect(writePng(empty, path)).rejects.toThrow(/must have at least one pixel/);
    await expect(writePng(bool, path)).rejects.toThrow(
      /must be a float32 tensor in \[0, 1\] or an int32 tensor in 0–255, received bool tensor/,
    );
    await expect(writePng(signed, '')).rejects.toThrow(/argument 'path' must be a non-empty string/);
    expect(readdirSync(dir)).not.toContain('never.png');
    tf.dispose([signed, nan, big, rank4, two, empty, bool]);
  });
});

describe('writeImageGrid', () => {
  it('writes the grid of a [-1, 1] batch and disposes the grid', async () => {
    // Four 2×2 images, values -1 (black) except image 3 = +1 (white); 2 columns, padding 1,
    // padValue 0.5: 7×7 pixels (2·(2+1)+1); image 3 (row 1, column 1) starts at (1+3, 1+3) = (4, 4).
    const images = tf.concat([tf.fill([3, 2, 2, 1], -1), tf.ones([1, 2, 2, 1])]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const path = join(dir, 'grid.png');
    await writeImageGrid(images, path, { columns: 2, padding: 1, padValue: 0.5, range: '[-1,1]' });
    expect(tf.memory().numTensors).toBe(before);
    const png = decode(path);
    expect([png.width, png.height]).toEqual([7, 7]);
    const gray = (x: number, y: number) => png.data[4 * (y * png.width + x)];
    expect(gray(0, 0)).toBe(128); // border: round(255 · 0.5)
    expect(gray(1, 1)).toBe(0); // image 0
    expect(gray(4, 4)).toBe(255); // image 3
    expect(gray(3, 3)).toBe(128); // border between tiles
    images.dispose();
  });
});
