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
  if (typeof backend.incRef !== 'function') return tf.keep(tf.clone(t));
  backend.incRef(t.dataId);
  return tf.keep(engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
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

/**
 * A reference to a tensor's backend data, held without a `tf.Tensor` object: the backend's
 * reference count is raised, so the data outlives the variable moving on to new data, and
 * nothing shows in `tf.memory().numTensors`. Backends without `incRef` fall back to a clone.
 */
interface HeldData {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
  backend: BackendRefs | undefined;
  clone: tf.Tensor | undefined;
}

interface BackendRefs {
  incRef(dataId: object): void;
  disposeData(dataId: object): boolean;
}

function hold(t: tf.Tensor): HeldData {
  const backend = tf.engine().backend as unknown as Partial<BackendRefs>;
  if (typeof backend.incRef === 'function' && typeof backend.disposeData === 'function') {
    backend.incRef(t.dataId);
    return { dataId: t.dataId, shape: t.shape, dtype: t.dtype, backend: backend as BackendRefs, clone: undefined };
  }
  return { dataId: t.dataId, shape: t.shape, dtype: t.dtype, backend: undefined, clone: tf.keep(tf.clone(t)) };
}

function release(h: HeldData): void {
  if (h.clone) h.clone.dispose();
  else if (h.backend!.disposeData(h.dataId)) {
    (tf.engine() as unknown as { removeDataId(d: object, b: unknown): void }).removeDataId(h.dataId, h.backend);
  }
}

/** A new tensor on held data (the caller disposes it). */
function materialize(h: HeldData): tf.Tensor {
  if (h.clone) return tf.keep(tf.clone(h.clone));
  h.backend!.incRef(h.dataId);
  return tf.keep(tf.engine().makeTensorFromTensorInfo({ dataId: h.dataId, shape: h.shape, dtype: h.dtype }));
}

/** The variables of an optimizer's state, found once with `getWeights()` and reused every step. */
export interface OptimizerRefs {
  /** `getWeights()` entries in order; `variable` undefined for the iteration counter. */
  entries: { name: string; variable: tf.Variable | undefined }[];
  hidden: [string, tf.Variable][];
  /** The optimizer's iteration count when the list was taken (0: its variables may not exist yet). */
  takenAt: number;
}

/** Lists an optimizer's state variables. `undefined` when `getWeights()` is not implemented. */
export async function optimizerRefs(optimizer: tf.Optimizer): Promise<OptimizerRefs | undefined> {
  let weights: NamedTensor[];
  try {
    weights = await optimizer.getWeights();
  } catch {
    return undefined;
  }
  const entries = weights.map(({ name, tensor }) => {
    if (tensor instanceof tf.Variable) return { name, variable: tensor };
    tensor.dispose();
    return { name, variable: undefined };
  });
  return { entries, hidden: hiddenVariables(optimizer), takenAt: optimizer.iterations };
}

interface OptimizerSnapshot {
  optimizer: tf.Optimizer;
  refs: OptimizerRefs;
  iterations: number;
  entries: (HeldData | undefined)[];
  hidden: HeldData[];
}

/** A snapshot of variables and optimizer states taken before a step, holding data without copies. */
export interface Snapshot {
  variables: HeldData[][];
  optimizers: (OptimizerSnapshot | undefined)[];
}

/** Takes a snapshot (synchronous: `refs` were listed beforehand). */
export function takeSnapshot(groups: readonly VariableGroup[], optimizers: readonly OptimizerGroup[], refs: readonly (OptimizerRefs | undefined)[]): Snapshot {
  return {
    variables: groups.map((g) => g.variables.map(hold)),
    optimizers: optimizers.map(({ optimizer }, i) => {
      const r = refs[i];
      if (!r) return undefined;
      return {
        optimizer,
        refs: r,
        iterations: optimizer.iterations,
        entries: r.entries.map((e) => (e.variable ? hold(e.variable) : undefined)),
        hidden: r.hidden.map(([, v]) => hold(v)),
      };
    }),
  };
}

/** Puts a snapshot back into the variables and optimizers. */
export async function restoreSnapshot(s: Snapshot, groups: readonly VariableGroup[]): Promise<void> {
  groups.forEach((g, i) =>
    g.variables.forEach((v, j) => {
      const t = materialize(s.variables[i]![j]!);
      v.assign(t);
      t.dispose();
    }),
  );
  for (const o of s.optimizers) {
    if (!o) continue;
    const state: OptimizerState = {
      named: o.refs.entries.map((e, k) => ({ name: e.name, tensor: e.variable ? materialize(o.entries[k]!) : tf.keep(tf.scalar(o.iterations, 'int32')) })),
      hidden: o.refs.hidden.map(([key], k) => [key, materialize(o.hidden[k]!)]),
    };
    try {
      await restoreOptimizer(o.optimizer, state);
    } finally {
      disposeOptimizerState(state);
    }
  }
}

/** Releases a snapshot's data. */
export function disposeSnapshot(s: Snapshot): void {
  s.variables.flat().forEach(release);
  for (const o of s.optimizers) {
    if (!o) continue;
    o.entries.forEach((h) => h && release(h));
    o.hidden.forEach(release);
  }
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
