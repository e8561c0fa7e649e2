/**
 * The one place that reaches into `tf.AdamOptimizer`'s private state and the engine's variable
 * registry: the fused Adam update behind `train.fusedAdam`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { FUSED_ADAM_KERNEL, FUSED_ADAM_MULTI_KERNEL } from './fused-adam-kernel.js';

/** The (TypeScript-private) state of tfjs-core 4.22's `AdamOptimizer` that the fused update reads and writes. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
}

/** Whether the active backend registers the fused Adam kernel. @internal */
export function hasFusedAdamKernel(): boolean {
  return tf.getKernel(FUSED_ADAM_KERNEL, tf.getBackend()) != null;
}

/** One float32 variable's update: its tensors and decay factor. */
interface FusedEntry {
  value: tf.Variable;
  firstMoment: tf.Variable;
  secondMoment: tf.Variable;
  gradient: tf.Tensor;
  decay: number;
}

/**
 * One Adam step of `optimizer` on `variableGradients` with the fused kernel (float32 variables)
 * or `tf.train.adam`'s operations (others), reading and writing the optimizer's moments and
 * `accBeta1/2` as `tf.AdamOptimizer.applyGradients` does. The caller increments the iteration
 * count. `decayOf` gives the factor each variable is first multiplied by (AdamW's `1 − α·λ`;
 * default 1, none), and `gradientScale` (a float32 scalar tensor, read on the heap) the factor
 * every gradient is first multiplied by (clipping by global norm), both applied in the same
 * kernel. Where the backend also registers the multi-variable kernel, every float32 variable is
 * updated by one call of it (one dispatch per step), with the same results. Requires
 * {@link hasFusedAdamKernel}.
 *
 * @internal
 */
export function applyFusedAdam(
  optimizer: tf.AdamOptimizer,
  variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0],
  decayOf: (variable: tf.Variable) => number = () => 1,
  gradientScale?: tf.Scalar,
): void {
  const state = optimizer as unknown as AdamState;
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  // A name given twice (a list) is stepped twice, in order, as tf.train.adam does: one kernel per variable then.
  const multi = tf.getKernel(FUSED_ADAM_MULTI_KERNEL, tf.getBackend()) != null && new Set(names).size === names.length;
  tf.tidy(() => {
    const oneMinusAccBeta1 = tf.sub(1, state.accBeta1);
    const oneMinusAccBeta2 = tf.sub(1, state.accBeta2);
    const attrs = { beta1: state.beta1, beta2: state.beta2, epsilon: state.epsilon, learningRate: state.learningRate };
    const scaleInput: tf.NamedTensorMap = gradientScale === undefined ? {} : { gradientScale };
    const moment = (
      list: AdamState['accumulatedFirstMoment'],
      i: number,
      name: string,
      suffix: string,
      value: tf.Variable,
    ): tf.Variable => {
      list[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      return list[i].variable;
    };
    const assign = (entry: FusedEntry, [newValue, newFirstMoment, newSecondMoment]: tf.Tensor[]) => {
      entry.firstMoment.assign(newFirstMoment!);
      entry.secondMoment.assign(newSecondMoment!);
      entry.value.assign(newValue!);
    };
    const fused: FusedEntry[] = [];
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!;
      const firstMoment = moment(state.accumulatedFirstMoment, i, name, 'm', value);
      const secondMoment = moment(state.accumulatedSecondMoment, i, name, 'v', value);
      const given = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
      if (given == null) return;
      const decay = decayOf(value);
      if (value.dtype !== 'float32' || given.dtype !== 'float32') {
        const gradient = gradientScale === undefined ? given : tf.mul(given, gradientScale);
        if (decay !== 1) value.assign(tf.mul(value, decay));
        // tf.train.adam's operations, for the rare non-float32 variable.
        const m = tf.add(tf.mul(firstMoment, state.beta1), tf.mul(gradient, 1 - state.beta1));
        const v = tf.add(tf.mul(secondMoment, state.beta2), tf.mul(tf.square(gradient), 1 - state.beta2));
        firstMoment.assign(m);
        secondMoment.assign(v);
        const step = tf.div(tf.div(m, oneMinusAccBeta1), tf.add(tf.sqrt(tf.div(v, oneMinusAccBeta2)), state.epsilon));
        value.assign(tf.add(tf.mul(step, -state.learningRate), value));
        return;
      }
      const entry = { value, firstMoment, secondMoment, gradient: given, decay };
      if (multi) {
        fused.push(entry);
        return;
      }
      const inputs = { value, firstMoment, secondMoment, gradient: given, oneMinusAccBeta1, oneMinusAccBeta2, ...scaleInput };
      assign(entry, tf.engine().runKernel(FUSED_ADAM_KERNEL, inputs, { ...attrs, decay }) as tf.Tensor[]);
    });
    if (fused.length > 0) {
      // Every float32 variable in one call: its inputs `value${i}`, …, its outputs three by three.
      const inputs: tf.NamedTensorMap = { oneMinusAccBeta1, oneMinusAccBeta2, ...scaleInput };
      fused.forEach((entry, i) => {
        inputs[`value${i}`] = entry.value;
        inputs[`firstMoment${i}`] = entry.firstMoment;
        inputs[`secondMoment${i}`] = entry.secondMoment;
        inputs[`gradient${i}`] = entry.gradient;
      });
      const outs = tf.engine().runKernel(FUSED_ADAM_MULTI_KERNEL, inputs, { ...attrs, decay: fused.map((e) => e.decay) }) as tf.Tensor[];
      fused.forEach((entry, i) => assign(entry, outs.slice(3 * i, 3 * i + 3)));
    }
    state.accBeta1.assign(tf.mul(state.accBeta1, state.beta1));
    state.accBeta2.assign(tf.mul(state.accBeta2, state.beta2));
  });
}
