/**
 * readIdx from genblocks/node on hand-made IDX files written to a temporary folder: plain,
 * gzip-compressed (detected by content, not name), `limit`, and damaged files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { readIdx } from '../../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'genblocks-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** uint8 IDX of shape [rows, 2] holding 0, 1, 2, … (layout: 00 00 08 ndims, big-endian dims). */
function uint8Idx(rows: number): Uint8Array {
  const body = Array.from({ length: rows * 2 }, (_, i) => i);
  return new Uint8Array([0, 0, 0x08, 2, 0, 0, 0, rows, 0, 0, 0, 2, ...body]);
}
function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('readIdx', () => {
  it('reads a plain file', async () => {
    const out = await readIdx(file('plain-idx2-ubyte', uint8Idx(3)));
    expect(out.shape).toEqual([3, 2]);
    expect(Array.from(out.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('decompresses gzip by its magic bytes, with or without a .gz name', async () => {
    const gz = gzipSync(uint8Idx(3));
    for (const name of ['a-idx2-ubyte.gz', 'no-suffix-idx2-ubyte']) {
      const out = await readIdx(file(name, gz));
      expect(out.shape).toEqual([3, 2]);
      expect(Array.from(out.data)).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });

  it('reads an uncompressed file that is named .gz', async () => {
    const out = await readIdx(file('misnamed-idx2-ubyte.gz', uint8Idx(2)));
    expect(Array.from(out.data)).toEqual([0, 1, 2, 3]);
  });

  it('reads only the first `limit` rows (plain and gzip)', async () => {
    for (const bytes of [uint8Idx(4), gzipSync(uint8Idx(4))]) {
      const out = await readIdx(file('limit-idx2-ubyte', bytes), { limit: 2 });
      expect(out.shape).toEqual([2, 2]);
      expect(Array.from(out.data)).toEqual([0, 1, 2, 3]);
    }
    const all = await readIdx(file('limit-big-idx2-ubyte', uint8Idx(2)), { limit: 10 });
    expect(all.shape).toEqual([2, 2]);
  });

  it('rejects a truncated file naming the path, even when `limit` needs only its start', async () => {
    const path = file('truncated-idx2-ubyte', uint8Idx(4).subarray(0, 12 + 7));
    await expect(readIdx(path)).rejects.toThrow(/readIdx: argument 'path' .*4×2 uint8 = 8 bytes.*received file '.*truncated-idx2-ubyte': 7 bytes of data \(truncated\)/);
    await expect(readIdx(path, { limit: 1 })).rejects.toThrow(/\(truncated\)/);
  });

  it('rejects a damaged gzip stream and a bad header inside a good one', async () => {
    const gz = gzipSync(uint8Idx(4));
    await expect(readIdx(file('cut-idx2-ubyte.gz', gz.subarray(0, gz.length - 10)))).rejects.toThrow(/must be a complete gzip stream, received file '.*cut-idx2-ubyte\.gz'/);
    const badMagic = uint8Idx(1);
    badMagic[1] = 7;
    await expect(readIdx(file('badmagic-idx2-ubyte.gz', gzipSync(badMagic)))).rejects.toThrow(/IDX magic bytes 0x00 0x00, received file '.*' \(after gunzip\): 0x00 0x07/);
  });

  it('rejects a wrong magic number, an empty file and a missing file', async () => {
    await expect(readIdx(file('text.txt', new TextEncoder().encode('hello world')))).rejects.toThrow(/IDX magic bytes/);
    await expect(readIdx(file('empty', new Uint8Array(0)))).rejects.toThrow(/received file '.*empty': only 0 bytes/);
    await expect(readIdx(join(dir, 'missing'))).rejects.toThrow(/readIdx: argument 'path' must name a readable file, received '.*missing' \(ENOENT\)/);
  });

  it('validates its arguments', async () => {
    await expect(readIdx('' as string)).rejects.toThrow(/argument 'path' must be a non-empty string, received ''/);
    await expect(readIdx(join(dir, 'x'), { limit: 0 })).rejects.toThrow(/argument 'options\.limit' must be a positive integer, received 0/);
  });
});
