/**
 * Training state: zero-copy snapshots (for rolling back a non-finite step) and the
 * conversion of a trainer's variables and optimizer state to and from a {@link Checkpoint}.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { ArgumentError } from '../errors.js';
import { formatShape } from '../validation.js';

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
import type { Checkpoint, CheckpointTensor } from './checkpoint.js';

/**
 * A second tensor on the same backend data as `t`, without copying: tfjs never mutates a
 * tensor's data in place (`Variable.assign` points the variable at new data), so holding this
 * keeps the old value alive for as long as it is needed. Falls back to `tf.clone`.
 */
export function share(t: tf.Tensor): tf.Tensor {
  const engine = tf.engine();
  const backend = engine.backend as unknown as { incRef?: (dataId: object) => void };
  if (typeof backend.incRef !== 'function' || engine.backendName !== backendNameOf(t)) return tf.keep(tf.clone(t));
  backend.incRef(t.dataId);
  return tf.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
}

function backendNameOf(_t: tf.Tensor): string {
  // Tensors of a training run all live on the active backend; a mismatch would have failed earlier.
  return tf.engine().backendName;
}

/** Variables that an optimizer keeps besides `getWeights()` (Adam's `accBeta1`, ...). */
function hiddenVariables(optimizer: tf.Optimizer): [string, tf.Variable][] {
  return Object.entries(optimizer).filter((e): e is [string, tf.Variable] => e[1] instanceof tf.Variable);
}

/** An optimizer's state: its `getWeights()` plus hidden variables. Tensors are shared or fresh; dispose with {@link disposeOptimizerState}. */
export interface OptimizerState {
  named: NamedTensor[];
  hidden: [string, tf.Tensor][];
}

/** Captures an optimizer's state without copying. `undefined` when the optimizer cannot report its state. */
export async function captureOptimizer(optimizer: tf.Optimizer): Promise<OptimizerState | undefined> {
  let weights: NamedTensor[];
  try {
    weights = await optimizer.getWeights();
  } catch {
    return undefined;
  }
  return {
    named: weights.map(({ name, tensor }) => ({ name, tensor: tensor instanceof tf.Variable ? share(tensor) : tf.keep(tensor) })),
    hidden: hiddenVariables(optimizer).map(([key, v]) => [key, share(v)]),
  };
}

/** Disposes the tensors of a captured state. */
export function disposeOptimizerState(state: OptimizerState | undefined): void {
  if (!state) return;
  tf.dispose(state.named.map((w) => w.tensor));
  tf.dispose(state.hidden.map(([, t]) => t));
}

/**
 * Puts `state` back into `optimizer` (`setWeights`, then the hidden variables), and disposes
 * the variables the optimizer dropped. `state` stays owned by the caller.
 */
export async function restoreOptimizer(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  const before = await optimizer.getWeights();
  await optimizer.setWeights(state.named.map(({ name, tensor }) => ({ name, tensor: share(tensor) })));
  const after = await optimizer.getWeights();
  const live = new Set(after.map((w) => w.tensor));
  for (const w of before) if (!live.has(w.tensor)) w.tensor.dispose();
  for (const w of after) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  const hidden = new Map(hiddenVariables(optimizer));
  for (const [key, value] of state.hidden) {
    const v = hidden.get(key);
    if (v && tf.util.arraysEqual(v.shape, value.shape) && v.dtype === value.dtype) v.assign(value);
  }
}

/** A group of variables (one network, an EMA copy) saved under one name. */
export interface VariableGroup {
  name: string;
  variables: tf.Variable[];
}

/** An optimizer saved under one name. */
export interface OptimizerGroup {
  name: string;
  optimizer: tf.Optimizer;
}

/** Zero-copy snapshot of variables and optimizers, taken before a step. */
export interface Snapshot {
  variables: tf.Tensor[][];
  optimizers: (OptimizerState | undefined)[];
}

export async function takeSnapshot(groups: readonly VariableGroup[], optimizers: readonly OptimizerGroup[]): Promise<Snapshot> {
  const states: (OptimizerState | undefined)[] = [];
  for (const { optimizer } of optimizers) states.push(await captureOptimizer(optimizer));
  return { variables: groups.map((g) => g.variables.map(share)), optimizers: states };
}

export async function restoreSnapshot(s: Snapshot, groups: readonly VariableGroup[], optimizers: readonly OptimizerGroup[]): Promise<void> {
  groups.forEach((g, i) => g.variables.forEach((v, j) => v.assign(s.variables[i]![j]!)));
  for (let i = 0; i < optimizers.length; i++) {
    const state = s.optimizers[i];
    if (state) await restoreOptimizer(optimizers[i]!.optimizer, state);
  }
}

export function disposeSnapshot(s: Snapshot): void {
  tf.dispose(s.variables.flat());
  s.optimizers.forEach(disposeOptimizerState);
}

async function readTensor(name: string, t: tf.Tensor): Promise<CheckpointTensor> {
  const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
  const data = await t.data();
  return { name, shape: [...t.shape], dtype, values: dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data) };
}

/** Reads variables and optimizer states into checkpoint tensors (names `group/index`, `group/name`, `group/$hidden/key`). */
export async function readState(groups: readonly VariableGroup[], optimizers: readonly OptimizerGroup[]): Promise<CheckpointTensor[]> {
  const out: CheckpointTensor[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.variables.length; i++) out.push(await readTensor(`${g.name}/${i}`, g.variables[i]!));
  }
  for (const { name, optimizer } of optimizers) {
    const state = await captureOptimizer(optimizer);
    if (!state) continue;
    try {
      for (const w of state.named) out.push(await readTensor(`${name}/${w.name}`, w.tensor));
      for (const [key, t] of state.hidden) out.push(await readTensor(`${name}/$hidden/${key}`, t));
    } finally {
      disposeOptimizerState(state);
    }
  }
  return out;
}

/** Writes checkpoint tensors back into variables and optimizers, checking names and shapes first. */
export async function writeState(
  checkpoint: Checkpoint,
  groups: readonly VariableGroup[],
  optimizers: readonly OptimizerGroup[],
  fn: string,
): Promise<void> {
  const byName = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  const fail = (expected: string, received: string): never => {
    throw new ArgumentError({ fn, arg: 'checkpoint', expected, received, hint: 'Resume with networks built exactly as in the run that wrote the checkpoint' });
  };
  for (const g of groups) {
    g.variables.forEach((v, i) => {
      const t = byName.get(`${g.name}/${i}`);
      if (!t) fail(`hold '${g.name}/${i}' (${g.name} has ${g.variables.length} weights)`, 'a checkpoint without it');
      else if (!tf.util.arraysEqual(t.shape, v.shape)) fail(`hold '${g.name}/${i}' of shape ${formatShape(v.shape)}`, `shape ${formatShape(t.shape)}`);
    });
  }
  for (const g of groups) {
    g.variables.forEach((v, i) => {
      const t = byName.get(`${g.name}/${i}`)!;
      tf.tidy(() => v.assign(tf.tensor(t.values, t.shape, t.dtype)));
    });
  }
  for (const { name, optimizer } of optimizers) {
    const prefix = `${name}/`;
    const entries = checkpoint.tensors.filter((t) => t.name.startsWith(prefix));
    if (entries.length === 0) continue;
    const named: NamedTensor[] = [];
    const hidden: [string, tf.Tensor][] = [];
    for (const t of entries) {
      const rest = t.name.slice(prefix.length);
      const tensor = tf.tensor(t.values, t.shape, t.dtype);
      if (rest.startsWith('$hidden/')) hidden.push([rest.slice('$hidden/'.length), tensor]);
      else named.push({ name: rest, tensor });
    }
    const state: OptimizerState = { named, hidden };
    try {
      await restoreOptimizer(optimizer, state);
    } finally {
      disposeOptimizerState(state);
    }
  }
}
