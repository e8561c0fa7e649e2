/**
 * A checkpoint store on the Node file system.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

import { ArgumentError } from '../errors.js';
import type { Checkpoint, CheckpointMeta, CheckpointStore, CheckpointTensor } from '../train/checkpoint.js';
import { describe } from '../validation.js';
import { writeDirAtomic } from './atomic.js';

const META_JSON = 'checkpoint.json';
const TENSORS_BIN = 'tensors.bin';
const FN = 'fileCheckpointStore';

interface StoredIndex {
  meta: CheckpointMeta;
  tensors: { name: string; shape: number[]; dtype: 'float32' | 'int32'; offset: number; length: number }[];
}

function checkName(name: string, fn: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new ArgumentError({ fn, arg: 'name', expected: 'be a plain file name (letters, digits, _ . -)', received: describe(name) });
  }
}

/**
 * A {@link CheckpointStore} that keeps each checkpoint in its own folder under `dir`:
 * `dir/<name>/checkpoint.json` (counters, tensor names and shapes) and `tensors.bin` (the
 * values, little-endian float32/int32). A folder is written under a temporary name and renamed
 * into place, so a crash mid-write never leaves a broken checkpoint where a good one was.
 *
 * @param dir - folder of the checkpoints (created when missing).
 * @returns the store.
 * @example
 * ```ts
 * import { fileCheckpointStore } from 'genblocks/node';
 * const store = fileCheckpointStore('runs/gan/checkpoints');
 * await trainer.fit(batches, { epochs: 10, callbacks: [train.checkpoint({ store, every: 500, keep: 3 })] });
 * await otherTrainer.resume(store); // continues from the newest
 * ```
 * @category Node
 */
export function fileCheckpointStore(dir: string): CheckpointStore {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new ArgumentError({ fn: FN, arg: 'dir', expected: 'be a folder path', received: describe(dir) });
  }
  const list = async (): Promise<string[]> => {
    let entries: string[];
    try {
      entries = await fs.readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const names: string[] = [];
    for (const name of entries.sort()) {
      if (name.startsWith('.')) continue;
      try {
        await fs.access(join(dir, name, META_JSON));
        names.push(name);
      } catch {
        // not a checkpoint folder
      }
    }
    return names;
  };
  return {
    list,
    async save(name: string, checkpoint: Checkpoint): Promise<void> {
      checkName(name, `${FN}.save`);
      let offset = 0;
      const index: StoredIndex = {
        meta: checkpoint.meta,
        tensors: checkpoint.tensors.map((t) => {
          const entry = { name: t.name, shape: t.shape, dtype: t.dtype, offset, length: t.values.length };
          offset += t.values.length * 4;
          return entry;
        }),
      };
      const bytes = new Uint8Array(offset);
      checkpoint.tensors.forEach((t, i) => {
        bytes.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), index.tensors[i]!.offset);
      });
      await writeDirAtomic(join(dir, name), async (tmp) => {
        await fs.writeFile(join(tmp, TENSORS_BIN), bytes);
        await fs.writeFile(join(tmp, META_JSON), `${JSON.stringify(index, null, 1)}\n`);
      });
    },
    async load(name?: string): Promise<Checkpoint | undefined> {
      if (name === undefined) {
        const names = await list();
        name = names[names.length - 1];
        if (name === undefined) return undefined;
      }
      checkName(name, `${FN}.load`);
      let text: string;
      try {
        text = await fs.readFile(join(dir, name, META_JSON), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
      const index = JSON.parse(text) as StoredIndex;
      const buffer = await fs.readFile(join(dir, name, TENSORS_BIN));
      const aligned = new Uint8Array(buffer.byteLength);
      aligned.set(buffer);
      const tensors: CheckpointTensor[] = index.tensors.map((t) => ({
        name: t.name,
        shape: t.shape,
        dtype: t.dtype,
        values: t.dtype === 'int32' ? new Int32Array(aligned.buffer, t.offset, t.length) : new Float32Array(aligned.buffer, t.offset, t.length),
      }));
      return { meta: index.meta, tensors };
    },
    async delete(name: string): Promise<void> {
      checkName(name, `${FN}.delete`);
      await fs.rm(join(dir, name), { recursive: true, force: true });
    },
  };
}
