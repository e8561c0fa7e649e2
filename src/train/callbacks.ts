/**
 * The callback interface of the trainers.
 *
 * @module
 */
import type { Trainer } from './trainer.js';

/** Scalars of one step (or epoch), by name: `{ discriminator: 0.69, generator: 0.71 }`. @category Training */
export type Logs = Record<string, number>;

/** What every hook receives: the trainer, a way to stop it, and what is known of the run's length. @category Training */
export interface TrainingContext {
  /** The trainer running `fit`. */
  readonly trainer: Trainer;
  /** Asks the trainer to stop after the current step (same as `trainer.stop()`). */
  stop(): void;
  /** Total steps the `fit` call will reach, when known (from `steps`, or an array's length and `epochs`). */
  readonly totalSteps: number | undefined;
  /** Total epochs the `fit` call will reach, when given. */
  readonly epochs: number | undefined;
}

/**
 * Hooks called by `fit`. Every hook is optional and may be async (the loop awaits it).
 * `step` counts completed steps (1 after the first step); `logs` holds the step's losses
 * (already read: plain numbers).
 *
 * @example
 * ```ts
 * const printer: train.Callback = {
 *   onStepEnd(step, logs) { if (step % 100 === 0) console.log(step, logs); },
 * };
 * ```
 * @category Training
 */
export interface Callback {
  /** Before the first step of `fit`. */
  onTrainBegin?(context: TrainingContext): void | Promise<void>;
  /** After the last step of `fit` (also after `stop()` and after an error, before it is rethrown). */
  onTrainEnd?(context: TrainingContext, logs: Logs | undefined): void | Promise<void>;
  /** Before the first batch of an epoch (`epoch` counts from 0). */
  onEpochBegin?(epoch: number, context: TrainingContext): void | Promise<void>;
  /** After the last batch of an epoch, with the epoch's mean losses. */
  onEpochEnd?(epoch: number, logs: Logs, context: TrainingContext): void | Promise<void>;
  /** After each applied step. */
  onStepEnd?(step: number, logs: Logs, context: TrainingContext): void | Promise<void>;
}
