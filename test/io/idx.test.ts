/**
 * readIdx from genblocks/node on hand-made IDX files written to a temporary folder: plain,
 * gzip-compressed (detected by content, not name), `limit`, and damaged files.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { ArgumentError } from '../../src/errors.js';
import { DEFAULT_MAX_IDX_BYTES, readIdx } from '../../src/node.js';
import { mulberry32 } from '../../src/random.js';

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
    await expect(readIdx(path)).rejects.toThrow(
      /readIdx: argument 'path' .*4×2 uint8 = 8 bytes.*received file '.*truncated-idx2-ubyte': 7 bytes of data \(truncated\)/,
    );
    await expect(readIdx(path, { limit: 1 })).rejects.toThrow(/\(truncated\)/);
  });

  it('rejects a damaged gzip stream and a bad header inside a good one', async () => {
    const gz = gzipSync(uint8Idx(4));
    await expect(readIdx(file('cut-idx2-ubyte.gz', gz.subarray(0, gz.length - 10)))).rejects.toThrow(
      /must be a complete gzip stream, received file '.*cut-idx2-ubyte\.gz'/,
    );
    const badMagic = uint8Idx(1);
    badMagic[1] = 7;
    await expect(readIdx(file('badmagic-idx2-ubyte.gz', gzipSync(badMagic)))).rejects.toThrow(
      /IDX magic bytes 0x00 0x00, received file '.*' \(after gunzip\): 0x00 0x07/,
    );
  });

  it('rejects a wrong magic number, an empty file and a missing file', async () => {
    await expect(readIdx(file('text.txt', new TextEncoder().encode('hello world')))).rejects.toThrow(/IDX magic bytes/);
    await expect(readIdx(file('empty', new Uint8Array(0)))).rejects.toThrow(/received file '.*empty': only 0 bytes/);
    await expect(readIdx(join(dir, 'missing'))).rejects.toThrow(
      /readIdx: argument 'path' must name a readable file, received '.*missing' \(ENOENT\)/,
    );
  });

  it('validates its arguments', async () => {
    await expect(readIdx('' as string)).rejects.toThrow(/argument 'path' must be a non-empty string, received ''/);
    await expect(readIdx(join(dir, 'x'), { limit: 0 })).rejects.toThrow(/argument 'options\.limit' must be a positive integer, received 0/);
    await expect(readIdx(join(dir, 'x'), { limt: 2 } as never)).rejects.toThrow(
      /readIdx: argument 'options\.limt' must be one of the known options \(limit, maxBytes\).*Did you mean 'limit'\?/,
    );
    await expect(readIdx(join(dir, 'x'), { maxBytes: 0.5 })).rejects.toThrow(
      /argument 'options\.maxBytes' must be an integer >= 1, received 0\.5/,
    );
  });

  it('refuses a folder, a FIFO and a device with a clear error (no EISDIR, no hang)', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const error = await readIdx(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(/readIdx: argument 'path' must name a regular file, received '.*a-folder', which is a folder/);
    if (process.platform !== 'win32') {
      const fifo = join(dir, 'a-fifo');
      execFileSync('mkfifo', [fifo]);
      await expect(readIdx(fifo)).rejects.toThrow(/which is a FIFO/);
      await expect(readIdx('/dev/zero')).rejects.toThrow(/which is a device or socket/);
    }
  });
});

describe('readIdx on gzip bombs', () => {
  /** The IDX header of a uint8 array of `shape` (00 00 08 ndims, big-endian uint32 sizes). */
  function header(shape: number[]): Buffer {
    const out = Buffer.alloc(4 + 4 * shape.length);
    out.set([0, 0, 0x08, shape.length]);
    shape.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
    return out;
  }

  it('a small header followed by 32 MB of zeros stops inflating just past the declared size', async () => {
    // 10 data bytes declared; the stream goes on for 32 MB (it compresses to ~32 KB).
    const bomb = gzipSync(Buffer.concat([header([10]), Buffer.alloc(32 * 2 ** 20)]));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(readIdx(file('bomb-small-header.gz', bomb))).rejects.toThrow(
      /readIdx: argument 'path' must be an IDX file whose data length matches its header \(18 bytes in all\), received file '.*' \(after gunzip\): more than 18 bytes \(extra trailing bytes; inflating stopped there\)/,
    );
  });

  it('a header declaring more than a compressed stream can hold fails before inflating', async () => {
    // 65536 × 65536 uint8 = 4 GiB declared, 1 KB of compressed data: deflate inflates at most 1032:1.
    const bomb = gzipSync(Buffer.concat([header([65536, 65536]), Buffer.alloc(1024)]));
    await expect(readIdx(file('bomb-liar.gz', bomb), { maxBytes: 2 ** 33 })).rejects.toThrow(
      new RegExp(
        `must declare no more data than ${bomb.length} compressed bytes can hold \\(${bomb.length * 1032} bytes.*received file '.*' \\(after gunzip\\): a header declaring ${12 + 2 ** 32} bytes`,
      ),
    );
  });

  it('a header declaring more than maxBytes fails before inflating; the default cap is 1 GiB', async () => {
    expect(DEFAULT_MAX_IDX_BYTES).toBe(2 ** 30);
    const declared = header([2 ** 15, 2 ** 15]); // 2^30 data bytes + 12 header bytes > 2^30
    const path = file('bomb-over-cap.gz', gzipSync(Buffer.concat([declared, Buffer.alloc(1024)])));
    await expect(readIdx(path)).rejects.toThrow(
      new RegExp(
        `must decompress to at most ${2 ** 30} bytes \\(the maxBytes option\\), received file '.*' \\(after gunzip\\): a header declaring ${2 ** 30 + 12} bytes \\(32768×32768 uint8\\)`,
      ),
    );
    // A small honest file passes a tight cap exactly at its size (12 header + 8 data bytes)
    // and fails one byte below it.
    const honest = file('honest.gz', gzipSync(uint8Idx(4)));
    expect((await readIdx(honest, { maxBytes: 20 })).shape).toEqual([4, 2]);
    await expect(readIdx(honest, { maxBytes: 19 })).rejects.toThrow(/at most 19 bytes/);
  });
});

describe('readIdx gzip fuzz', () => {
  it('300 seeded corruptions of gzip-compressed IDX files give a consistent array or an ArgumentError', async () => {
    const random = mulberry32(7);
    const int = (n: number) => Math.floor(random() * n);
    const path = join(dir, 'fuzz-idx.gz');
    let rejected = 0;
    for (let i = 0; i < 300; i++) {
      const gz = Buffer.from(gzipSync(uint8Idx(1 + int(6))));
      // Bit flips and byte overwrites past the gzip magic (so the inflate path is taken), or a cut.
      const kind = int(3);
      if (kind === 0) for (let k = 1 + int(3); k > 0; k--) gz[2 + int(gz.length - 2)]! ^= 1 << int(8);
      if (kind === 1) gz[2 + int(gz.length - 2)] = int(256);
      writeFileSync(path, kind === 2 ? gz.subarray(0, 2 + int(gz.length - 2)) : gz);
      try {
        const out = await readIdx(path);
        expect(out.data.length).toBe(out.shape.reduce((a, b) => a * b, 1));
      } catch (e) {
        if (!(e instanceof ArgumentError)) throw new Error(`case ${i}: ${String(e)}`);
        expect((e as Error).message).toMatch(/^readIdx: argument 'path' must /);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});
