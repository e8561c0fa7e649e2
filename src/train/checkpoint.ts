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

/** The state of one stateful layer in a checkpoint (see `train.StatefulLayer`). @category Training */
export interface LayerState {
  /** The layer's class name (`genblocks>Reparameterize`), checked on restore. */
  className: string;
  /** What the layer's `getState()` returned. */
  state: Record<string, number>;
}

/** The checksums of a version-2 checkpoint (CRC-32, IEEE polynomial, as 8 lowercase hex digits). @category Training */
export interface CheckpointChecksum {
  /** Always `'crc32'`. */
  algorithm: 'crc32';
  /** Of the canonical JSON (sorted keys) of the meta without `checksum` and of each tensor's name, shape and dtype. */
  header: string;
  /** Of the tensor values' bytes (little-endian), in tensor order. */
  values: string;
}

/** Counters and settings saved with the tensors. @category Training */
export interface CheckpointMeta {
  /** Always `'genblocks-checkpoint'`. */
  format: 'genblocks-checkpoint';
  /**
   * Format version: 2 (current: `layers` and `checksum`); 1 (genblocks 0.1: no checksum,
   * `sampleCounts`) still loads.
   */
  version: 1 | 2;
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
  /** Version 2: the state of each network's stateful layers, by network name, in layer order. */
  layers?: Record<string, LayerState[]>;
  /** Version 1 only: `sampleCount` of each `vae.Reparameterize` layer, in layer order. */
  sampleCounts?: number[];
  /** Version 2: checksums of the content, verified on restore. */
  checksum?: CheckpointChecksum;
}

/**
 * Everything a trainer needs to continue a run: both networks' weights, both optimizers'
 * state, the EMA weights, stateful layers' state, the counters and the RNG position.
 *
 * @category Training
 */
export interface Checkpoint {
  /** Counters, seed position, layer state and checksums. */
  meta: CheckpointMeta;
  /** Every weight, optimizer slot and EMA value, in a fixed order. */
  tensors: CheckpointTensor[];
  /** Where the checkpoint was read from (a store sets it; errors name it). */
  source?: string;
  /** The files a file store read it from (errors name the one at fault). */
  files?: {
    /** The file with the meta and the tensors' names, shapes and dtypes (`checkpoint.json`). */
    meta: string;
    /** The file with the tensor values (`tensors.bin`). */
    values: string;
  };
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
  if (
    !s ||
    typeof s !== 'object' ||
    typeof s.save !== 'function' ||
    typeof s.load !== 'function' ||
    typeof s.list !== 'function' ||
    typeof s.delete !== 'function'
  ) {
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
  if (options === undefined)
    throw new ConfigError({ fn: FN, arg: 'options', expected: 'be an options object with a store', received: 'undefined' });
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
