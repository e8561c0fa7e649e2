/**
 * `fileCheckpointStore` with damaged files: truncated JSON, short or long `tensors.bin`, a
 * missing file, bit flips, and a seeded fuzz of a few thousand damaged checkpoints. Every
 * failure is a `CheckpointError` naming the file and the field, and the trainer it was loaded
 * into is left exactly as it was.
 */
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, losses, train } from '../../src/index.js';
import { decodeCheckpoint } from '../../src/io/checkpoint-store.js';
import { fileCheckpointStore } from '../../src/node.js';
import { useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator, ringBatches, rng } from '../train/fixtures.js';

let dir: string;
let jsonText: string;
let binBytes: Uint8Array;

function makeGan(initSeed: number) {
  const networks = [mlpGenerator(2, 2, 4, initSeed), mlpDiscriminator(2, 4, initSeed + 10)] as const;
  const optimizers = [tf.train.adam(1e-2), tf.train.adam(1e-2)] as const;
  const trainer = new train.AdversarialTrainer({
    generator: networks[0],
    discriminator: networks[1],
    loss: losses.gan.nonSaturating,
    generatorOptimizer: optimizers[0],
    discriminatorOptimizer: optimizers[1],
    seed: 3,
  });
  return { trainer, networks, optimizers };
}

async function everything(run: ReturnType<typeof makeGan>): Promise<unknown> {
  const values: number[][] = [];
  for (const n of run.networks) for (const w of n.getWeights()) values.push(Array.from(w.dataSync()));
  for (const o of run.optimizers) {
    const ws = await o.getWeights();
    for (const w of ws) values.push(Array.from(w.tensor.dataSync()));
    tf.dispose(ws.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  }
  return { values, step: run.trainer.step, rngPosition: run.trainer.rngPosition };
}

beforeAll(async () => {
  await useTestBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'genblocks-store-'));
  const run = makeGan(1);
  const batches = ringBatches(2, 8, 0.05, 1);
  await run.trainer.fit(batches, {
    steps: 3,
    callbacks: [train.checkpoint({ store: fileCheckpointStore(join(dir, 'good')), every: 1000 })],
  });
  tf.dispose(batches);
  jsonText = await readFile(join(dir, 'good', 'step-00000003', 'checkpoint.json'), 'utf8');
  binBytes = new Uint8Array(await readFile(join(dir, 'good', 'step-00000003', 'tensors.bin')));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A store holding one checkpoint written from the given file contents. */
async function storeWith(
  name: string,
  json: string,
  bin: Uint8Array | undefined,
): Promise<{ store: train.CheckpointStore; folder: string }> {
  const folder = join(dir, name, 'step-00000003');
  await rm(join(dir, name), { recursive: true, force: true });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'checkpoint.json'), json);
  if (bin) await writeFile(join(folder, 'tensors.bin'), bin);
  return { store: fileCheckpointStore(join(dir, name)), folder };
}

describe('fileCheckpointStore with damaged files', () => {
  it('loads the intact checkpoint (control)', async () => {
    const { store } = await storeWith('intact', jsonText, binBytes);
    const run = makeGan(2);
    expect(await run.trainer.resume(store)).toBe(true);
    expect(run.trainer.step).toBe(3);
  });

  const damage: [string, () => string, () => Uint8Array | undefined, RegExp][] = [
    [
      'truncated checkpoint.json',
      () => jsonText.slice(0, jsonText.length >> 1),
      () => binBytes,
      /checkpoint '.*truncated-json\/step-00000003\/checkpoint\.json': field '\(file\)' must be valid JSON, received a parse error: .*The file is truncated or damaged/,
    ],
    [
      'short tensors.bin',
      () => jsonText,
      () => binBytes.subarray(0, binBytes.length - 6),
      /checkpoint '.*short-bin\/step-00000003\/tensors\.bin': field 'bytes \d+-\d+' must exist \(tensor '.+'; the file must hold at least \d+ bytes\), received a file of \d+ bytes\. The file is truncated/,
    ],
    [
      'long tensors.bin',
      () => jsonText,
      () => new Uint8Array([...binBytes, 0, 0, 0, 0]),
      /tensors\.bin': field '\(file size\)' must be \d+ bytes, as checkpoint\.json describes, received \d+ bytes/,
    ],
    [
      'no tensors.bin',
      () => jsonText,
      () => undefined,
      /tensors\.bin': field 'tensors\.bin' must exist next to checkpoint\.json, received no such file/,
    ],
    [
      'a bit flipped in tensors.bin',
      () => jsonText,
      () => Uint8Array.from(binBytes, (b, i) => (i === 37 ? b ^ 0x10 : b)),
      /checkpoint '.*step-00000003\/tensors\.bin': field '(meta\.checksum\.values|tensors\[.+\]\.values)' must/,
    ],
    [
      'the step edited in checkpoint.json',
      () => jsonText.replace('"step": 3', '"step": 2'),
      () => binBytes,
      /checkpoint '.*step-00000003\/checkpoint\.json': field 'meta\.checksum\.header' must match the counters/,
    ],
    [
      'a negative step',
      () => jsonText.replace('"step": 3', '"step": -5'),
      () => binBytes,
      /checkpoint '.*step-00000003\/checkpoint\.json': field 'meta\.step' must be a non-negative integer, received -5/,
    ],
  ];
  it.each(damage)('%s → CheckpointError naming the file and field, trainer untouched', async (name, json, bin, message) => {
    const { store } = await storeWith(
      name
        .replace(/[^a-z]+/gi, '-')
        .replace(/^-|-$/g, '')
        .replace('truncated-checkpoint-json', 'truncated-json')
        .replace('short-tensors-bin', 'short-bin'),
      json(),
      bin(),
    );
    const run = makeGan(2);
    const before = await everything(run);
    const error = await run.trainer.resume(store).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(message);
    expect(await everything(run)).toEqual(before);
  });

  it('a file truncated on disk gives a CheckpointError, not a RangeError', async () => {
    const { store, folder } = await storeWith('truncated-on-disk', jsonText, binBytes);
    await truncate(join(folder, 'tensors.bin'), 10);
    await expect(makeGan(2).trainer.resume(store)).rejects.toThrow(CheckpointError);
  });
});

/**
 * Seeded fuzz: 3,000 damaged checkpoints (bit flips in either file, truncations, extensions,
 * JSON fields replaced by wrong values or removed). Each must be refused with a
 * `CheckpointError` (nothing else may escape: CRC-32 detects every single-bit error and every
 * truncation changes the layout); the trainer must be untouched after every refusal (its
 * variables keep their data, checked per case; all values compared at the end) and no tensor
 * may leak.
 */
describe('checkpoint loading fuzz', () => {
  it('3,000 damaged checkpoints: typed errors only, trainer untouched, no leaks', async () => {
    const random = rng(2024);
    const int = (n: number) => Math.floor(random() * n);
    const run = makeGan(2);
    const batches = ringBatches(1, 8, 0.05, 5);
    await run.trainer.fit(batches, { steps: 1 }); // the target has optimizer slots of its own
    tf.dispose(batches);
    const before = await everything(run);
    const variables = run.networks.flatMap((n) => n.weights.map((w) => (w as unknown as { val: tf.Variable }).val));
    const ids = variables.map((v) => v.dataId);
    const optimizerWeights = async () => {
      const out: tf.Tensor[] = [];
      for (const o of run.optimizers) for (const w of await o.getWeights()) out.push(w.tensor);
      return out;
    };
    const optimizerVariables = (await optimizerWeights()).filter((t) => t instanceof tf.Variable);
    const count = tf.memory().numTensors;
    const index = JSON.parse(jsonText) as { meta: Record<string, unknown>; tensors: Record<string, unknown>[] };
    const wrongValues: unknown[] = [-5, 'abc', null, 1.5, [], {}, true, 2 ** 53, '', [1, -1], [1e9, 1e9], 'int32', 'float64', 3];
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    const kinds = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      let text = jsonText;
      let bytes = binBytes;
      const kind = ['json bit', 'bin bit', 'json cut', 'bin cut', 'bin grow', 'field'][int(6)]!;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (kind === 'json bit') {
        const b = encoder.encode(text);
        b[int(b.length)] ^= 1 << int(8);
        text = decoder.decode(b);
      } else if (kind === 'bin bit') {
        bytes = binBytes.slice();
        bytes[int(bytes.length)] ^= 1 << int(8);
      } else if (kind === 'json cut') {
        text = text.slice(0, int(text.length));
      } else if (kind === 'bin cut') {
        bytes = binBytes.subarray(0, int(binBytes.length));
      } else if (kind === 'bin grow') {
        bytes = new Uint8Array([...binBytes, ...Array.from({ length: 1 + int(8) }, () => int(256))]);
      } else {
        const copy = structuredClone(index);
        const targets: [Record<string, unknown>, string][] = [
          ...Object.keys(copy.meta).map((k) => [copy.meta, k] as [Record<string, unknown>, string]),
          ...copy.tensors.flatMap((t) => Object.keys(t).map((k) => [t, k] as [Record<string, unknown>, string])),
        ];
        const [object, key] = targets[int(targets.length)]!;
        if (random() < 0.2) delete object[key];
        else object[key] = wrongValues[int(wrongValues.length)];
        // A value replaced by the one it had changes nothing: draw again.
        if (JSON.stringify(copy) === JSON.stringify(index)) {
          i--;
          continue;
        }
        text = JSON.stringify(copy, null, 1);
      }
      let error: unknown;
      try {
        await run.trainer.restore(decodeCheckpoint(text, bytes, join(dir, 'fuzz'), 'fileCheckpointStore.load'));
      } catch (e) {
        error = e;
      }
      if (error === undefined) throw new Error(`case ${i} (${kind}) loaded a damaged checkpoint`);
      if (!(error instanceof CheckpointError)) throw new Error(`case ${i} (${kind}) threw ${String(error)}`);
      if (!variables.every((v, k) => v.dataId === ids[k])) throw new Error(`case ${i} (${kind}) changed a weight before failing`);
    }
    expect([...kinds.values()].every((n) => n > 300)).toBe(true);
    const after = await optimizerWeights();
    expect(after.filter((t) => t instanceof tf.Variable)).toEqual(optimizerVariables);
    tf.dispose(after.filter((t) => !(t instanceof tf.Variable)));
    expect(tf.memory().numTensors).toBe(count);
    expect(await everything(run)).toEqual(before);
  }, 60_000);
});
