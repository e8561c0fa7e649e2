import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { losses } from './src/index.js';
const backend = process.argv[2] ?? 'cpu';
await tf.setBackend(backend); await tf.ready();
function build(kind: string) {

  const m = tfl.sequential();
  if (kind === 'dense' || kind === 'bn') {
    m.add(tfl.layers.dense({ units: 8, inputShape: [4], kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }), biasInitializer: tfl.initializers.randomNormal({seed: 2, stddev: 0.1}) }));
    if (kind === 'bn') m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
  } else {
    m.add(tfl.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', inputShape: [6, 6, 2], kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }) }));
    if (kind === 'ln') m.add(tfl.layers.layerNormalization());
    m.add(tfl.layers.leakyReLU({ alpha: 0.2 }));
    m.add(tfl.layers.flatten());
  }
  m.add(tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotNormal({ seed: 3 }) }));
  return m;
}
for (const kind of (process.argv[3] ?? 'dense,bn,conv,ln').split(',')) {
  const m = build(kind);
  const shape = kind === 'dense' || kind === 'bn' ? [5, 4] : [5, 6, 6, 2];
  const real = tf.randomNormal(shape, 0, 1, 'float32', 4);
  const fake = tf.randomNormal(shape, 0, 1, 'float32', 5);
  const alpha = tf.tensor1d([0.1, 0.5, 0.9, 0.3, 0.7]);
  for (const which of ['gp', 'r1']) {
    const f = () => which === 'gp' ? losses.gan.gradientPenalty(m, real, fake, { alpha }) : losses.gan.r1Penalty(m, real);
    try {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(f as () => tf.Scalar);
      const w = m.trainableWeights[0]!.read() as tf.Variable;
      const v = m.trainableWeights[0]!;
      const g = grads[v.originalName]!.dataSync();
      const base = w.dataSync().slice();
      const h = Number(process.argv[4] ?? 1e-2); let maxErr = 0;
      for (const idx of [0, 3, 7]) {
        const plus = base.slice(); plus[idx] += h; v.write(tf.tensor(plus, w.shape));
        const lp = f().dataSync()[0]!;
        const minus = base.slice(); minus[idx] -= h; v.write(tf.tensor(minus, w.shape));
        const lm = f().dataSync()[0]!;
        v.write(tf.tensor(base, w.shape));
        const fd = (lp - lm) / (2 * h);
        maxErr = Math.max(maxErr, Math.abs(fd - g[idx]!) / (Math.abs(fd) + 1e-3));
        console.log(kind, which, idx, g[idx], fd);
      }
      console.log(kind, which, 'value', value.dataSync()[0], 'maxRelErr', maxErr, 'ms', performance.now() - t0);
    } catch (e) { console.log(kind, which, 'FAIL', (e as Error).message.slice(0, 200)); }
  }
}
