/**
 * Crash-safe writes: stale temporary files of dead processes are cleaned up (or, for a `.old`
 * copy whose destination is missing, put back), and live processes' ones are left alone.
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readRegularFile, UnreadableFileError, writeDirAtomic, writeFileAtomic } from '../../src/io/atomic.js';

let root: string;
/** The id of a process that has exited (a child run to completion). */
let deadPid: number;

beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'genblocks-atomic-'));
  deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('writeDirAtomic / writeFileAtomic', () => {
  it('removes temporary folders left by a dead process, keeps those of live ones', async () => {
    const parent = join(root, 'stale');
    const staleA = join(parent, `.step-000006.tmp-${deadPid}-0a1b2c3d`);
    const staleB = join(parent, `.other.bin.tmp-${deadPid}-deadbeef`);
    const live = join(parent, `.step-000012.tmp-${process.ppid}-00112233`);
    const unrelated = join(parent, '.step-000006.tmp-notapid');
    for (const dir of [staleA, live, unrelated]) await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(join(staleA, 'tensors.bin'), Buffer.alloc(1024));
    await fs.writeFile(staleB, 'half');
    await writeDirAtomic(join(parent, 'step-000018'), async (tmp) => fs.writeFile(join(tmp, 'a.json'), '{}'));
    expect((await fs.readdir(parent)).sort()).toEqual([
      '.step-000006.tmp-notapid',
      `.step-000012.tmp-${process.ppid}-00112233`,
      'step-000018',
    ]);
    expect(await fs.readFile(join(parent, 'step-000018', 'a.json'), 'utf8')).toBe('{}');

    // writeFileAtomic cleans up too.
    await fs.writeFile(staleB, 'half');
    await writeFileAtomic(join(parent, 'plot.svg'), '<svg/>');
    expect(await fs.readdir(parent)).not.toContain(`.other.bin.tmp-${deadPid}-deadbeef`);
  });

  it('puts back a previous folder that a dead process moved aside but never replaced', async () => {
    const parent = join(root, 'half-renamed');
    // The dead process renamed `model` to its `.old` name, then died before the second rename.
    const old = join(parent, `.model.tmp-${deadPid}-12345678.old`);
    await fs.mkdir(old, { recursive: true });
    await fs.writeFile(join(old, 'model.json'), 'previous');
    await writeDirAtomic(join(parent, 'neighbour'), async (tmp) => fs.writeFile(join(tmp, 'x'), 'y'));
    expect((await fs.readdir(parent)).sort()).toEqual(['model', 'neighbour']);
    expect(await fs.readFile(join(parent, 'model', 'model.json'), 'utf8')).toBe('previous');
  });

  it('a fill that throws leaves the destination as it was and no temporary folder', async () => {
    const parent = join(root, 'throws');
    await writeDirAtomic(join(parent, 'd'), async (tmp) => fs.writeFile(join(tmp, 'v'), '1'));
    await expect(
      writeDirAtomic(join(parent, 'd'), async (tmp) => {
        await fs.writeFile(join(tmp, 'v'), '2');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await fs.readdir(parent)).toEqual(['d']);
    expect(await fs.readFile(join(parent, 'd', 'v'), 'utf8')).toBe('1');
  });
});

describe('readRegularFile', () => {
  it('reads a regular file; refuses links, folders and sizes its check rejects', async () => {
    const file = join(root, 'plain.bin');
    await fs.writeFile(file, Buffer.from([1, 2, 3]));
    expect([...(await readRegularFile(file))]).toEqual([1, 2, 3]);
    await fs.symlink(file, join(root, 'link.bin'));
    await expect(readRegularFile(join(root, 'link.bin'))).rejects.toThrow(UnreadableFileError);
    await expect(readRegularFile(root)).rejects.toThrow(/a folder, not a regular file/);
    await expect(readRegularFile(join(root, 'missing'))).rejects.toThrow(/no such file/);
    const sizes: number[] = [];
    await expect(
      readRegularFile(file, (size) => {
        sizes.push(size);
        throw new UnreadableFileError('too big');
      }),
    ).rejects.toThrow('too big');
    expect(sizes).toEqual([3]);
  });
});
