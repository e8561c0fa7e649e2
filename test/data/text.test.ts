/**
 * data.textVocabulary and data.sequenceBatches: hand-computed ids, JSON round trip, windows and
 * shifted targets checked against the corpus, nanoGPT's start range, seeding, no corpus copy,
 * invalid usage.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { expectNoLeak } from '../helpers/memory.js';

describe('data.textVocabulary', () => {
  it('sorts distinct code points; encode/decode by hand; JSON round trip', () => {
    const vocabulary = data.textVocabulary('hello world');
    // Sorted distinct characters: ' ' d e h l o r w → ids 0…7.
    expect(vocabulary.characters).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(Array.from(vocabulary.encode('hold'))).toEqual([3, 5, 4, 1]);
    expect(vocabulary.decode([3, 2, 4, 4, 5, 0, 7])).toBe('hello w');
    const restored = data.TextVocabulary.fromJSON(JSON.stringify(vocabulary));
    expect(restored.characters).toEqual(vocabulary.characters);
    expect(restored.decode(restored.encode('world'))).toBe('world');
    // Astral characters are one token each (code points, not UTF-16 units).
    const emoji = data.textVocabulary('a😀b');
    expect(emoji.size).toBe(3);
    expect(Array.from(emoji.encode('😀a'))).toEqual([2, 0]);
  });

  it('names unknown characters and bad ids', () => {
    const vocabulary = data.textVocabulary('abc');
    expect(() => vocabulary.encode('abd')).toThrow(
      /encode: argument 'text' must contain only characters of the vocabulary, received "d" at code-point index 2/,
    );
    expect(() => vocabulary.decode([0, 3])).toThrow(/argument 'ids\[1\]' must be an integer in \[0, 3\)/);
    expect(() => data.TextVocabulary.fromJSON('{"x":1}')).toThrow(/fromJSON/);
    expect(() => data.textVocabulary('')).toThrow(/non-empty string/);
  });
});

describe('data.sequenceBatches', () => {
  const ids = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 23);

  it('x are windows of the corpus and y the same windows shifted by one, starts in [0, n − T − 1]', () => {
    const batches = data.sequenceBatches(ids, { blockSize: 8, batchSize: 4, seed: 3 });
    for (let k = 0; k < 20; k++) {
      const starts = batches.starts(k);
      const { x, y } = batches.batch(k);
      expect(x.shape).toEqual([4, 8]);
      expect(x.dtype).toBe('int32');
      const xs = x.arraySync();
      const ys = y.arraySync();
      starts.forEach((s, b) => {
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(100 - 8 - 1);
        expect(xs[b]).toEqual(Array.from(ids.slice(s, s + 8)));
        expect(ys[b]).toEqual(Array.from(ids.slice(s + 1, s + 9)));
      });
      tf.dispose([x, y]);
    }
  });

  it("covers every start in [0, n − T − 1] over many batches (nanoGPT's randint range)", () => {
    const batches = data.sequenceBatches(ids.subarray(0, 20), { blockSize: 5, batchSize: 8, seed: 1 });
    const seen = new Set<number>();
    for (let k = 0; k < 100; k++) for (const s of batches.starts(k)) seen.add(s);
    // n = 20, T = 5: starts 0…14, all of them drawn, none outside.
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });

  it('same seed, same batches; resumable by index; steps bounds the iterator; no leaks', async () => {
    const a = data.sequenceBatches(ids, { blockSize: 6, batchSize: 3, seed: 5, steps: 4 });
    const b = data.sequenceBatches(ids, { blockSize: 6, batchSize: 3, seed: 5 });
    const c = data.sequenceBatches(ids, { blockSize: 6, batchSize: 3, seed: 6 });
    expect(a.starts(2)).toEqual(b.starts(2));
    expect(a.starts(2)).not.toEqual(c.starts(2));
    const all = [...a];
    expect(all).toHaveLength(4);
    expect(all[3]!.x.arraySync()).toEqual(b.batch(3).x.arraySync());
    tf.dispose(all.flatMap((batch) => [batch.x, batch.y]));
    await expectNoLeak(() => {
      const { x, y } = b.batch(0);
      return [x, y];
    });
  });

  it('rejects corpora no longer than the block, bad sizes and unknown options', () => {
    expect(() => data.sequenceBatches(new Int32Array(8), { blockSize: 8, batchSize: 1 })).toThrow(
      /argument 'ids' must be longer than blockSize 8, received length 8/,
    );
    expect(() => data.sequenceBatches(ids, { blockSize: 0, batchSize: 1 })).toThrow(/blockSize' must be a positive integer/);
    expect(() => data.sequenceBatches(ids, { blockSize: 4, batchSize: 1, sed: 1 } as never)).toThrow(/Did you mean 'seed'/);
    expect(() => data.sequenceBatches('abc' as never, { blockSize: 1, batchSize: 1 })).toThrow(/integer typed array/);
  });
});
