/**
 * Where a trainer's step spends its time, in milliseconds summed over the steps, for the
 * repository's profiles of the trainer overhead (`bench/trainer-overhead-profile.ts`): the
 * trainer's own parts are timed directly, section by section, rather than inferred from the
 * difference of two noisy totals. Off unless set (one branch per section when off).
 *
 * @module
 * @internal
 */
import { profileAssignScans, type AssignScanProfile } from '../backends/variable-values.js';

/**
 * Milliseconds spent in each part of `Trainer.fit`'s steps, summed (`performance.now`).
 *
 * @internal
 */
export interface TrainerStepProfile {
  /** Steps applied (a refused step adds its `prepareMs`, `stepMs` and `readMs` but is not counted). */
  steps: number;
  /** Before the step: the batch checks, the optimizer slots' listing, holding the last good values. */
  prepareMs: number;
  /** The subclass's synchronous step and the stacking of its losses (the tfjs work; in-assignment scans included). */
  stepMs: number;
  /** The one read of the losses (and the subclass's `settleStep`). */
  readMs: number;
  /** The check of the new state after the read (the in-place scan of what the assignments did not check). */
  checkMs: number;
  /** Letting the held values of a good step go (frees what the step replaced), and the logs. */
  releaseMs: number;
  /** The in-assignment scans of large variables (`checkOnAssign`), part of `stepMs`. */
  assignScans: AssignScanProfile;
}

let active: TrainerStepProfile | undefined;

/** A profile with every total at zero. @internal */
export function emptyStepProfile(): TrainerStepProfile {
  return { steps: 0, prepareMs: 0, stepMs: 0, readMs: 0, checkMs: 0, releaseMs: 0, assignScans: { scans: 0, bytes: 0, ms: 0 } };
}

/**
 * Adds every trainer's steps to `profile` from now on (`undefined`: stop); returns the profile set
 * before.
 *
 * @internal
 */
export function profileTrainerSteps(profile: TrainerStepProfile | undefined): TrainerStepProfile | undefined {
  const previous = active;
  active = profile;
  profileAssignScans(profile?.assignScans);
  return previous;
}

/** The profile steps are added to, if any. @internal */
export function activeStepProfile(): TrainerStepProfile | undefined {
  return active;
}
