/**
 * Which training timesteps a sampler visits when it takes fewer steps than training.
 *
 * @module
 */
import { ArgumentError } from '../errors.js';
import { assertOneOf, assertPositiveInt, describe } from '../validation.js';

const FN = 'diffusion.samplingTimesteps';

/** How sampling timesteps are spread over the training range. @category Diffusion */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** The allowed {@link TimestepSpacing}s. @internal */
export const SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/** Rounds half to even, as NumPy's `round` (which diffusers' spacings use). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The timesteps a sampler visits, in descending order, as in diffusers' schedulers
 * (Lin et al. 2023, Table 2):
 *
 * ```text
 * 'leading':  t = k · ⌊T / n⌋                      k = n-1 … 0   (DDIM paper, diffusers' default)
 * 'trailing': t = round(T - k · T / n) - 1          k = 0 … n-1   (starts at T-1)
 * 'linspace': t = round(k · (T - 1) / (n - 1))      k = n-1 … 0
 * ```
 *
 * genblocks' samplers default to `'trailing'`: it always starts at the last training step
 * (pure noise), which Lin et al. show matters when sampling with few steps; `'leading'` with
 * 50 of 1,000 steps starts at t = 980.
 *
 * @param trainTimesteps - T, the schedule's number of timesteps.
 * @param steps - n ≤ T, the number of sampling steps.
 * @param spacing - `'leading'`, `'trailing'` (default) or `'linspace'`.
 * @returns n distinct timesteps in `[0, T)`, descending.
 * @see https://arxiv.org/abs/2305.08891 (Lin et al. 2023, §3.3 and Table 2)
 * @example
 * ```ts
 * diffusion.samplingTimesteps(1000, 4); // [999, 749, 499, 249]
 * ```
 * @category Diffusion
 */
export function samplingTimesteps(trainTimesteps: number, steps: number, spacing: TimestepSpacing = 'trailing'): number[] {
  assertPositiveInt(trainTimesteps, 'trainTimesteps', FN);
  assertPositiveInt(steps, 'steps', FN);
  if (steps > trainTimesteps) {
    throw new ArgumentError({ fn: FN, arg: 'steps', expected: `be at most the training timesteps (${trainTimesteps})`, received: describe(steps) });
  }
  assertOneOf(spacing, SPACINGS, 'spacing', FN);
  const k = Array.from({ length: steps }, (_, i) => i);
  if (spacing === 'leading') return k.map((i) => i * Math.floor(trainTimesteps / steps)).reverse();
  if (spacing === 'trailing') return k.map((i) => roundHalfEven(trainTimesteps - (i * trainTimesteps) / steps) - 1);
  return k.map((i) => (steps === 1 ? 0 : roundHalfEven((i * (trainTimesteps - 1)) / (steps - 1)))).reverse();
}
