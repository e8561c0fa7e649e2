/**
 * Training state: snapshots for rolling back a discarded step (held without copies, see
 * `backends/variable-values.ts`), the finiteness check of a step's new state, and the
 * conversion of a trainer's variables and optimizer state to checkpoint tensors.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import {
  checkOnAssign,
  heldTensor,
  holdValues,
  isHeldValue,
  releaseValues,
  shareTensor,
  type AssignmentCheck,
  type HeldValues,
} from '../backends/variable-values.js';
import type { CheckpointTensor } from './checkpoint.js';

export type { AssignmentCheck } from '../backends/variable-values.js';

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/**
 * A second tensor on the same data as `t`, without copying (a clone on backends without
 * reference counts). Kept; the caller disposes it.
 */
export const share = shareTensor;

/** Variables that an optimizer keeps besides `getWeights()` (Adam's `accBeta1`, ...). */
export function hiddenVariables(optimizer: tf.Optimizer): [string, tf.Variable][] {
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
 * the variables the optimizer dropped. `state` stays owned by the caller: `setWeights` gets
 * shared tensors of its own, which are disposed here once the optimizer has made its variables
 * from them (tfjs' `setWeights` turns each into a new variable on the same data).
 */
export async function restoreOptimizer(optimizer: tf.Optimizer, state: OptimizerState): Promise<void> {
  const before = await optimizer.getWeights();
  const handed = state.named.map(({ name, tensor }) => ({ name, tensor: share(tensor) }));
  try {
    await optimizer.setWeights(handed);
  } finally {
    tf.dispose(handed.map((w) => w.tensor));
  }
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

/**
 * A group of variables (one network, an EMA copy) that a trainer saves under one name. `network`,
 * when given, is searched for stateful layers (see `train.StatefulLayer`).
 *
 * @category Training
 */
export interface VariableGroup {
  /** Name in checkpoints (`name/0`, `name/1`, ...). */
  name: string;
  /** The variables, in a fixed order. */
  variables: tf.Variable[];
  /** The network the variables belong to, searched for stateful layers (`train.StatefulLayer`). */
  network?: unknown;
}

/**
 * An optimizer that a trainer saves under one name, with the variables it updates (in the order
 * it gets their gradients), when known.
 *
 * @category Training
 */
export interface OptimizerGroup {
  /** Name in checkpoints (`name/<slot>`). */
  name: string;
  /** The optimizer. */
  optimizer: tf.Optimizer;
  /** The variables it updates, in the order it receives their gradients (checks slot shapes on restore). */
  variables?: readonly tf.Variable[];
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
 * list with a label each (`generator/3`, `generatorOptimizer/dense_Dense1/kernel/m`), so that
 * a snapshot is one pass over it.
 */
export interface SnapshotPlan {
  groups: readonly VariableGroup[];
  optimizers: { name: string; optimizer: tf.Optimizer; refs: OptimizerRefs }[];
  variables: tf.Variable[];
  labels: string[];
  /**
   * Whether the finiteness of variable `i`'s new value follows from that of others the same
   * check reads, so that the check need not read it (see {@link firstMomentsImplied}). Held and
   * restored like every other.
   */
  implied: boolean[];
}

/**
 * Whether the first moments (`m`) of `optimizer` need no finiteness check of their own: true
 * for `tf.train.adam` itself (not a subclass, whose update may differ) when every variable it
 * updates is planned. tfjs's Adam (`adam_optimizer.ts`, 4.x) computes, for each variable θ it
 * updates, `m' = β₁m + (1−β₁)g`, `v' = β₂v + (1−β₂)g²` and assigns
 * `θ' = θ − lr · (m'/(1−β₁ᵗ)) / (√(v'/(1−β₂ᵗ)) + ε)` from those same `m'` and `v'`. With `m`
 * finite before the step (the last good state), `m'` is non-finite only through a non-finite or
 * overflowing gradient, which makes `g²`, so `v'`, infinite (or NaN), and `m'/…` then NaN; a NaN
 * `m'` makes `θ'` NaN. So a non-finite `m'` always gives a non-finite `θ'`, and the check of the
 * planned θ catches the step (which is then rolled back, `m` included). `v` is not implied: an
 * infinite `v'` leaves `θ'` finite (a division by infinity). Saves a third of the state check on
 * Adam: 1/3 of the scans of 12.2 MiB per step of the larger trainer-overhead MLP.
 */
export function firstMomentsImplied(
  optimizer: tf.Optimizer,
  updates: readonly tf.Variable[] | undefined,
  planned: ReadonlySet<tf.Variable>,
): boolean {
  return Object.getPrototypeOf(optimizer) === tf.AdamOptimizer.prototype && updates !== undefined && updates.every((v) => planned.has(v));
}

/** Lists what {@link takeSnapshot} holds; optimizers whose state cannot be listed are left out. */
export function planSnapshot(
  groups: readonly VariableGroup[],
  optimizers: readonly OptimizerGroup[],
  refs: readonly (OptimizerRefs | undefined)[],
): SnapshotPlan {
  const plan: SnapshotPlan = { groups, optimizers: [], variables: [], labels: [], implied: [] };
  for (const g of groups) {
    g.variables.forEach((v, i) => {
      plan.variables.push(v);
      plan.labels.push(`${g.name}/${i}`);
      plan.implied.push(false);
    });
  }
  const planned = new Set(plan.variables);
  optimizers.forEach(({ name, optimizer, variables }, i) => {
    const r = refs[i];
    if (!r) return;
    plan.optimizers.push({ name, optimizer, refs: r });
    // tfjs's Adam names its slots `${variable.name}/m` and `${variable.name}/v` (getWeights).
    const implied = firstMomentsImplied(optimizer, variables, planned);
    for (const e of r.entries) {
      if (!e.variable) continue;
      plan.variables.push(e.variable);
      plan.labels.push(`${name}/${e.name}`);
      plan.implied.push(implied && e.name.endsWith('/m'));
    }
    for (const [key, v] of r.hidden) {
      plan.variables.push(v);
      plan.labels.push(`${name}/$hidden/${key}`);
      plan.implied.push(false);
    }
  });
  return plan;
}

/**
 * The values of a plan's variables before a step, held without copies (see
 * `backends/variable-values.ts`): one reference-count increment per variable and nothing in
 * `tf.memory().numTensors`.
 */
export interface Snapshot {
  plan: SnapshotPlan;
  held: HeldValues;
  /** Each planned optimizer's iteration count. */
  iterations: number[];
}

/** Takes a snapshot of a plan's variables (synchronous). */
export function takeSnapshot(plan: SnapshotPlan): Snapshot {
  return { plan, held: holdValues(plan.variables), iterations: plan.optimizers.map(({ optimizer }) => optimizer.iterations) };
}

/**
 * The planned variables that a step assigned since the snapshot, with their labels: the only
 * ones whose finiteness can have changed (less those whose finiteness is implied by others',
 * `plan.implied`). With `checked` (from {@link checkAssignments} on the
 * snapshot's plan), those whose new value was found finite as it was assigned are left out.
 */
export function changedSince(s: Snapshot, checked?: AssignmentCheck): { variables: tf.Variable[]; labels: string[] } {
  const variables: tf.Variable[] = [];
  const labels: string[] = [];
  const { plan, held } = s;
  for (let i = 0; i < plan.variables.length; i++) {
    const v = plan.variables[i]!;
    if (plan.implied[i] || isHeldValue(held, i, v) || checked?.checked(i, v)) continue;
    variables.push(v);
    labels.push(plan.labels[i]!);
  }
  return { variables, labels };
}

/**
 * Checks the new values of `plan`'s variables for NaN and ±Infinity as a step assigns them,
 * while they are in cache, where the backend allows it (`checkOnAssign` in
 * `backends/variable-values.ts`): a variable's first assignment during the snapshot that
 * `current()` returns is scanned and, when finite, recorded, so that {@link changedSince} can
 * leave it out of the check after the step. A value assigned again within the step is left to
 * that check (a second discriminator update would otherwise be scanned twice). Variables of
 * fewer than `minSize` elements are not hooked (the check after the step reads them), nor are
 * those whose finiteness the plan says is implied (`plan.implied`). `remove()` the hooks when done.
 */
export function checkAssignments(plan: SnapshotPlan, current: () => Snapshot | undefined, minSize = 0): AssignmentCheck {
  const { variables } = plan;
  return checkOnAssign(
    variables,
    (i) => {
      const s = current();
      return s !== undefined && s.plan === plan && isHeldValue(s.held, i, variables[i]!);
    },
    minSize,
    plan.implied,
  );
}

/** A new tensor on the held value of the plan's `i`-th variable (the caller disposes it). */
function materialize(s: Snapshot, i: number): tf.Tensor {
  const { shape, dtype } = s.plan.variables[i]!;
  return heldTensor(s.held, i, shape, dtype);
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
      named: refs.entries.map((e) => ({
        name: e.name,
        tensor: e.variable ? materialize(s, i++) : tf.keep(tf.scalar(s.iterations[k]!, 'int32')),
      })),
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
  releaseValues(s.held);
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
