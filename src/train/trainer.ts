/**
 * The training loop shared by every trainer: batches, epochs, callbacks, one loss read per
 * step, non-finite handling, yielding, checkpoints. Each trainer supplies only its synchronous
 * step, the state it holds and, if it can, a sampler.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

import { findNonFinite, findNonFiniteByReading, finitenessProbe, scansInPlace } from '../backends/variable-values.js';
import { ArgumentError, ConfigError, NonFiniteLossError, ShapeError } from '../errors.js';
import {
  assertKnownKeys,
  assertNumber,
  assertOneOf,
  assertOptionsObject,
  assertPositiveInt,
  describe,
  formatShape,
} from '../validation.js';
import { normalizeCallbacks, type Callback, type Logs, type TrainingContext } from './callbacks/callback.js';
import { assertStore, type Checkpoint, type CheckpointMeta, type CheckpointStore } from './checkpoint.js';
import { CHECKPOINT_VERSION, checksumOf } from './checkpoint-format.js';
import { layerStates, restoreState } from './checkpoint-restore.js';
import { randomRunSeed } from './seed.js';
import { activeStepProfile, type TrainerStepProfile } from './step-profile.js';
import {
  changedSince,
  checkAssignments,
  disposeSnapshot,
  optimizerRefs,
  planSnapshot,
  readState,
  restoreSnapshot,
  takeSnapshot,
  type OptimizerGroup,
  type AssignmentCheck,
  type OptimizerRefs,
  type Snapshot,
  type SnapshotPlan,
  type VariableGroup,
} from './state.js';
import { defaultYieldIntervalMs, nextMacrotask } from './yield.js';

/** One batch as a trainer sees it: examples and optional labels. @category Training */
export interface TrainingBatch {
  /** Examples `[batch, ...]`. */
  x: tf.Tensor;
  /** Labels `[batch]` or `[batch, 1]` (int32 class ids) for conditional models. */
  y?: tf.Tensor;
}

/** A batch as `fit` accepts it: a tensor, `{ x, y? }` (what `data.batches` yields) or `{ xs, ys? }` (tf.data style). @category Training */
export type BatchLike =
  | tf.Tensor
  | {
      /** Examples `[batch, ...]`. */
      x: tf.Tensor;
      /** Labels `[batch]` or `[batch, 1]` (conditional training). */
      y?: tf.Tensor;
    }
  | {
      /** Examples `[batch, ...]` (`tf.data` naming). */
      xs: tf.Tensor;
      /** Labels (`tf.data` naming). */
      ys?: tf.Tensor;
    };

/** The part of a `tf.data.Dataset` that `fit` uses. @category Training */
export interface DatasetLike<T> {
  /** A fresh iterator over one epoch. */
  iterator(): Promise<{
    /** The next element, or `done`. */
    next(): Promise<IteratorResult<T>>;
  }>;
}

/**
 * Batches for `fit`: an array (reused every epoch, never disposed by the trainer), a
 * `tf.data.Dataset`, or a sync/async iterable (each epoch iterates it again; batches they
 * produce are disposed after their step unless `disposeBatches: false`).
 *
 * @category Training
 */
export type BatchSource = readonly BatchLike[] | DatasetLike<BatchLike> | Iterable<BatchLike> | AsyncIterable<BatchLike>;

/** Options of `fit`. @category Training */
export interface FitOptions {
  /**
   * Train until this many epochs are complete, counting epochs of a resumed run (Keras'
   * `initialEpoch` semantics). Default: 1 when `steps` is not given, unlimited otherwise.
   */
  epochs?: number;
  /** Train until the trainer has completed this many steps in total (resumed steps count). */
  steps?: number;
  /**
   * Callbacks, called in order: genblocks' own (`train.history()`, ...), objects with Keras-style
   * hooks (`onBatchEnd(batch, logs)`, ...), `tf.CustomCallback` instances, or what
   * `tfvis.show.fitCallbacks(...)` returns. One callback may be given without an array.
   */
  callbacks?: Callback | Callback[];
  /** Stops training after the current step when aborted. */
  signal?: AbortSignal;
  /** Dispose each batch after its step. Default: true for datasets and iterables, false for arrays. */
  disposeBatches?: boolean;
  /**
   * Yield to the event loop once at least this many milliseconds have passed since the last
   * yield (checked after every step), so the host stays responsive without paying a macrotask
   * per fast step. Default: 15 (about one frame) in pages, where `document` exists; 50
   * elsewhere (Node, workers), where nothing renders and timers, signals and I/O still run 20
   * times a second. 0 yields after every step; `Infinity` never yields within a fit.
   */
  yieldIntervalMs?: number;
}

const FIT_OPTION_KEYS = ['epochs', 'steps', 'callbacks', 'signal', 'disposeBatches', 'yieldIntervalMs'] as const;

/** What `fit` returns. @category Training */
export interface FitResult {
  /** Completed steps in total. */
  step: number;
  /** Completed epochs in total. */
  epoch: number;
  /** Losses of the last applied step. */
  logs: Logs | undefined;
  /** Whether `stop()`, an early-stopping callback or the signal ended the run. */
  stopped: boolean;
}

/** Options of {@link Trainer.sample}. @category Training */
export interface SampleOptions {
  /** Seed of the sampler's noise. Default: unseeded. */
  seed?: number;
  /** Labels `[n]` for a conditional model (kept by the caller). */
  labels?: tf.Tensor;
}

/** Value range of a trainer's samples, for display. @category Training */
export type SampleRange = '[-1,1]' | '[0,1]';

/** Options shared by every trainer. @category Training */
export interface TrainerOptions {
  /** Run seed: every random draw (noise, penalty interpolation) derives from it. Default: random (saved in checkpoints). */
  seed?: number;
  /**
   * What to do when a loss is NaN or ±Infinity: `'stop'` (default) throws
   * `NonFiniteLossError` with the weights of the last good step; `'skip'` discards the step
   * (weights and optimizer state restored) and counts it in `skippedSteps`; after
   * {@link MAX_CONSECUTIVE_SKIPS} skipped steps in a row it stops as with `'stop'`.
   */
  onNonFinite?: 'stop' | 'skip';
}

/** The base class's extra logs: none (one shared, frozen object rather than a new one per step). */
const NO_LOGS: Logs = Object.freeze({});

/** Consecutive skipped steps after which `onNonFinite: 'skip'` gives up and throws. @category Training */
export const MAX_CONSECUTIVE_SKIPS = 10;

/**
 * Variables of at least this many elements (128 KiB of float32) are checked for NaN and
 * ±Infinity as a step assigns them (`checkAssignments`); smaller ones after the step, with the
 * rest of the step's writes, while they are still in cache. A hook costs about a microsecond per
 * assignment and makes hooked variables a second object shape in tfjs's hot code, which cost the
 * small networks of the trainer-overhead bench more than the scans it saved.
 */
const ASSIGN_CHECK_MIN_SIZE = 1 << 15;

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Adds the time since `mark` to `profile[section]`; returns the time now. */
function lap(profile: TrainerStepProfile, section: 'prepareMs' | 'stepMs' | 'readMs' | 'checkMs' | 'releaseMs', mark: number): number {
  const t = now();
  profile[section] += t - mark;
  return t;
}

function isDataset(x: unknown): x is DatasetLike<BatchLike> {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as DatasetLike<BatchLike>).iterator === 'function' &&
    !(Symbol.asyncIterator in x) &&
    !(Symbol.iterator in x)
  );
}

type AnyIterator = { next(): Promise<IteratorResult<BatchLike>> | IteratorResult<BatchLike>; return?(): unknown };

async function openEpoch(source: BatchSource): Promise<AnyIterator> {
  if (isDataset(source)) return source.iterator();
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<BatchLike>)[Symbol.asyncIterator]();
  return (source as Iterable<BatchLike>)[Symbol.iterator]();
}

/**
 * A batch source that can start an epoch anywhere, so that a resumed run draws the same
 * batches as an uninterrupted one. `data.batches(...)` is one. `fit` calls `seekTo(epoch,
 * batchInEpoch)` before it opens each epoch (with the trainer's counters, restored from a
 * checkpoint when resuming); the next iteration must then yield the batches of epoch `epoch`
 * (0-based) from batch `batchInEpoch` on, exactly as an uninterrupted run would have.
 *
 * Sources without it are handled by skipping: arrays and iterables are opened anew and the
 * first `batchInEpoch` batches dropped; a `tf.data` dataset also gets the `iterator()` calls of
 * the epochs before (its shuffle order depends on how many it has had).
 *
 * @category Training
 */
export interface ResumableSource {
  /** Makes the next iteration start at batch `batchInEpoch` of epoch `epoch`. */
  seekTo(epoch: number, batchInEpoch: number): void;
}

function isResumable(x: unknown): x is ResumableSource {
  return x !== null && typeof x === 'object' && typeof (x as ResumableSource).seekTo === 'function';
}

/** An epoch being iterated: where it started and how many batches were drawn. */
interface OpenEpoch {
  source: BatchSource;
  iterator: AnyIterator;
  epoch: number;
  consumed: number;
}

/** Whether `batchShape` (`[batch, ...example]`) has the example shape `example`. */
function sameExampleShape(example: readonly number[], batchShape: readonly number[]): boolean {
  if (batchShape.length !== example.length + 1) return false;
  for (let i = 0; i < example.length; i++) if (batchShape[i + 1] !== example[i]) return false;
  return true;
}

/** `iterator()` calls that `fit` made on each dataset (process-wide: trainers may share one). */
const datasetOpens = new WeakMap<object, number>();

async function closeIterator(iterator: { return?(): unknown }): Promise<void> {
  await iterator.return?.();
}

/** Whether an optimizer listed before its first update (`takenAt` 0) has updated since: its slot variables may exist now. */
function slotsMayHaveChanged(cache: readonly (OptimizerRefs | undefined)[], optimizers: readonly OptimizerGroup[]): boolean {
  for (let i = 0; i < cache.length; i++) {
    const r = cache[i];
    if (r !== undefined && r.takenAt === 0 && optimizers[i]!.optimizer.iterations !== 0) return true;
  }
  return false;
}

/** Whether an optimizer of the plan created state variables during the step (its first update): they are not in the plan. */
function createdSlots(snapshot: Snapshot): boolean {
  for (const { optimizer, refs } of snapshot.plan.optimizers) if (refs.takenAt === 0 && optimizer.iterations !== 0) return true;
  return false;
}

/**
 * The label of the first variable a step made non-finite, or undefined when all are finite.
 * `changed` and `probe` come from the device path (the probe read with the losses); without
 * them the assigned variables are scanned in place. Slots that an optimizer created during the
 * step (they are not in the snapshot's plan) are listed and checked as well.
 */
async function nonFiniteState(
  snapshot: Snapshot,
  changed: { variables: tf.Variable[]; labels: string[] } | undefined,
  probe: number | undefined,
): Promise<string | undefined> {
  const { variables, labels } = changed ?? changedSince(snapshot);
  let index: number | undefined;
  if (probe !== undefined) index = Number.isFinite(probe) ? -1 : await findNonFiniteByReading(variables);
  else index = findNonFinite(variables) ?? (await findNonFiniteByReading(variables));
  if (index >= 0) return labels[index];
  for (const { name, optimizer, refs } of snapshot.plan.optimizers) {
    if (refs.takenAt !== 0 || optimizer.iterations === 0) continue;
    const planned = new Set<tf.Variable>(snapshot.plan.variables);
    const fresh = await optimizerRefs(optimizer);
    const created = (fresh?.entries ?? []).filter((e) => e.variable !== undefined && !planned.has(e.variable));
    const vars = created.map((e) => e.variable!);
    const at = findNonFinite(vars) ?? (await findNonFiniteByReading(vars));
    if (at >= 0) return `${name}/${created[at]!.name}`;
  }
  return undefined;
}

/**
 * {@link nonFiniteState} without a promise in the common case of a host-memory backend (one
 * in-place scan, no slot created by the step): `null` when every assigned value is finite, a
 * label when one is not, and `undefined` when the full (asynchronous) check must run. Values
 * that `checked` found finite as they were assigned are not read again.
 */
function nonFiniteStateInPlace(snapshot: Snapshot, checked: AssignmentCheck | undefined): string | null | undefined {
  if (createdSlots(snapshot)) return undefined;
  const { variables, labels } = changedSince(snapshot, checked);
  if (variables.length === 0) return null; // every assigned value was found finite as it was assigned
  const index = findNonFinite(variables);
  return index === undefined ? undefined : index < 0 ? null : labels[index];
}

/**
 * Base class of the trainers: owns the loop (epochs and steps, batches, callbacks, one loss
 * read per step, non-finite handling, yielding), the counters, and checkpoints. It knows
 * nothing of latents or models: a subclass supplies its synchronous step
 * ({@link Trainer.trainStep}), the variables and optimizers it holds (saved in checkpoints and
 * rolled back after a non-finite step), a batch check, and optionally a sampler. Use
 * {@link ModelTrainer} for "models, optimizers and a loss function", or the
 * {@link AdversarialTrainer} and {@link VaeTrainer} built on this class.
 *
 * @category Training
 */
export abstract class Trainer {
  /** Completed (applied) steps. */
  step = 0;
  /** Completed epochs. */
  epoch = 0;
  /** Batches consumed in the current epoch (a resumed run skips them). */
  batchInEpoch = 0;
  /** Steps attempted, skipped ones included: the position in the run's random stream. */
  rngPosition = 0;
  /** Steps discarded because a loss was not finite (`onNonFinite: 'skip'`). */
  skippedSteps = 0;
  /** The run seed (a restored checkpoint's seed replaces it). */
  seed: number;
  /** Non-finite policy. */
  readonly onNonFinite: 'stop' | 'skip';

  /** Trainer kind saved in checkpoints. */
  protected abstract readonly kind: string;
  /** Name used in error messages, e.g. `train.AdversarialTrainer`. */
  protected abstract readonly fnName: string;
  private stopRequested = false;
  private consecutiveSkips = 0;
  private fitting = false;
  private optimizerCache: (OptimizerRefs | undefined)[] | undefined;
  private snapshotPlan: SnapshotPlan | undefined;
  private batchShape: number[] | undefined;
  private heldEpoch: OpenEpoch | undefined;
  /** The plan whose variables' assignments are checked as they happen (during a fit), and that check. */
  private assignmentCheck: { plan: SnapshotPlan; check: AssignmentCheck } | undefined;
  /** The snapshot of the step running now (assignments are checked only then). */
  private stepSnapshot: Snapshot | undefined;

  protected constructor(options: TrainerOptions, fn: string) {
    const { seed = randomRunSeed(), onNonFinite = 'stop' } = options;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) {
      throw new ConfigError({ fn, arg: 'config.seed', expected: 'be a non-negative integer', received: describe(seed) });
    }
    assertOneOf(onNonFinite, ['stop', 'skip'] as const, 'config.onNonFinite', fn);
    this.seed = seed;
    this.onNonFinite = onNonFinite;
  }

  /**
   * Value range of `sample`'s output, for display (`train.sampleGrid`): `'[-1,1]'` (tanh
   * generators), `'[0,1]'` (VAE means), or `undefined` when the trainer does not say.
   */
  readonly sampleRange: SampleRange | undefined = undefined;

  /**
   * Generates `n` samples with the weights meant for sampling (`{ training: false }`, the EMA
   * when the trainer keeps one). Each trainer owns its noise: a latent-variable trainer draws
   * it in one `predict`, a diffusion or autoregressive trainer runs its sampling loop. The base
   * class has no sampler and rejects the call.
   *
   * @param _n - how many samples.
   * @param _options - `seed` of the noise; `labels` `[n]` for conditional models.
   * @returns the samples `[n, ...]` (the caller disposes them).
   */
  async sample(_n: number, _options: SampleOptions = {}): Promise<tf.Tensor> {
    throw new ArgumentError({
      fn: `${this.fnName}.sample`,
      arg: 'this',
      expected: 'be a trainer that can sample',
      received: `a ${this.kind} trainer without a sampler`,
    });
  }

  /**
   * Checks, after the step ran and before it is kept, what the subclass could only read
   * asynchronously (the values of a batch's labels, read with the step's own read instead of a
   * synchronous one): a promise that rejects rolls the step back, as a step that throws does.
   * `undefined` (the default) when there is nothing to wait for.
   */
  protected settleStep(): Promise<void> | undefined {
    return undefined;
  }

  /** Variables saved in checkpoints and restored when a step is discarded (networks, EMA copies), by group name. */
  protected abstract stateVariables(): VariableGroup[];
  /** Optimizers saved in checkpoints and restored when a step is discarded, by name. */
  protected abstract stateOptimizers(): OptimizerGroup[];
  /** Checks a batch before its step (rank, shape, labels); throws with what to fix. */
  protected abstract checkBatch(batch: TrainingBatch, fn: string): void;
  /**
   * One synchronous step on `batch` at RNG position `position` (steps attempted so far,
   * skipped ones included: derive every random draw from `seed` and `position` so that a
   * resumed run draws what an uninterrupted one would). Runs inside `tf.tidy`; updates the
   * variables and returns the values to log, as scalars (read once, together, after the step).
   */
  protected abstract trainStep(batch: TrainingBatch, position: number): Record<string, tf.Scalar>;
  /** Plain-number logs added to a step's losses (a schedule's current value). */
  protected extraLogs(_position: number): Logs {
    return NO_LOGS;
  }

  /** Frees what the trainer itself allocated (EMA weights); networks and optimizers stay the caller's. */
  dispose(): void {}

  /** Asks `fit` to stop after the current step. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Trains on `batches`, from the trainer's position (`epoch`, `batchInEpoch`): a run resumed
   * from a checkpoint, or stopped mid-epoch and fitted again, draws exactly the batches an
   * uninterrupted run would (a {@link ResumableSource} such as `data.batches` is told where to
   * start; see `openAt` in the source for datasets, arrays and iterables).
   *
   * @param batches - an array of batches, a `tf.data.Dataset`, or a (sync/async) iterable,
   *   e.g. `data.batches(images, { batchSize: 64, shuffle: true, seed: 1 })`.
   * @param options - `epochs`, `steps` (totals), `callbacks`, `signal`, `disposeBatches`, `yieldIntervalMs`.
   * @returns the counters and the last step's losses.
   */
  async fit(batches: BatchSource, options: FitOptions = {}): Promise<FitResult> {
    const fn = `${this.fnName}.fit`;
    assertOptionsObject(options, 'options', fn);
    assertKnownKeys(options, FIT_OPTION_KEYS, 'options', fn);
    const { epochs, steps, signal, yieldIntervalMs = defaultYieldIntervalMs() } = options;
    if (epochs !== undefined) assertPositiveInt(epochs, 'options.epochs', fn);
    if (steps !== undefined) assertPositiveInt(steps, 'options.steps', fn);
    if (yieldIntervalMs !== Number.POSITIVE_INFINITY) assertNumber(yieldIntervalMs, 'options.yieldIntervalMs', fn, { min: 0 });
    const callbacks = normalizeCallbacks(options.callbacks, 'options.callbacks', fn);
    const ok =
      batches !== null &&
      typeof batches === 'object' &&
      (Array.isArray(batches) || isDataset(batches) || Symbol.iterator in batches || Symbol.asyncIterator in batches);
    if (!ok) {
      throw new ArgumentError({
        fn,
        arg: 'batches',
        expected: 'be an array of batches, a tf.data.Dataset or an (async) iterable of batches',
        received: describe(batches),
        hint: 'Wrap a single tensor in an array ([x]) or use data.batches(x, { batchSize })',
      });
    }
    if (this.fitting) {
      throw new ArgumentError({
        fn,
        arg: 'this',
        expected: 'not be training already',
        received: 'a second fit() while one runs',
        hint: 'Await the first fit() before starting another',
      });
    }
    const isArray = Array.isArray(batches);
    const disposeBatches = options.disposeBatches ?? !isArray;
    const targetEpochs = epochs ?? (steps === undefined ? this.epoch + 1 : Infinity);
    const totalSteps = steps ?? (isArray && epochs !== undefined ? epochs * (batches as readonly BatchLike[]).length : undefined);
    this.stopRequested = false;
    const context: TrainingContext = { trainer: this, stop: () => this.stop(), totalSteps, epochs };
    const stopping = () => this.stopRequested || Boolean(signal?.aborted);
    let lastLogs: Logs | undefined;
    let failed = false;
    let lastYield = now();
    let open: OpenEpoch | undefined;

    // Variable lists are stable for the length of a fit (tfjs assigns into the same variables).
    // Listed before the trainer counts as fitting: a subclass that throws here leaves it usable.
    const groups = this.stateVariables();
    const optimizers = this.stateOptimizers();
    this.fitting = true;
    try {
      for (const c of callbacks) {
        (c as { setParams?: (params: Record<string, unknown>) => void }).setParams?.({
          epochs: epochs ?? targetEpochs,
          initialEpoch: this.epoch,
          steps: totalSteps,
          verbose: 0,
          doValidation: false,
          metrics: [],
        });
      }
      for (const c of callbacks) await c.onTrainBegin?.({}, context);
      outer: while (this.epoch < targetEpochs && (steps === undefined || this.step < steps) && !stopping()) {
        // Open the epoch at the trainer's position (see `openAt`): `open.consumed` batches of
        // it are behind us, `toSkip` more must be drawn and dropped first.
        open = await this.openAt(batches);
        const iterator = open.iterator;
        const startedAt = open.consumed;
        for (const c of callbacks) await c.onEpochBegin?.(this.epoch, {}, context);
        let toSkip = this.batchInEpoch - open.consumed;
        const sums: Record<string, number> = {};
        let counted = 0;
        for (;;) {
          // A sync iterator (arrays, generators) is not awaited: no microtask per batch.
          const pending = iterator.next();
          const next = typeof (pending as { then?: unknown }).then === 'function' ? await pending : (pending as IteratorResult<BatchLike>);
          if (next.done) break;
          open.consumed++;
          const raw = next.value;
          if (toSkip > 0) {
            toSkip--;
            if (disposeBatches) tf.dispose(raw as tf.TensorContainer);
            continue;
          }
          let logs: Logs | undefined;
          const index = this.batchInEpoch;
          let size = 0;
          try {
            const batch = this.normalize(raw, fn);
            // As tfjs-layers' fit: { batch, size } before the step, with the step's values after it.
            size = batch.x.shape[0] ?? 0;
            for (const c of callbacks) await c.onBatchBegin?.(index, { batch: index, size }, context);
            logs = await this.trainOn(batch, fn, groups, optimizers);
          } finally {
            if (disposeBatches) tf.dispose(raw as tf.TensorContainer);
          }
          this.batchInEpoch++;
          for (const c of callbacks) await c.onBatchEnd?.(index, { batch: index, size, ...logs }, context);
          if (logs) {
            lastLogs = logs;
            counted++;
            for (const k in logs) sums[k] = (sums[k] ?? 0) + logs[k]!;
            for (const c of callbacks) await c.onStepEnd?.(this.step, logs, context);
          }
          if (stopping() || (steps !== undefined && this.step >= steps)) break outer;
          if (now() - lastYield >= yieldIntervalMs) {
            await nextMacrotask();
            for (const c of callbacks) await c.onYield?.(this.epoch, index, { ...(logs ?? {}) }, context);
            lastYield = now();
          }
        }
        const consumed = open.consumed;
        open = undefined;
        if (consumed === 0 && startedAt === 0) {
          throw new ArgumentError({
            fn,
            arg: 'batches',
            expected: `yield at least one batch in every epoch (epoch ${this.epoch} was empty)`,
            received: 'an exhausted source',
            hint: 'A generator can be iterated only once: pass an array, a tf.data.Dataset or data.batches(...), or set steps instead of epochs',
          });
        }
        const epochLogs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / Math.max(1, counted)]));
        const finished = this.epoch;
        this.epoch++;
        this.batchInEpoch = 0;
        for (const c of callbacks) await c.onEpochEnd?.(finished, epochLogs, context);
      }
    } catch (e) {
      failed = true;
      for (const c of callbacks) {
        try {
          await c.onTrainEnd?.({ ...(lastLogs ?? {}) }, context);
        } catch {
          // the original error matters more
        }
      }
      throw e;
    } finally {
      try {
        // A run stopped mid-epoch keeps its iterator for the next fit on the same source (see
        // `openAt`); a source that can seek, or an array, needs none.
        if (open) await this.holdOrClose(batches, open);
        if (!failed) for (const c of callbacks) await c.onTrainEnd?.({ ...(lastLogs ?? {}) }, context);
      } finally {
        this.assignmentCheck?.check.remove();
        this.assignmentCheck = undefined;
        this.fitting = false;
      }
    }
    return { step: this.step, epoch: this.epoch, logs: lastLogs, stopped: stopping() };
  }

  /**
   * Opens the epoch `this.epoch` of `source` at batch `this.batchInEpoch`, so that a resumed or
   * restarted run draws exactly the batches an uninterrupted run would:
   *
   * - a source with `seekTo` (a {@link ResumableSource} such as `data.batches`) is told where
   *   to start, and its iterator starts there;
   * - an iterator this trainer kept when a fit stopped mid-epoch (`stop()`, a signal, `steps`
   *   reached, a callback error) continues, when the next fit is on the same source at the same
   *   position;
   * - a `tf.data`-style dataset gets one `iterator()` call per epoch before `this.epoch` that it
   *   has not had yet (tf.data's `shuffle` draws a new order per `iterator()` call), then the
   *   first `batchInEpoch` batches are drawn and dropped;
   * - arrays and other iterables are opened anew and the first `batchInEpoch` batches skipped.
   */
  private async openAt(source: BatchSource): Promise<OpenEpoch> {
    const held = this.heldEpoch;
    this.heldEpoch = undefined;
    if (held) {
      if (held.source === source && held.epoch === this.epoch && held.consumed === this.batchInEpoch) return held;
      await closeIterator(held.iterator);
    }
    if (isResumable(source)) {
      source.seekTo(this.epoch, this.batchInEpoch);
      return { source, iterator: await openEpoch(source), epoch: this.epoch, consumed: this.batchInEpoch };
    }
    if (isDataset(source)) {
      let opened = datasetOpens.get(source) ?? 0;
      for (; opened < this.epoch; opened++) await closeIterator((await source.iterator()) as AnyIterator);
      datasetOpens.set(source, opened + 1);
    }
    return { source, iterator: await openEpoch(source), epoch: this.epoch, consumed: 0 };
  }

  /** Keeps a mid-epoch iterator for the next fit (sources that cannot seek), or closes it. */
  private async holdOrClose(source: BatchSource, open: OpenEpoch): Promise<void> {
    const keep = !Array.isArray(source) && !isResumable(source) && open.epoch === this.epoch && open.consumed === this.batchInEpoch;
    if (keep) this.heldEpoch = open;
    else await closeIterator(open.iterator);
  }

  private normalize(raw: BatchLike, fn: string): TrainingBatch {
    if (raw instanceof tf.Tensor) return { x: raw };
    const r = raw as { x?: tf.Tensor; y?: tf.Tensor; xs?: tf.Tensor; ys?: tf.Tensor } | null;
    const x = r?.x ?? r?.xs;
    const y = r?.y ?? r?.ys;
    if (!(x instanceof tf.Tensor) || (y !== undefined && !(y instanceof tf.Tensor))) {
      throw new ArgumentError({
        fn,
        arg: 'batches',
        expected: 'yield tensors or { x, y? } objects of tensors',
        received: `an element that is ${describe(raw)}`,
      });
    }
    return y === undefined ? { x } : { x, y };
  }

  /**
   * Runs one step on a batch: snapshot, step, one read, non-finite policy. `undefined` when
   * skipped.
   *
   * A step is good when its losses and the state it wrote are finite: a learning rate of 1e38
   * can leave the losses finite while the weights, an optimizer slot or batch-norm's moving
   * variance overflow. The state check adds no read: on backends that keep tensors in host
   * memory (cpu, wasm) each new value is scanned in place as the step assigns it, while it is
   * still in cache (`checkAssignments`), and what that left unchecked is scanned after the one
   * read (one pass, no kernel launch, no copy; see `backends/variable-values.ts`); elsewhere a probe
   * scalar (`Σ v·0` over the same variables) is stacked with the losses and read with them.
   * Only variables the step assigned are checked: the others are unchanged since the last good
   * step; values that a kernel checked as it wrote them (`train.fusedAdam` on wasm) are not read
   * again, nor are `tf.train.adam`'s first moments, whose finiteness the weights they update
   * imply (`firstMomentsImplied` in `state.ts`). Slots an optimizer creates during a step (its
   * first) are listed again and checked.
   */
  private async trainOn(
    batch: TrainingBatch,
    fn: string,
    groups: VariableGroup[],
    optimizers: OptimizerGroup[],
  ): Promise<Logs | undefined> {
    const profile = activeStepProfile();
    let mark = profile === undefined ? 0 : now();
    this.checkBatch(batch, fn);
    if (this.batchShape === undefined) this.batchShape = batch.x.shape.slice(1);
    else if (!sameExampleShape(this.batchShape, batch.x.shape)) {
      throw new ShapeError({
        fn,
        arg: 'batches',
        expected: `yield examples of shape [batch,${this.batchShape.join(',')}] like the first batch`,
        received: `shape ${formatShape(batch.x.shape)}`,
      });
    }
    // Optimizers create their variables on their first update: list them again until then.
    if (!this.optimizerCache || slotsMayHaveChanged(this.optimizerCache, optimizers)) {
      this.optimizerCache = [];
      for (const { optimizer } of optimizers) this.optimizerCache.push(await optimizerRefs(optimizer));
      this.snapshotPlan = undefined;
    }
    if (this.snapshotPlan?.groups !== groups) this.snapshotPlan = planSnapshot(groups, optimizers, this.optimizerCache);
    const plan = this.snapshotPlan;
    const inPlace = scansInPlace();
    if (inPlace && this.assignmentCheck?.plan !== plan) {
      this.assignmentCheck?.check.remove();
      this.assignmentCheck = { plan, check: checkAssignments(plan, () => this.stepSnapshot, ASSIGN_CHECK_MIN_SIZE) };
    }
    const snapshot = takeSnapshot(plan);
    if (profile !== undefined) mark = lap(profile, 'prepareMs', mark);
    const position = this.rngPosition;
    let names: string[] = [];
    let changed: { variables: tf.Variable[]; labels: string[] } | undefined;
    let values: Float32Array | Int32Array | Uint8Array;
    try {
      this.stepSnapshot = snapshot;
      let stacked: tf.Tensor;
      try {
        stacked = tf.tidy(() => {
          const losses = this.trainStep(batch, position);
          names = Object.keys(losses);
          const parts = names.map((n) => losses[n]!);
          if (!inPlace) {
            changed = changedSince(snapshot);
            parts.push(finitenessProbe(changed.variables));
          }
          return tf.stack(parts);
        });
      } finally {
        this.stepSnapshot = undefined;
      }
      if (profile !== undefined) mark = lap(profile, 'stepMs', mark);
      try {
        values = (await stacked.data()) as Float32Array;
      } finally {
        stacked.dispose();
      }
      const settled = this.settleStep();
      if (settled !== undefined) await settled;
      if (profile !== undefined) mark = lap(profile, 'readMs', mark);
    } catch (e) {
      await this.rollBack(snapshot);
      throw e;
    }
    this.rngPosition++;
    let bad = -1;
    for (let i = 0; i < names.length && bad < 0; i++) if (!Number.isFinite(values[i]!)) bad = i;
    let badState: string | undefined;
    if (bad < 0) {
      // The state check: synchronous in the common case (host memory, no slot created).
      const quick = inPlace ? nonFiniteStateInPlace(snapshot, this.assignmentCheck?.check) : undefined;
      if (quick === undefined) badState = await nonFiniteState(snapshot, changed, inPlace ? undefined : values[names.length]!);
      else if (quick !== null) badState = quick;
    }
    if (profile !== undefined) mark = lap(profile, 'checkMs', mark);
    if (bad >= 0 || badState !== undefined) {
      await this.rollBack(snapshot);
      if (this.onNonFinite === 'skip' && ++this.consecutiveSkips < MAX_CONSECUTIVE_SKIPS) {
        this.skippedSteps++;
        return undefined;
      }
      if (bad >= 0) throw new NonFiniteLossError(this.fnName, this.step, names[bad]!, values[bad]!);
      throw new NonFiniteLossError(this.fnName, this.step, badState!, Number.NaN, badState);
    }
    disposeSnapshot(snapshot);
    this.consecutiveSkips = 0;
    this.step++;
    const logs: Logs = {};
    for (let i = 0; i < names.length; i++) logs[names[i]!] = values[i]!;
    const extra = this.extraLogs(position);
    for (const k in extra) logs[k] = extra[k]!;
    if (profile !== undefined) {
      lap(profile, 'releaseMs', mark);
      profile.steps++;
    }
    return logs;
  }

  private async rollBack(snapshot: Snapshot): Promise<void> {
    try {
      await restoreSnapshot(snapshot);
    } finally {
      disposeSnapshot(snapshot);
      this.optimizerCache = undefined;
    }
  }

  /**
   * Reads the whole training state (weights, optimizer state, EMA, stateful layers' state,
   * counters, seed), in checkpoint format version 2 with its checksums.
   *
   * @returns a {@link Checkpoint}; save it with a {@link CheckpointStore}.
   */
  async checkpoint(): Promise<Checkpoint> {
    const groups = this.stateVariables();
    const meta: CheckpointMeta = {
      format: 'genblocks-checkpoint',
      version: CHECKPOINT_VERSION,
      kind: this.kind,
      step: this.step,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      rngPosition: this.rngPosition,
      skippedSteps: this.skippedSteps,
      seed: this.seed,
      layers: layerStates(groups),
    };
    const tensors = await readState(groups, this.stateOptimizers());
    meta.checksum = checksumOf(meta, tensors);
    return { meta, tensors };
  }

  /**
   * Puts a checkpoint's state into this trainer's networks, optimizers and stateful layers,
   * and its counters into this trainer. The networks must be built as in the run that wrote it.
   *
   * Everything is checked before anything is assigned: the format version (1 or 2), the
   * checksums (version 2), the counters, and every tensor's name, shape, dtype and length
   * against the networks and optimizers. On any mismatch it throws a `CheckpointError` naming
   * the field, and the trainer is left exactly as it was.
   *
   * @param checkpoint - from {@link Trainer.checkpoint} or a store.
   */
  async restore(checkpoint: Checkpoint): Promise<void> {
    const fn = `${this.fnName}.restore`;
    const meta = await restoreState(checkpoint, { fn, kind: this.kind, groups: this.stateVariables(), optimizers: this.stateOptimizers() });
    this.optimizerCache = undefined;
    this.step = meta.step;
    this.epoch = meta.epoch;
    this.batchInEpoch = meta.batchInEpoch;
    this.rngPosition = meta.rngPosition;
    this.skippedSteps = meta.skippedSteps;
    this.seed = meta.seed;
  }

  /**
   * Restores the newest checkpoint of `store` (or the one named `name`), so that `fit`
   * continues the run where it stopped: same weights, optimizer state, counters and random
   * stream (same backend and seed give the same result as an uninterrupted run).
   *
   * @param store - e.g. `fileCheckpointStore(dir)` from `genblocks/node`.
   * @param name - checkpoint name; default the newest.
   * @returns whether a checkpoint was found and restored.
   */
  async resume(store: CheckpointStore, name?: string): Promise<boolean> {
    assertStore(store, 'store', `${this.fnName}.resume`);
    const checkpoint = await store.load(name);
    if (!checkpoint) return false;
    await this.restore(checkpoint);
    return true;
  }
}
