/**
 * Restoring a checkpoint into a trainer's networks and optimizers: everything is validated
 * before anything is assigned, and the assignment itself is undone if tfjs throws midway.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError } from '../errors.js';
import { formatShape } from '../validation.js';
import type { Checkpoint, CheckpointMeta, CheckpointTensor, LayerState } from './checkpoint.js';
import { failer, sourceOf, validateCheckpoint, type Fail } from './checkpoint-format.js';
import {
  disposeSnapshot,
  optimizerRefs,
  planSnapshot,
  restoreOptimizer,
  restoreSnapshot,
  takeSnapshot,
  type OptimizerGroup,
  type OptimizerRefs,
  type OptimizerState,
  type VariableGroup,
} from './state.js';
import { layerClassName, statefulLayers, type StatefulLayer } from './stateful-layer.js';

const SAME_NETWORKS = 'Resume with networks and optimizers built exactly as in the run that wrote the checkpoint';

/** What a checkpoint is restored into. @internal */
export interface RestoreTarget {
  fn: string;
  kind: string;
  groups: readonly VariableGroup[];
  optimizers: readonly OptimizerGroup[];
}

/**
 * Slots per variable in `getWeights()` of tfjs' optimizers (slot-major: all first slots, then
 * all second slots); `undefined` for other classes (only the shapes are checked then).
 */
function slotsPerVariable(optimizer: tf.Optimizer): number | undefined {
  switch (optimizer.getClassName()) {
    case 'SGD':
      return 0;
    case 'Momentum':
    case 'Adagrad':
      return 1;
    case 'Adam':
    case 'Adadelta':
    case 'Adamax':
      return 2;
    case 'RMSProp':
      return (optimizer as unknown as { centered?: boolean }).centered ? 3 : 2;
    default:
      return undefined;
  }
}

/** The state of each group's stateful layers, as saved in `meta.layers`. @internal */
export function layerStates(groups: readonly VariableGroup[]): Record<string, LayerState[]> {
  const out: Record<string, LayerState[]> = {};
  for (const g of groups) {
    const layers = statefulLayers(g.network);
    if (layers.length > 0) out[g.name] = layers.map((l) => ({ className: layerClassName(l), state: { ...l.getState() } }));
  }
  return out;
}

interface Plan {
  variables: { variable: tf.Variable; tensor: CheckpointTensor }[];
  optimizers: { optimizer: tf.Optimizer; prefix: string; named: CheckpointTensor[]; hidden: [string, CheckpointTensor][] }[];
  layers: { layer: StatefulLayer; state: Record<string, number> }[];
  refs: (OptimizerRefs | undefined)[];
}

const sameKeys = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
};

/** Matches every tensor and layer state of a (structurally valid) checkpoint to the target. */
async function planRestore(checkpoint: Checkpoint, target: RestoreTarget, fail: Fail): Promise<Plan> {
  const { meta, tensors } = checkpoint;
  if (meta.kind !== target.kind) fail('meta.kind', `be '${target.kind}' (a checkpoint of a ${target.kind} trainer)`, `'${meta.kind}'`);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  const plan: Plan = { variables: [], optimizers: [], layers: [], refs: [] };
  const take = (name: string): CheckpointTensor | undefined => {
    const t = byName.get(name);
    if (t) used.add(name);
    return t;
  };
  const checkLike = (t: CheckpointTensor, like: { shape: readonly number[]; dtype: string }, what: string): void => {
    const at = `tensors['${t.name}']`;
    if (!tf.util.arraysEqual(t.shape, [...like.shape]))
      fail(`${at}.shape`, `be ${formatShape([...like.shape])} like ${what}`, formatShape(t.shape), SAME_NETWORKS);
    if (t.dtype !== like.dtype) fail(`${at}.dtype`, `be '${like.dtype}' like ${what}`, `'${t.dtype}'`, SAME_NETWORKS);
  };

  for (const g of target.groups) {
    g.variables.forEach((v, i) => {
      const name = `${g.name}/${i}`;
      const t = take(name);
      if (!t) fail(`tensors['${name}']`, `exist (${g.name} has ${g.variables.length} weights)`, 'a checkpoint without it', SAME_NETWORKS);
      checkLike(t, v, `${g.name}'s weight ${i}`);
      plan.variables.push({ variable: v, tensor: t });
    });
  }

  for (const { name, optimizer, variables } of target.optimizers) {
    const refs = await optimizerRefs(optimizer);
    plan.refs.push(refs);
    if (!refs) continue; // getWeights() not implemented: nothing was saved for it
    const prefix = `${name}/`;
    const iter = take(`${prefix}iter`);
    if (!iter) fail(`tensors['${prefix}iter']`, `exist (the iteration count of ${name})`, 'a checkpoint without it', SAME_NETWORKS);
    checkLike(iter, { shape: [], dtype: 'int32' }, 'an iteration count');
    const iterations = iter.values[0]!;
    if (iterations < 0) fail(`tensors['${prefix}iter'].values`, 'be a non-negative integer', String(iterations));
    const slots = tensors.filter((t) => t.name.startsWith(prefix) && t.name !== `${prefix}iter` && !t.name.startsWith(`${prefix}$hidden/`));
    for (const t of slots) used.add(t.name);
    const per = slotsPerVariable(optimizer);
    if (variables) {
      const n = variables.length;
      if (n === 0 && slots.length > 0)
        fail(`tensors['${prefix}*']`, `hold no slots (${name} updates no variables)`, `${slots.length}`, SAME_NETWORKS);
      const k = n === 0 ? 0 : slots.length / n;
      const expected = per === undefined ? undefined : iterations === 0 && slots.length === 0 ? 0 : per;
      if (!Number.isInteger(k) || (expected !== undefined && k !== expected)) {
        const want =
          expected === undefined
            ? `a multiple of ${n} slots (one set per variable it updates)`
            : `${expected * n} slots (${expected} per variable of the ${n} it updates, for a ${optimizer.getClassName()} optimizer)`;
        fail(`tensors['${prefix}*']`, `hold ${want}`, `${slots.length}`, SAME_NETWORKS);
      }
      slots.forEach((t, j) =>
        checkLike(t, { shape: variables[j % n]!.shape, dtype: 'float32' }, `slot ${Math.floor(j / n)} of the variable it belongs to`),
      );
    } else {
      // Variables not declared by the trainer: compare with the slots the optimizer has now, if any.
      const live = refs.entries.filter((e) => e.variable !== undefined);
      if (live.length > 0) {
        if (slots.length !== live.length)
          fail(`tensors['${prefix}*']`, `hold ${live.length} slots, as ${name} has`, `${slots.length}`, SAME_NETWORKS);
        slots.forEach((t, j) => checkLike(t, live[j]!.variable!, `${name}'s slot ${live[j]!.name}`));
      }
    }
    const live = new Map(refs.hidden);
    const hidden: [string, CheckpointTensor][] = [];
    for (const t of tensors) {
      if (!t.name.startsWith(`${prefix}$hidden/`)) continue;
      used.add(t.name);
      const key = t.name.slice(`${prefix}$hidden/`.length);
      const v = live.get(key);
      if (!v)
        fail(
          `tensors['${t.name}']`,
          `name a variable of ${name} (${[...live.keys()].join(', ') || 'it has none'})`,
          `'${key}'`,
          SAME_NETWORKS,
        );
      checkLike(t, v, `${name}.${key}`);
      hidden.push([key, t]);
    }
    for (const key of live.keys()) {
      if (!hidden.some(([k]) => k === key))
        fail(`tensors['${prefix}$hidden/${key}']`, `exist (${name}.${key})`, 'a checkpoint without it', SAME_NETWORKS);
    }
    plan.optimizers.push({ optimizer, prefix, named: [iter, ...slots], hidden });
  }

  for (const t of tensors) {
    if (!used.has(t.name))
      fail(
        `tensors['${t.name}']`,
        "belong to one of this trainer's networks or optimizers",
        'a tensor with no place in them',
        SAME_NETWORKS,
      );
  }

  const groupLayers = target.groups.map((g) => ({ name: g.name, layers: statefulLayers(g.network) }));
  if (meta.version === 1) {
    // Version 1 saved `sampleCounts`: the sample counter of each Reparameterize layer, in order.
    const all = groupLayers.flatMap((g) => g.layers);
    const counts = meta.sampleCounts ?? [];
    if (counts.length !== all.length)
      fail(
        'meta.sampleCounts',
        `hold the sample counters of ${all.length} sampling layer(s), as these networks have`,
        `${counts.length}`,
        SAME_NETWORKS,
      );
    all.forEach((layer, i) => {
      if (!sameKeys(layer.getState(), { sampleCount: 0 }))
        fail(
          'meta.sampleCounts',
          'belong to layers with a sample counter (vae.Reparameterize)',
          `a counter for ${layerClassName(layer)}`,
          SAME_NETWORKS,
        );
      plan.layers.push({ layer, state: { sampleCount: counts[i]! } });
    });
  } else {
    const saved = meta.layers ?? {};
    for (const key of Object.keys(saved)) {
      if (!groupLayers.some((g) => g.name === key && g.layers.length > 0))
        fail(`meta.layers.${key}`, 'name a network of this trainer with stateful layers', `'${key}'`, SAME_NETWORKS);
    }
    for (const { name, layers } of groupLayers) {
      const list = saved[name] ?? [];
      if (list.length !== layers.length)
        fail(
          `meta.layers.${name}`,
          `hold the state of ${layers.length} stateful layer(s), as ${name} has`,
          `${list.length}`,
          SAME_NETWORKS,
        );
      layers.forEach((layer, i) => {
        const entry = list[i]!;
        const at = `meta.layers.${name}[${i}]`;
        if (entry.className !== layerClassName(layer))
          fail(`${at}.className`, `be '${layerClassName(layer)}'`, `'${entry.className}'`, SAME_NETWORKS);
        if (!sameKeys(entry.state, layer.getState()))
          fail(
            `${at}.state`,
            `have the keys ${Object.keys(layer.getState()).join(', ')}`,
            Object.keys(entry.state).join(', ') || 'none',
            SAME_NETWORKS,
          );
        plan.layers.push({ layer, state: { ...entry.state } });
      });
    }
  }
  return plan;
}

/**
 * Validates `checkpoint` completely against `target`, then assigns it: weights, optimizer state,
 * layer state. Throws a {@link CheckpointError} before assigning anything when something does
 * not fit; if tfjs throws while assigning (an optimizer refusing its state), everything is put
 * back as it was and the error is rethrown as a `CheckpointError`. Returns the meta, whose
 * counters the trainer takes.
 *
 * @internal
 */
export async function restoreState(checkpoint: unknown, target: RestoreTarget): Promise<CheckpointMeta> {
  const { fn } = target;
  validateCheckpoint(checkpoint, fn);
  const fail = failer(fn, sourceOf(checkpoint as unknown as Record<string, unknown>));
  const plan = await planRestore(checkpoint, target, fail);

  const before = takeSnapshot(planSnapshot(target.groups, target.optimizers, plan.refs));
  const layerBefore = plan.layers.map(({ layer }) => layer.getState());
  const built: tf.Tensor[] = [];
  const make = (t: CheckpointTensor): tf.Tensor => {
    const out = tf.keep(tf.tensor(t.values, t.shape, t.dtype));
    built.push(out);
    return out;
  };
  try {
    for (const { variable, tensor } of plan.variables) variable.assign(make(tensor));
    for (const { optimizer, prefix, named, hidden } of plan.optimizers) {
      const state: OptimizerState = {
        named: named.map((t) => ({ name: t.name.slice(prefix.length), tensor: make(t) })),
        hidden: hidden.map(([k, t]) => [k, make(t)]),
      };
      await restoreOptimizer(optimizer, state);
    }
    for (const { layer, state } of plan.layers) layer.setState(state);
  } catch (e) {
    // Put back what was there. The networks' values cannot fail to assign; an optimizer that
    // refuses its own previous state again is beyond repair, and the first error is the one
    // to report.
    try {
      await restoreSnapshot(before);
    } catch {
      // reported below
    }
    plan.layers.forEach(({ layer }, i) => layer.setState(layerBefore[i]!));
    if (e instanceof CheckpointError) throw e;
    fail('tensors', 'load into the optimizers and layers', `an error: ${(e as Error)?.message ?? String(e)}`, SAME_NETWORKS);
  } finally {
    disposeSnapshot(before);
    tf.dispose(built);
  }
  return checkpoint.meta;
}
