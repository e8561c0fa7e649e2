/**
 * Checkpoints: what a trainer saves, the storage interface, and the `train.checkpoint`
 * callback.
 *
 * @module
 */
import { assertOptionsObject, assertPositiveInt, describe } from '../validation.js';
import { ConfigError } from '../errors.js';
import type { Callback, TrainingContext } from './callbacks/callback.js';

/** One saved tensor. @category Training */
export interface CheckpointTensor {
  /** `group/index` for network weights (`generator/0`), `group/name` for optimizer state. */
  name: string;
  /** Shape of the tensor. */
  shape: number[];
  /** Data type of the tensor. */
  dtype: 'float32' | 'int32';
  /** The values, row-major. */
  values: Float32Array | Int32Array;
}

/** Counters and settings saved with the tensors. @category Training */
export interface CheckpointMeta {
  /** Always `'genblocks-checkpoint'`. */
  format: 'genblocks-checkpoint';
  /** Format version, 1. */
  version: 1;
  /** Trainer kind: `'adversarial'` or `'vae'`. */
  kind: string;
  /** Completed (applied) steps. */
  step: number;
  /** Completed epochs. */
  epoch: number;
  /** Batches consumed in the current epoch. */
  batchInEpoch: number;
  /** Steps attempted, skipped ones included: the position of the run's random stream. */
  rngPosition: number;
  /** Steps discarded for a non-finite loss. */
  skippedSteps: number;
  /** The run seed. */
  seed: number;
  /** `sampleCount` of each seeded sampling layer in the networks (`vae.Reparameterize`), in layer order. */
  sampleCounts?: number[];
}

/**
 * Everything a trainer needs to continue a run: both networks' weights, both optimizers'
 * state, the EMA weights, the counters and the RNG position.
 *
 * @category Training
 */
export interface Checkpoint {
  /** Counters, seed position and the names of what the tensors hold. */
  meta: CheckpointMeta;
  /** Every weight, optimizer slot and EMA value, in a fixed order. */
  tensors: CheckpointTensor[];
}

/**
 * Where checkpoints go. The core trainers know only this interface; `genblocks/node` has
 * `fileCheckpointStore(dir)` (one folder per checkpoint, written atomically).
 *
 * @example
 * ```ts
 * const store = new Map<string, train.Checkpoint>(); // an in-memory store, e.g. for tests
 * const memory: train.CheckpointStore = {
 *   save: async (name, c) => void store.set(name, c),
 *   load: async (name) => store.get(name ?? [...store.keys()].pop()!),
 *   list: async () => [...store.keys()],
 *   delete: async (name) => void store.delete(name),
 * };
 * ```
 * @category Training
 */
export interface CheckpointStore {
  /** Saves `checkpoint` under `name`, replacing any checkpoint of that name. */
  save(name: string, checkpoint: Checkpoint): Promise<void>;
  /** Loads `name`, or the newest checkpoint when `name` is omitted; `undefined` when there is none. */
  load(name?: string): Promise<Checkpoint | undefined>;
  /** Names of the stored checkpoints, oldest first. */
  list(): Promise<string[]>;
  /** Removes a checkpoint. */
  delete(name: string): Promise<void>;
}

/** Name of the checkpoint written after `step` steps: `step-00000040` (sorts by step). @category Training */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/** Options of {@link checkpoint}. @category Training */
export interface CheckpointOptions {
  /** Where to write. In Node: `fileCheckpointStore(dir)` from `genblocks/node`. Required. */
  store: CheckpointStore;
  /** Save after every `every` steps. Default 1000. */
  every?: number;
  /** Keep the newest `keep` checkpoints and delete older ones. Default 3. */
  keep?: number;
  /** Also save when training ends. Default true. */
  atEnd?: boolean;
}

const FN = 'train.checkpoint';

/** Asserts that `store` implements {@link CheckpointStore}. @internal */
export function assertStore(store: unknown, arg: string, fn: string): asserts store is CheckpointStore {
  const s = store as Partial<CheckpointStore> | null | undefined;
  if (!s || typeof s !== 'object' || typeof s.save !== 'function' || typeof s.load !== 'function' || typeof s.list !== 'function' || typeof s.delete !== 'function') {
    throw new ConfigError({
      fn,
      arg,
      expected: 'be a CheckpointStore (save, load, list, delete)',
      received: describe(store),
      hint: typeof store === 'string' ? `In Node pass fileCheckpointStore('${store}') from 'genblocks/node'` : undefined,
    });
  }
}

/**
 * A callback that saves the trainer's {@link Checkpoint} every `every` steps (and at the end)
 * and keeps the newest `keep`. Resume with `trainer.resume(store)`.
 *
 * @param options - `store` (required), `every` (1000), `keep` (3), `atEnd` (true).
 * @returns the callback.
 * @example
 * ```ts
 * import { fileCheckpointStore } from 'genblocks/node';
 * const store = fileCheckpointStore('runs/gan/checkpoints');
 * await trainer.fit(batches, { epochs: 5, callbacks: [train.checkpoint({ store, every: 500 })] });
 * // later, in a new process, with freshly built networks and optimizers:
 * await trainer.resume(store);
 * ```
 * @category Training
 */
export function checkpoint(options: CheckpointOptions): Callback {
  assertOptionsObject(options, 'options', FN);
  if (options === undefined) throw new ConfigError({ fn: FN, arg: 'options', expected: 'be an options object with a store', received: 'undefined' });
  const { store, every = 1000, keep = 3, atEnd = true } = options;
  assertStore(store, 'options.store', FN);
  assertPositiveInt(every, 'options.every', FN);
  assertPositiveInt(keep, 'options.keep', FN);
  let lastSaved = -1;
  const save = async (context: TrainingContext): Promise<void> => {
    const step = context.trainer.step;
    if (step === lastSaved) return;
    await store.save(checkpointName(step), await context.trainer.checkpoint());
    lastSaved = step;
    const names = await store.list();
    for (const name of names.slice(0, Math.max(0, names.length - keep))) await store.delete(name);
  };
  return {
    async onStepEnd(step, _logs, context) {
      if (step % every === 0) await save(context);
    },
    async onTrainEnd(_logs, context) {
      if (atEnd) await save(context);
    },
  };
}
