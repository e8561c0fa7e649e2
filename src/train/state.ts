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

/** A group of variables (one network, an EMA copy) that a trainer saves under one name. @category Training */
export interface VariableGroup {
  /** Name in checkpoints (`name/0`, `name/1`, ...). */
  name: string;
  /** The variables, in a fixed order. */
  variables: tf.Variable[];
}

/** An optimizer that a trainer saves under one name. @category Training */
export interface OptimizerGroup {
  /** Name in checkpoints (`name/<slot>`). */
  name: string;
  /** The optimizer. */
  optimizer: tf.Optimizer;
}

interface BackendRefs {
  incRef(dataId: object): void;
  disposeData(dataId: object): boolean;
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

/**
 * What a snapshot holds, listed once (per fit, and again when an optimizer's variables
 * change): every variable of `groups`, then each optimizer's state variables, in one flat
 * list, so that a snapshot is one pass over it.
 */
export interface SnapshotPlan {
  groups: readonly VariableGroup[];
  optimizers: { optimizer: tf.Optimizer; refs: OptimizerRefs }[];
  variables: tf.Variable[];
}

/** Lists what {@link takeSnapshot} holds; optimizers whose state cannot be listed are left out. */
export function planSnapshot(groups: readonly VariableGroup[], optimizers: readonly OptimizerGroup[], refs: readonly (OptimizerRefs | undefined)[]): SnapshotPlan {
  const plan: SnapshotPlan = { groups, optimizers: [], variables: groups.flatMap((g) => g.variables) };
  optimizers.forEach(({ optimizer }, i) => {
    const r = refs[i];
    if (!r) return;
    plan.optimizers.push({ optimizer, refs: r });
    for (const e of r.entries) if (e.variable) plan.variables.push(e.variable);
    for (const [, v] of r.hidden) plan.variables.push(v);
  });
  return plan;
}

/**
 * The values of a plan's variables before a step, held without copies: tfjs never mutates a
 * tensor's data in place (`Variable.assign` points the variable at new data and releases the
 * old), so raising the backend's reference count on each variable's data keeps the old values
 * alive, at the cost of one counter increment per variable and nothing in
 * `tf.memory().numTensors`. Backends without reference counts get clones instead.
 */
export interface Snapshot {
  plan: SnapshotPlan;
  /** Data ids, in plan order (reference-counting backends). */
  data: object[];
  backend: BackendRefs | undefined;
  /** Clones, in plan order (other backends). */
  clones: tf.Tensor[] | undefined;
  /** Each planned optimizer's iteration count. */
  iterations: number[];
}

/** Takes a snapshot of a plan's variables (synchronous). */
export function takeSnapshot(plan: SnapshotPlan): Snapshot {
  const iterations = plan.optimizers.map(({ optimizer }) => optimizer.iterations);
  const backend = tf.engine().backend as unknown as Partial<BackendRefs>;
  if (typeof backend.incRef !== 'function' || typeof backend.disposeData !== 'function') {
    return { plan, data: [], backend: undefined, clones: plan.variables.map((v) => tf.keep(tf.clone(v))), iterations };
  }
  const { variables } = plan;
  const data: object[] = new Array(variables.length);
  for (let i = 0; i < variables.length; i++) {
    const id = variables[i]!.dataId;
    backend.incRef(id);
    data[i] = id;
  }
  return { plan, data, backend: backend as BackendRefs, clones: undefined, iterations };
}

/** A new tensor on the held value of the plan's `i`-th variable (the caller disposes it). */
function materialize(s: Snapshot, i: number): tf.Tensor {
  if (s.clones) return tf.keep(tf.clone(s.clones[i]!));
  const { shape, dtype } = s.plan.variables[i]!;
  s.backend!.incRef(s.data[i]!);
  return tf.keep(tf.engine().makeTensorFromTensorInfo({ dataId: s.data[i]!, shape, dtype }));
}

/** Puts a snapshot back into the variables and optimizers. */
export async function restoreSnapshot(s: Snapshot): Promise<void> {
  let i = 0;
  for (const g of s.plan.groups) {
    for (const v of g.variables) {
      const t = materialize(s, i++);
      v.assign(t);
      t.dispose();
    }
  }
  for (const [k, { optimizer, refs }] of s.plan.optimizers.entries()) {
    const state: OptimizerState = {
      named: refs.entries.map((e) => ({ name: e.name, tensor: e.variable ? materialize(s, i++) : tf.keep(tf.scalar(s.iterations[k]!, 'int32')) })),
      hidden: refs.hidden.map(([key]) => [key, materialize(s, i++)]),
    };
    try {
      await restoreOptimizer(optimizer, state);
    } finally {
      disposeOptimizerState(state);
    }
  }
}

/** Releases a snapshot's data. */
export function disposeSnapshot(s: Snapshot): void {
  if (s.clones) {
    tf.dispose(s.clones);
    return;
  }
  const { data, backend } = s;
  const engine = tf.engine() as unknown as { removeDataId(dataId: object, backend: unknown): void };
  for (let i = 0; i < data.length; i++) {
    if (backend!.disposeData(data[i]!)) engine.removeDataId(data[i]!, backend);
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
