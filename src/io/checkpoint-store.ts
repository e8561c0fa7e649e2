/**
 * A checkpoint store on the Node file system.
 *
 * @module
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

import { ArgumentError, CheckpointError } from '../errors.js';
import { checkTensorHeader, failer } from '../train/checkpoint-format.js';
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

const isObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/**
 * Turns the two files of a stored checkpoint into a {@link Checkpoint}, checking the JSON and
 * the layout of `tensors.bin` (each tensor's offset and length, the file's exact size) and
 * throwing a `CheckpointError` that names the file and the field. What the meta and the
 * values mean (version, counters, checksums, finite values) is checked by `Trainer.restore`.
 *
 * @param text - the text of `checkpoint.json`.
 * @param bytes - the bytes of `tensors.bin`.
 * @param folder - the checkpoint's folder (for messages; also the checkpoint's `source`).
 * @internal
 */
export function decodeCheckpoint(text: string, bytes: Uint8Array, folder: string, fn: string): Checkpoint {
  const jsonPath = join(folder, META_JSON);
  const binPath = join(folder, TENSORS_BIN);
  const failJson = failer(fn, jsonPath);
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (e) {
    failJson(
      '(file)',
      'be valid JSON',
      `a parse error: ${(e as Error).message}`,
      'The file is truncated or damaged: resume from an older checkpoint',
    );
  }
  if (!isObject(index)) failJson('(file)', 'hold an object { meta, tensors }', describe(index));
  const { meta, tensors } = index as Record<string, unknown>;
  if (!isObject(meta)) failJson('meta', 'be an object', describe(meta));
  if (!Array.isArray(tensors)) failJson('tensors', 'be an array', describe(tensors));
  // One aligned copy: typed-array views need offsets that are multiples of 4.
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  let offset = 0;
  const out: CheckpointTensor[] = (tensors as unknown[]).map((entry, i) => {
    const size = checkTensorHeader(entry, `tensors[${i}]`, failJson);
    const e = entry as Record<string, unknown>;
    const at = `tensors[${i}]`;
    if (e['offset'] !== offset) failJson(`${at}.offset`, `be ${offset} (the tensors are stored back to back)`, describe(e['offset']));
    if (e['length'] !== size) failJson(`${at}.length`, `be ${size} (the size of its shape)`, describe(e['length']));
    if (offset + size * 4 > aligned.byteLength) {
      throw new CheckpointError({
        fn,
        source: binPath,
        field: `bytes ${offset}-${offset + size * 4}`,
        expected: `exist (tensor '${String(e['name'])}'; the file must hold at least ${offset + size * 4} bytes)`,
        received: `a file of ${aligned.byteLength} bytes`,
        hint: 'The file is truncated: resume from an older checkpoint',
      });
    }
    const values = e['dtype'] === 'int32' ? new Int32Array(aligned.buffer, offset, size) : new Float32Array(aligned.buffer, offset, size);
    offset += size * 4;
    return { name: e['name'] as string, shape: e['shape'] as number[], dtype: e['dtype'] as 'float32' | 'int32', values };
  });
  if (offset !== aligned.byteLength) {
    throw new CheckpointError({
      fn,
      source: binPath,
      field: '(file size)',
      expected: `be ${offset} bytes, as checkpoint.json describes`,
      received: `${aligned.byteLength} bytes`,
    });
  }
  return { meta: meta as unknown as CheckpointMeta, tensors: out, source: folder, files: { meta: jsonPath, values: binPath } };
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
      const binPath = join(dir, name, TENSORS_BIN);
      let bytes: Uint8Array;
      try {
        bytes = await fs.readFile(binPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        throw new CheckpointError({
          fn: `${FN}.load`,
          source: binPath,
          field: TENSORS_BIN,
          expected: 'exist next to checkpoint.json',
          received: 'no such file',
        });
      }
      return decodeCheckpoint(text, bytes, join(dir, name), `${FN}.load`);
    },
    async delete(name: string): Promise<void> {
      checkName(name, `${FN}.delete`);
      await fs.rm(join(dir, name), { recursive: true, force: true });
    },
  };
}
