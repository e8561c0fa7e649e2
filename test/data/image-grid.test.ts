/**
 * data.imageGrid against grids laid out by hand: tile positions, borders, empty cells, range
 * mapping and clipping, channels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { expectClose, expectNoLeak, values } from '../helpers/memory.js';

describe.each(TEST_BACKENDS)('data.imageGrid on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  it('places 2×2 tiles side by side without padding', () => {
    // Image A = [[1,2],[3,4]] / 10, image B = [[5,6],[7,8]] / 10; one row of two columns.
    const images = tf.tensor4d(
      [1, 2, 3, 4, 5, 6, 7, 8].map((v) => v / 10),
      [2, 2, 2, 1],
    );
    const grid = data.imageGrid(images, { columns: 2, padding: 0 });
    expect(grid.shape).toEqual([2, 4, 1]);
    expectClose(values(grid), [0.1, 0.2, 0.5, 0.6, 0.3, 0.4, 0.7, 0.8]);
    tf.dispose([images, grid]);
  });

  it('draws borders and fills the empty cell with padValue', () => {
    // Three 1×1 images a, b, c in 2 columns, padding 1, padValue p = 0.9:
    // H = 2·(1+1)+1 = 5, W = 5; row-major: a b / c (empty).
    const images = tf.tensor4d([0.1, 0.2, 0.3], [3, 1, 1, 1]);
    const grid = data.imageGrid(images, { columns: 2, padding: 1, padValue: 0.9 });
    const p = 0.9;
    expect(grid.shape).toEqual([5, 5, 1]);
    expectClose(values(grid), [p, p, p, p, p, p, 0.1, p, 0.2, p, p, p, p, p, p, p, 0.3, p, p, p, p, p, p, p, p]);
    tf.dispose([images, grid]);
  });

  it("maps '[-1,1]' by (x + 1) / 2 and clips to [0, 1]", () => {
    const images = tf.tensor4d([-1, 0, 1, 3, -5, 0.5], [6, 1, 1, 1]);
    const grid = data.imageGrid(images, { columns: 6, padding: 0, range: '[-1,1]' });
    expectClose(values(grid), [0, 0.5, 1, 1, 0, 0.75]);
    const unit = data.imageGrid(images, { columns: 6, padding: 0 });
    expectClose(values(unit), [0, 0, 1, 1, 0, 0.5]);
    tf.dispose([images, grid, unit]);
  });

  it('keeps RGB channels and uses ceil(sqrt(n)) columns and padding 2 by default', () => {
    // Five 1×1 RGB images: 3 columns, 2 rows → H = 2·3+2 = 8, W = 3·3+2 = 11.
    const images = tf.tensor4d(
      Array.from({ length: 15 }, (_, i) => i / 20),
      [5, 1, 1, 3],
    );
    const grid = data.imageGrid(images);
    expect(grid.shape).toEqual([8, 11, 3]);
    // Image 4 (row 1, column 1) sits at pixel (2 + 3·1, 2 + 3·1) = (5, 5).
    const px = tf.slice(grid, [5, 5, 0], [1, 1, 3]);
    expectClose(values(px), [12 / 20, 13 / 20, 14 / 20]);
    tf.dispose([images, grid, px]);
  });

  it('leaks no intermediates', async () => {
    const images = tf.randomUniform([7, 4, 4, 1]) as tf.Tensor4D;
    await expectNoLeak(() => data.imageGrid(images, { columns: 3, range: '[-1,1]' }));
    images.dispose();
  });
});

describe('data.imageGrid: invalid usage', () => {
  it('names the argument and what was received', () => {
    const rank3 = tf.zeros([2, 4, 4]);
    const int = tf.zeros([2, 4, 4, 1], 'int32');
    const twoChannels = tf.zeros([2, 4, 4, 2]);
    const ok = tf.zeros([2, 4, 4, 1]);
    expect(() => data.imageGrid(rank3 as unknown as tf.Tensor4D)).toThrow(
      /data\.imageGrid: argument 'images' must have rank 4, received shape \[2,4,4\]/,
    );
    expect(() => data.imageGrid(int as tf.Tensor4D)).toThrow(/argument 'images' must be a float32 tensor, received int32/);
    expect(() => data.imageGrid(twoChannels as tf.Tensor4D)).toThrow(
      /must have 1, 3 or 4 channels \(last axis\), received shape \[2,4,4,2\]/,
    );
    expect(() => data.imageGrid(ok as tf.Tensor4D, { columns: 0 })).toThrow(/options\.columns' must be a positive integer, received 0/);
    expect(() => data.imageGrid(ok as tf.Tensor4D, { padValue: 2 })).toThrow(
      /options\.padValue' must be a finite number >= 0 and <= 1, received 2/,
    );
    expect(() => data.imageGrid(ok as tf.Tensor4D, { range: '[0,255]' as '[0,1]' })).toThrow(
      /options\.range' must be one of '\[-1,1\]', '\[0,1\]', received '\[0,255\]'/,
    );
    tf.dispose([rank3, int, twoChannels, ok]);
  });
});
