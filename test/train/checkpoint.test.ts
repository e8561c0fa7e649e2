/**
 * Checkpoint format 2: checksums, validation of everything before anything is assigned,
 * `CheckpointError` naming the field, untouched networks and optimizers after a refused load,
 * version-1 checkpoints, the stateful-layer hook, and no leaks over repeated restores.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, losses, train } from '../../src/index.js';
import { checksumOf, crc32 } from '../../src/train/checkpoint-format.js';
import { restoreState } from '../../src/train/checkpoint-restore.js';
import { readState } from '../../src/train/state.js';
import { useTestBackend } from '../helpers/backends.js';
import { mlpDiscriminator, mlpGenerator, ringBatches } from './fixtures.js';
import { makeVae, vaeData } from './resume-fixtures.js';

beforeAll(async () => {
  await useTestBackend('cpu');
});

function makeGan(initSeed: number, generatorOptimizer: tf.Optimizer = tf.train.adam(1e-2)) {
  const generator = mlpGenerator(2, 2, 8, initSeed);
  const discriminator = mlpDiscriminator(2, 8, initSeed + 10);
  const optimizers = [generatorOptimizer, tf.train.adam(1e-2)] as const;
  const trainer = new train.AdversarialTrainer({
    generator,
    discriminator,
    loss: losses.gan.nonSaturating,
    generatorOptimizer: optimizers[0],
    discriminatorOptimizer: optimizers[1],
    ema: 0.5,
    seed: 3,
  });
  return { trainer, optimizers, networks: [generator, discriminator] };
}

/** Every value a restore could touch: weights (all), EMA, both optimizers' weights and iterations, counters. */
async function everything(run: ReturnType<typeof makeGan>): Promise<unknown> {
  const values: number[][] = [];
  for (const n of run.networks) for (const w of n.getWeights()) values.push(Array.from(w.dataSync()));
  for (const w of run.trainer.emaWeights!) values.push(Array.from(w.dataSync()));
  for (const o of run.optimizers) {
    const ws = await o.getWeights();
    for (const w of ws) values.push(Array.from(w.tensor.dataSync()));
    tf.dispose(ws.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  }
  const { step, epoch, batchInEpoch, rngPosition, skippedSteps, seed } = run.trainer;
  return { values, counters: { step, epoch, batchInEpoch, rngPosition, skippedSteps, seed } };
}

/** A deep copy of a checkpoint (typed arrays copied). */
function copy(c: train.Checkpoint): train.Checkpoint {
  return { meta: structuredClone(c.meta), tensors: c.tensors.map((t) => ({ ...t, shape: [...t.shape], values: t.values.slice() })) };
}

/** Recomputes the checksums after an edit, so that the deeper checks are reached. */
function resign(c: train.Checkpoint): train.Checkpoint {
  c.meta.checksum = checksumOf(c.meta, c.tensors);
  return c;
}

describe('checkpoint validation', () => {
  let saved: train.Checkpoint;
  let target: ReturnType<typeof makeGan>;
  let before: unknown;

  beforeAll(async () => {
    const source = makeGan(1);
    const batches = ringBatches(3, 8, 0.05, 1);
    await source.trainer.fit(batches, { steps: 3 });
    saved = await source.trainer.checkpoint();
    tf.dispose(batches);
    // The target has trained too (its optimizers have slots): a refused load must keep them.
    target = makeGan(2);
    const own = ringBatches(2, 8, 0.05, 9);
    await target.trainer.fit(own, { steps: 2 });
    tf.dispose(own);
    before = await everything(target);
  });

  it('CRC-32 matches the standard check value', () => {
    // CRC-32/ISO-HDLC check value of "123456789" (Greg Cook's CRC catalogue; zlib's crc32).
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('writes format version 2 with checksums and the stateful-layer record', () => {
    expect(saved.meta).toMatchObject({ format: 'genblocks-checkpoint', version: 2, kind: 'adversarial', step: 3, layers: {} });
    expect(saved.meta.checksum).toEqual({
      algorithm: 'crc32',
      header: expect.stringMatching(/^[0-9a-f]{8}$/),
      values: expect.stringMatching(/^[0-9a-f]{8}$/),
    });
  });

  const cases: [string, (c: train.Checkpoint) => train.Checkpoint | unknown, RegExp][] = [
    [
      'a value array one element short',
      (c) => resign(((c.tensors[3]!.values = c.tensors[3]!.values.slice(1)), c)),
      /field 'tensors\['generator\/3'\]\.values' must hold 8 values \(shape \[8\]\), received 7/,
    ],
    [
      'a dtype changed to int32',
      (c) => resign(((c.tensors[0] = { ...c.tensors[0]!, dtype: 'int32', values: Int32Array.from(c.tensors[0]!.values) }), c)),
      /field 'tensors\['generator\/0'\]\.dtype' must be 'float32' like generator's weight 0, received 'int32'/,
    ],
    [
      'an optimizer slot missing',
      (c) =>
        resign(
          ((c.tensors = c.tensors
            .filter((t) => !t.name.endsWith('/v') || !t.name.startsWith('generatorOptimizer/') || !t.name.includes('kernel'))
            .slice(0)),
          c),
        ),
      /field 'tensors\['generatorOptimizer\/\*'\]' must hold 12 slots \(2 per variable of the 6 it updates, for a Adam optimizer\), received 9/,
    ],
    [
      'an optimizer slot of the wrong shape',
      (c) => {
        const i = c.tensors.findIndex((t) => t.name.startsWith('discriminatorOptimizer/') && t.name.endsWith('/m'));
        c.tensors[i] = { ...c.tensors[i]!, shape: [c.tensors[i]!.values.length], values: c.tensors[i]!.values };
        return resign(c);
      },
      /field 'tensors\['discriminatorOptimizer\/.+\/m'\]\.shape' must be \[2,8\] like slot 0 of the variable it belongs to, received \[16\]/,
    ],
    ['step "abc"', (c) => resign(((c.meta.step = 'abc' as never), c)), /field 'meta\.step' must be a non-negative integer, received 'abc'/],
    ['step -5', (c) => resign(((c.meta.step = -5), c)), /field 'meta\.step' must be a non-negative integer, received -5/],
    [
      'rngPosition below step + skippedSteps',
      (c) => resign(((c.meta.rngPosition = 1), c)),
      /field 'meta\.rngPosition' must be at least step \+ skippedSteps \(3\), received 1/,
    ],
    [
      'no version (not a checkpoint this genblocks wrote)',
      (c) => (delete (c.meta as { version?: number }).version, c),
      /field 'meta\.version' must be a checkpoint format version this genblocks reads \(1 or 2\), received no version/,
    ],
    [
      'version 3',
      (c) => ((c.meta.version = 3 as never), c),
      /field 'meta\.version' must be .*received version 3\. It was written by a newer genblocks/,
    ],
    [
      'a changed value (checksum)',
      (c) => ((c.tensors[5]!.values[0] = 0.25), c),
      /field 'meta\.checksum\.values' must match the tensor values \(crc32 [0-9a-f]{8}\), received [0-9a-f]{8}/,
    ],
    ['a changed counter (checksum)', (c) => ((c.meta.step = 4), (c.meta.rngPosition = 4), c), /field 'meta\.checksum\.header' must match/],
    [
      'a NaN weight',
      (c) => resign(((c.tensors[1]!.values[2] = Number.NaN), c)),
      /field 'tensors\['generator\/1'\]\.values' must be finite, received NaN at index 2/,
    ],
    [
      'an unknown tensor',
      (c) => resign((c.tensors.push({ name: 'generator/99', shape: [1], dtype: 'float32', values: new Float32Array(1) }), c)),
      /field 'tensors\['generator\/99'\]' must belong to one of this trainer's networks or optimizers/,
    ],
    [
      'a duplicate tensor name',
      (c) => resign(((c.tensors[1] = { ...c.tensors[1]!, name: c.tensors[0]!.name }), c)),
      /field 'tensors\['generator\/0'\]\.name' must be unique/,
    ],
    [
      'an unknown optimizer variable',
      (c) => resign(((c.tensors.find((t) => t.name.includes('$hidden/accBeta1'))!.name = 'generatorOptimizer/$hidden/nope'), c)),
      /field 'tensors\['generatorOptimizer\/\$hidden\/nope'\]' must name a variable of generatorOptimizer \(accBeta1, accBeta2\), received 'nope'/,
    ],
    [
      'not a checkpoint',
      () => 'runs/x',
      /train\.AdversarialTrainer\.restore: checkpoint: field 'checkpoint' must be a genblocks checkpoint \{ meta, tensors \}, received 'runs\/x'/,
    ],
  ];

  it.each(cases)(
    'refuses %s with a CheckpointError and leaves networks, optimizers and counters untouched',
    async (_name, edit, message) => {
      const bad = edit(copy(saved));
      const error = await target.trainer.restore(bad as train.Checkpoint).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toMatch(message);
      expect(await everything(target)).toEqual(before);
    },
  );

  it("without the optimizer's variable list, compares slots with the optimizer's own (trainers that do not declare it)", async () => {
    const v = tf.variable(tf.ones([3]));
    const optimizer = tf.train.adam(0.1);
    optimizer.minimize(() => tf.sum(tf.square(v)) as tf.Scalar, false, [v]);
    const target = {
      fn: 'test.restore',
      kind: 'custom',
      groups: [{ name: 'net', variables: [v] }],
      optimizers: [{ name: 'opt', optimizer }],
    };
    const tensors = await readState(target.groups, target.optimizers);
    const meta: train.CheckpointMeta = {
      format: 'genblocks-checkpoint',
      version: 2,
      kind: 'custom',
      step: 1,
      epoch: 0,
      batchInEpoch: 1,
      rngPosition: 1,
      skippedSteps: 0,
      seed: 1,
      layers: {},
    };
    const good = resign({ meta: { ...meta }, tensors: tensors.map((t) => ({ ...t })) });
    await restoreState(good, target);
    const slot = tensors.findIndex((t) => t.name.endsWith('/m'));
    const bad = resign({ meta: { ...meta }, tensors: tensors.map((t, i) => (i === slot ? { ...t, shape: [1, 3] } : { ...t })) });
    await expect(restoreState(bad, target)).rejects.toThrow(
      /field 'tensors\['opt\/.+\/m'\]\.shape' must be \[3\] like opt's slot .+\/m, received \[1,3\]/,
    );
    v.dispose();
    optimizer.dispose();
  });

  it('puts the state back when an optimizer throws while loading, and names the error', async () => {
    /** SGD whose first `setWeights` fails (after the networks were assigned); later ones work. */
    class FlakySgd extends tf.SGDOptimizer {
      private failed = false;
      override async setWeights(weights: Parameters<tf.SGDOptimizer['setWeights']>[0]): Promise<void> {
        if (!this.failed) {
          this.failed = true;
          throw new Error('boom');
        }
        await super.setWeights(weights);
      }
    }
    const source = makeGan(1, new FlakySgd(0.1));
    const batches = ringBatches(1, 8, 0.05, 1);
    await source.trainer.fit(batches, { steps: 1 });
    const c = await source.trainer.checkpoint();
    const other = makeGan(2, new FlakySgd(0.1));
    const start = await everything(other);
    await expect(other.trainer.restore(c)).rejects.toThrow(
      /field 'tensors' must load into the optimizers and layers, received an error: boom/,
    );
    expect(await everything(other)).toEqual(start);
    tf.dispose(batches);
  });

  it('restores leak nothing: 5 restores, and 5 refused ones', async () => {
    const run = makeGan(4);
    await run.trainer.restore(saved);
    const count = tf.memory().numTensors;
    const restored = await everything(run);
    for (let i = 0; i < 5; i++) await run.trainer.restore(saved);
    expect(tf.memory().numTensors).toBe(count);
    for (let i = 0; i < 5; i++)
      await expect(run.trainer.restore(cases[0]![1](copy(saved)) as train.Checkpoint)).rejects.toThrow(CheckpointError);
    expect(tf.memory().numTensors).toBe(count);
    expect(await everything(run)).toEqual(restored);
  });
});

describe('version-1 checkpoints and the stateful-layer hook', () => {
  it('a version-1 checkpoint (sampleCounts, no checksum) still loads and resumes bit for bit', async () => {
    const x = vaeData();
    const straight = makeVae(1);
    const source = () => [tf.slice(x, 0, 16), tf.slice(x, 16, 16), tf.slice(x, 32, 16)];
    const data1 = source();
    await straight.trainer.fit(data1, { steps: 12 });
    const first = makeVae(1);
    await first.trainer.fit(data1, { steps: 6 });
    const c = await first.trainer.checkpoint();
    // What genblocks 0.1 wrote: version 1, the Reparameterize counters as `sampleCounts`.
    const v1 = {
      meta: { ...c.meta, version: 1 as const, sampleCounts: c.meta.layers!['model']!.map((l) => l.state['sampleCount']!) },
      tensors: c.tensors,
    };
    delete v1.meta.layers;
    delete v1.meta.checksum;
    const resumed = makeVae(2);
    await resumed.trainer.restore(v1);
    await resumed.trainer.fit(data1, { steps: 12 });
    expect(resumed.networks[0]!.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(
      straight.networks[0]!.getWeights().map((w) => Array.from(w.dataSync())),
    );
    // A version-1 checkpoint with the wrong number of counters is refused.
    await expect(makeVae(3).trainer.restore({ ...v1, meta: { ...v1.meta, sampleCounts: [] } })).rejects.toThrow(
      /field 'meta\.sampleCounts' must hold the sample counters of 1 sampling layer\(s\), as these networks have, received 0/,
    );
    tf.dispose([x, ...data1]);
  });

  it('saves and restores any layer implementing train.StatefulLayer, without the trainer knowing its class', async () => {
    /** An identity layer that counts its training calls (state besides weights). */
    class CountingIdentity extends tfl.layers.Layer implements train.StatefulLayer {
      static className = 'test>CountingIdentity';
      calls = 0;
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        this.calls++;
        return tf.clone(Array.isArray(inputs) ? inputs[0]! : inputs);
      }
      getState(): Record<string, number> {
        return { calls: this.calls };
      }
      setState(state: Record<string, number>): void {
        this.calls = state['calls']!;
      }
    }
    const build = (seed: number) => {
      const layer = new CountingIdentity({ name: `counting_${seed}` });
      const g = tfl.sequential({
        layers: [tfl.layers.dense({ units: 2, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({ seed }) }), layer],
      });
      const trainer = new train.AdversarialTrainer({
        generator: g,
        discriminator: mlpDiscriminator(2, 4, seed),
        loss: losses.gan.nonSaturating,
        generatorOptimizer: tf.train.sgd(0.1),
        discriminatorOptimizer: tf.train.sgd(0.1),
        seed: 1,
      });
      return { layer, trainer };
    };
    const a = build(1);
    const batches = ringBatches(2, 4, 0.05, 1);
    await a.trainer.fit(batches, { steps: 3 });
    const c = await a.trainer.checkpoint();
    expect(a.layer.calls).toBeGreaterThan(0);
    expect(c.meta.layers).toEqual({ generator: [{ className: 'test>CountingIdentity', state: { calls: a.layer.calls } }] });
    const b = build(2);
    await b.trainer.restore(c);
    expect(b.layer.calls).toBe(a.layer.calls);
    // A state with other keys is refused before anything is assigned.
    const wrong = copy(c);
    wrong.meta.layers = { generator: [{ className: 'test>CountingIdentity', state: { count: 1 } }] };
    const fresh = build(3);
    await expect(fresh.trainer.restore(resign(wrong))).rejects.toThrow(
      /field 'meta\.layers\.generator\[0\]\.state' must have the keys calls, received count/,
    );
    expect(fresh.layer.calls).toBe(0);
    tf.dispose(batches);
  });
});
