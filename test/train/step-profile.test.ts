/**
 * The internal profile of the trainers' steps (`profileTrainerSteps`, for
 * `bench/trainer-overhead-profile.ts`): it counts the applied steps, times the parts of each
 * step inside the time `fit` took, and counts the in-assignment scans of large variables with
 * the bytes they read, computed here from the networks' shapes; set to `undefined`, it records
 * nothing more.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { emptyStepProfile, profileTrainerSteps, type TrainerStepProfile } from '../../src/internal.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { ringBatches, wideMlpGan } from './fixtures.js';

const SECTIONS = ['prepareMs', 'stepMs', 'readMs', 'checkMs', 'releaseMs'] as const;

describe.each(TEST_BACKENDS)('trainer step profile on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });
  afterEach(() => {
    profileTrainerSteps(undefined);
  });

  it('times the parts of each applied step within fit and counts the in-assignment scans', async () => {
    const { trainer, dispose } = wideMlpGan(5);
    const batches = ringBatches(1, 16, 0.1, 4);
    const profile = emptyStepProfile();
    expect(profileTrainerSteps(profile)).toBeUndefined();
    const start = performance.now();
    await trainer.fit(batches, { steps: 3 });
    const wall = performance.now() - start;
    expect(profile.steps).toBe(3);
    for (const s of SECTIONS) expect(profile[s]).toBeGreaterThanOrEqual(0);
    expect(profile.stepMs).toBeGreaterThan(0);
    expect(SECTIONS.reduce((sum, s) => sum + profile[s], 0)).toBeLessThanOrEqual(wall);
    // Step 1 hooks the two 192x192 kernels (the Adam slots appear during it and are scanned
    // after it); from step 2 on each kernel's second moment as well (its first moment is
    // implied by the kernel, see firstMomentsImplied): 2 + 4 + 4 scans of 36,864 float32 values.
    expect(profile.assignScans.scans).toBe(10);
    expect(profile.assignScans.bytes).toBe(10 * 192 * 192 * 4);
    expect(profile.assignScans.ms).toBeGreaterThanOrEqual(0);
    expect(profile.assignScans.ms).toBeLessThanOrEqual(profile.stepMs);
    tf.dispose(batches);
    dispose();
  });

  it('counts no refused step, and records nothing once unset', async () => {
    const { trainer, dispose } = wideMlpGan(5, 'skip');
    const good = ringBatches(2, 16, 0.1, 4);
    const bad = tf.fill([16, 2], Number.NaN);
    const profile: TrainerStepProfile = emptyStepProfile();
    profileTrainerSteps(profile);
    // Two good steps, then a batch of NaN: the discriminator's loss is NaN and the step is skipped.
    await trainer.fit([good[0]!, good[1]!, bad], { epochs: 1 });
    expect(trainer.skippedSteps).toBe(1);
    expect(profile.steps).toBe(2);
    expect(profileTrainerSteps(undefined)).toBe(profile);
    const before = JSON.stringify(profile);
    await trainer.fit(good, { steps: trainer.step + 2 });
    expect(JSON.stringify(profile)).toBe(before);
    tf.dispose([...good, bad]);
    dispose();
  });
});
