/**
 * One process of the cross-process resume test (`exact-resume.test.ts`), as in the issue's
 * repro: `node --import tsx test/train/resume-child.ts <backend> <model> <phase> <store> <out>`.
 *
 * - `first`: fits 6 steps with a checkpoint every 6 into the file store;
 * - `second`: resumes from the store and fits until 24 steps;
 * - `straight`: fits 24 steps in one go.
 *
 * Writes every weight of the networks (and the EMA) to `<out>` as JSON.
 */
import { writeFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import { backends, data, train } from '../../src/index.js';
import { fileCheckpointStore } from '../../src/node.js';
import { makeGan, makeVae, ganData, vaeData } from './resume-fixtures.js';

const [backend, model, phase, storeDir, out] = process.argv.slice(2) as [
  'cpu' | 'wasm',
  'gan' | 'vae',
  'first' | 'second' | 'straight',
  string,
  string,
];
await backends.use(backend);
const run = model === 'gan' ? makeGan(1) : makeVae(1);
const x = model === 'gan' ? ganData() : vaeData();
const batches = data.batches(x, { batchSize: 16, shuffle: true, seed: 1 });
const store = fileCheckpointStore(storeDir);
if (phase === 'first') {
  await run.trainer.fit(batches, { steps: 6, callbacks: [train.checkpoint({ store, every: 6 })] });
} else if (phase === 'second') {
  if (!(await run.trainer.resume(store))) throw new Error('no checkpoint to resume');
  await run.trainer.fit(batches, { steps: 24 });
} else {
  await run.trainer.fit(batches, { steps: 24 });
}
const weights = [...run.networks.flatMap((n: tfl.LayersModel) => n.getWeights()), ...run.extra()];
writeFileSync(out, JSON.stringify({ step: run.trainer.step, weights: weights.map((w: tf.Tensor) => Array.from(w.dataSync())) }));
