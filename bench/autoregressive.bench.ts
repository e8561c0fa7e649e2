/**
 * Autoregressive models: a GPT training step (nanoGPT's CPU size) against the same network with
 * tfjs-layers' `layerNormalization` as the final norm; one decoded token with the key/value
 * cache (typed-array engine; the tensor engine's rate as an extra) against recomputing the
 * window; generation past the block, with a context shift (`overflow: 'shift'`, keep half the
 * block) against nanoGPT's cropping (`overflow: 'crop'`); a PixelCNN training step against the same stack of unmasked `tf.layers.conv2d` (the
 * cost of the masks), beside PyTorch's CPU step on the same net where PyTorch is present
 * (bench/pytorch.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { autoregressive, layers, losses, nets, train } from '../src/index.js';
import { compare, settle, time, type BenchResult, type BenchSuite } from './harness.js';
import { pytorchColumns, trainableParams } from './pytorch.js';

/** nets.gpt's structure, with tfjs-layers' layerNormalization as the final norm (the baseline). */
function gptWithLayersNorm(vocabSize: number, blockSize: number, depth: number, heads: number, width: number): tfl.LayersModel {
  const ids = tfl.input({ shape: [null], dtype: 'int32' });
  const embedding = new layers.TokenPositionEmbedding({ vocabSize, blockSize, width, seed: 1 });
  let h = embedding.apply(ids) as tfl.SymbolicTensor;
  for (let l = 0; l < depth; l++)
    h = new layers.TransformerBlock({ heads, seed: 10 * (l + 1), projectionStddev: 0.02 / Math.sqrt(2 * depth) }).apply(
      h,
    ) as tfl.SymbolicTensor;
  h = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: embedding.apply(h) as tfl.SymbolicTensor });
}

function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  loss: (out: tf.Tensor) => tf.Scalar,
): () => Promise<void> {
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  return () => settle(() => optimizer.minimize(() => loss(model.apply(x, { training: true }) as tf.Tensor), true, variables)!);
}

const suite: BenchSuite = {
  name: 'autoregressive',
  backends: ['wasm'],
  async run(ctx) {
    const [vocab, block, depth, heads, width, batch] = ctx.quick ? [20, 16, 1, 2, 16, 2] : [98, 64, 4, 4, 128, 12];
    const gptSize = `${depth} layers, ${heads} heads, width ${width}, [${batch}, ${block}]`;
    const options = { warmup: ctx.warmup, runs: ctx.runs };
    const x = tf.randomUniformInt([batch, block], 0, vocab, 1);
    const y = tf.randomUniformInt([batch, block], 0, vocab, 2);
    const gpt = nets.gpt({ vocabSize: vocab, blockSize: block, layers: depth, heads, width, seed: 1 });
    const baseline = gptWithLayersNorm(vocab, block, depth, heads, width);
    const optimizerA = train.adamW({ learningRate: 1e-4 });
    const optimizerB = train.adamW({ learningRate: 1e-4 });
    const ce = (logits: tf.Tensor) => losses.autoregressive.crossEntropy(logits, y);
    const results: BenchResult[] = [
      await compare(
        'nets.gpt train step (adamW)',
        trainStep(gpt, optimizerA, x, ce),
        "same GPT, tfjs-layers' layerNormalization",
        trainStep(baseline, optimizerB, x, ce),
        { ...options, size: gptSize },
      ),
    ];

    // Decoding a whole context of `block` tokens: cached steps (the typed-array engine, logits read
    // as generate reads them) against a full pass over the window per token.
    const decoder = new autoregressive.CachedDecoder(gpt);
    const window = tf.tensor2d([Array.from({ length: block }, (_, i) => i % vocab)], [1, block], 'int32');
    const cachedTokens = () => {
      decoder.reset();
      for (let t = 0; t < block; t++) decoder.stepData(t % vocab);
    };
    const windowTokens = async () => {
      for (let t = 0; t < block; t++) await settle(() => gpt.predict(window) as tf.Tensor);
    };
    const generation = await compare(
      `${block} tokens with the key/value cache (${decoder.engine} engine)`,
      cachedTokens,
      `${block} tokens recomputing the ${block}-token window`,
      windowTokens,
      { ...options, size: `context ${block}` },
    );
    // The same cached decoding with tfjs ops per step (the tensor engine, the reference form).
    const tensorDecoder = new autoregressive.CachedDecoder(gpt, { engine: 'tensors' });
    const tensorTiming = await time(async () => {
      tensorDecoder.reset();
      for (let t = 0; t < block; t++) await settle(() => tensorDecoder.step(t % vocab));
    }, options);
    generation.extra = {
      'tokens/s cached': Math.round((1000 * block) / generation.timing.medianMs),
      'tokens/s cached, tensor engine': Math.round((1000 * block) / tensorTiming.medianMs),
      'tokens/s window': Math.round((1000 * block) / generation.baseline!.timing.medianMs),
    };
    results.push(generation);
    decoder.dispose();
    tensorDecoder.dispose();

    // Generation past the block: `block` tokens after a prompt that fills it, so every token is past
    // it. The shift prefills block/2 tokens every block/2 + 1 tokens and steps otherwise; cropping
    // runs a full pass over the block-token window per token. Greedy, so both draw the same way.
    const fullPrompt = Array.from({ length: block }, (_, i) => i % vocab);
    const pastBlock = (overflow: 'shift' | 'crop') => () =>
      autoregressive.generate(gpt, fullPrompt, { maxNewTokens: block, temperature: 0, overflow });
    const overflow = await compare(
      `${block} tokens past the block, overflow 'shift' (keep ${Math.max(1, Math.floor(block / 2))})`,
      pastBlock('shift'),
      `${block} tokens past the block, overflow 'crop'`,
      pastBlock('crop'),
      { ...options, size: `context ${block}` },
    );
    overflow.extra = {
      'tokens/s shift': Math.round((1000 * block) / overflow.timing.medianMs),
      'tokens/s crop': Math.round((1000 * block) / overflow.baseline!.timing.medianMs),
    };
    results.push(overflow);

    // PixelCNN step against the same stack without masks.
    const [side, filters, blocks, images] = ctx.quick ? [8, 8, 1, 4] : [28, 32, 4, 16];
    const pixel = nets.pixelCnn({ imageShape: [side, side, 1], filters, layers: blocks, levels: 2, seed: 1 });
    const input = tfl.input({ shape: [side, side, 1] });
    let h = tfl.layers.conv2d({ filters, kernelSize: 7, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    for (let l = 0; l < blocks; l++) {
      const branch = tfl.layers
        .conv2d({ filters, kernelSize: 1 })
        .apply(
          tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(tfl.layers.reLU().apply(h)),
        ) as tfl.SymbolicTensor;
      h = tfl.layers.add().apply([h, branch]) as tfl.SymbolicTensor;
    }
    h = tfl.layers.conv2d({ filters, kernelSize: 1, activation: 'relu' }).apply(tfl.layers.reLU().apply(h)) as tfl.SymbolicTensor;
    const unmasked = tfl.model({ inputs: input, outputs: tfl.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(h) as tfl.SymbolicTensor });
    const pixelOptimizers = [train.fusedAdam(), train.fusedAdam()];
    const binary = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([images, side, side, 1], 0, 1, 'float32', 3), 0.5), 'float32'));
    const targets = autoregressive.pixelTargets(binary, 2);
    const pixelLoss = (logits: tf.Tensor) => losses.autoregressive.crossEntropy(logits, targets);
    results.push(
      await compare(
        'nets.pixelCnn train step',
        trainStep(pixel, pixelOptimizers[0]!, binary, pixelLoss),
        'same stack of unmasked conv2d',
        trainStep(unmasked, pixelOptimizers[1]!, binary, pixelLoss),
        {
          ...options,
          size: `[${images}, ${side}, ${side}, 1], ${blocks} blocks of ${filters}`,
        },
      ),
    );
    // Beside PyTorch's CPU step on the same PixelCNN and batch where PyTorch is present (skipped with --quick).
    const pixelRow = results.at(-1)!;
    const columns = await pytorchColumns('pixelcnn', pixelRow.timing.medianMs, trainableParams(pixel), ctx, images);
    if (Object.keys(columns).length > 0) pixelRow.extra = columns;
    tf.dispose([x, y, window, binary, targets]);
    for (const m of [gpt, baseline, pixel, unmasked]) m.dispose();
    for (const o of [optimizerA, optimizerB, ...pixelOptimizers]) o.dispose();
    return results;
  },
};

export default suite;
