import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** A small MLP encoder `[null, dim] → [mean, logVar]` with seeded initializers. */
export function mlpEncoder(dim: number, latentDim: number, width: number, seed: number): tfl.LayersModel {
  const x = tfl.input({ shape: [dim] });
  const h = tfl.layers
    .dense({ units: width, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
    .apply(x) as tfl.SymbolicTensor;
  const mean = tfl.layers
    .dense({ units: latentDim, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(h) as tfl.SymbolicTensor;
  const logVar = tfl.layers
    .dense({ units: latentDim, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) })
    .apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: [mean, logVar] });
}

/** A small MLP decoder `[null, latentDim] → [null, dim]` logits. */
export function mlpDecoder(latentDim: number, dim: number, width: number, seed: number): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(
    tfl.layers.dense({
      units: width,
      activation: 'tanh',
      inputShape: [latentDim],
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tfl.layers.dense({ units: dim, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  return model;
}

/** Binary data: each example is one of `prototypes` (0/1 vectors), chosen uniformly. */
export function binaryBatches(prototypes: number[][], count: number, batchSize: number, pick: () => number): tf.Tensor2D[] {
  const dim = prototypes[0]!.length;
  return Array.from({ length: count }, () => {
    const values = new Float32Array(batchSize * dim);
    for (let i = 0; i < batchSize; i++) values.set(prototypes[Math.floor(pick() * prototypes.length)]!, i * dim);
    return tf.tensor2d(values, [batchSize, dim]);
  });
}
