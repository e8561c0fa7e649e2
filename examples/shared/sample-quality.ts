/**
 * The closing sample-quality report of the MNIST GAN examples: FID, KID, classifier score,
 * the share of samples the MNIST classifier is confident about, the class distribution and,
 * for samples drawn for requested digits, how many show the digit asked for. All under the
 * MNIST feature network that `npm run eval -- --train-feature-net` trains and saves.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { metrics } from 'genblocks';
import { loadMnist, loadModel } from 'genblocks/node';

/** What {@link reportSampleQuality} measured. */
export interface SampleQuality {
  fid: number;
  kid: number;
  classifierScore: number;
  /** Share of samples whose top class probability is at least 0.9. */
  confident: number;
  /** Share of samples per predicted class (argmax), classes 0-9. */
  classShares: number[];
  /** Share of samples classified as the digit requested for them (when `requested` was given). */
  accuracy?: number;
}

/**
 * Prints and returns the quality of `fake` (`[n, 28, 28, 1]` in [-1, 1]) against `n` MNIST test
 * images, or prints how to get a feature network and returns undefined when `featureNetDir`
 * holds none. `requested` (int32 `[n]`) are the digits the samples were drawn for, if any.
 */
export async function reportSampleQuality(
  featureNetDir: string,
  fake: tf.Tensor4D,
  options: { seed: number; requested?: tf.Tensor1D },
): Promise<SampleQuality | undefined> {
  if (!existsSync(join(featureNetDir, 'model.json'))) {
    console.log(
      `\n(no MNIST feature network in ${featureNetDir}: run 'npm run eval -- --train-feature-net' once to get FID, KID and classifier score here)`,
    );
    return undefined;
  }
  const net = await loadModel(featureNetDir);
  const test = await loadMnist({ split: 'test', normalize: '[-1,1]', limit: fake.shape[0] });
  const real = test.images;
  const features = metrics.featureExtractor(net);
  const realActivations = await metrics.computeActivations(features, real, { batchSize: 500 });
  const fakeActivations = await metrics.computeActivations(features, fake, { batchSize: 500 });
  const fid = await metrics.frechetDistanceFromActivations(realActivations, fakeActivations);
  const kid = await metrics.kernelDistance(realActivations, fakeActivations, {
    subsets: 10,
    subsetSize: Math.min(500, fake.shape[0]),
    seed: options.seed,
  });
  const probabilities = tf.tidy(() => tf.softmax(net.predict(fake) as tf.Tensor) as tf.Tensor2D);
  const score = await metrics.classifierScore(probabilities);
  const classes = await metrics.classDistribution(probabilities);
  const confidentShare = tf.tidy(() => tf.mean(tf.cast(tf.greaterEqual(tf.max(probabilities, 1), 0.9), 'float32')));
  const confident = (await confidentShare.data())[0]!;
  const accuracy = options.requested ? await metrics.classifierAccuracy(net, fake, options.requested) : undefined;
  tf.dispose([real, test.labels, probabilities, confidentShare]);
  net.dispose();

  console.log(`\nsample quality (${fake.shape[0]} samples vs ${fake.shape[0]} MNIST test images, feature net ${featureNetDir}):`);
  console.log(
    `  FID ${fid.toFixed(2)}, KID ${kid.mean.toFixed(4)} ± ${kid.standardError.toFixed(4)}, classifier score ${score.mean.toFixed(2)} (max 10)`,
  );
  console.log(`  ${(100 * confident).toFixed(1)}% of samples labelled with confidence >= 0.9`);
  if (accuracy !== undefined) console.log(`  ${(100 * accuracy).toFixed(1)}% of samples classified as the digit asked for`);
  console.log(
    `  classes: ${classes.shares.map((s, c) => `${c}:${(100 * s).toFixed(1)}%`).join(' ')} (${classes.classesCovered}/10 covered)`,
  );
  return { fid, kid: kid.mean, classifierScore: score.mean, confident, classShares: classes.shares, accuracy };
}
