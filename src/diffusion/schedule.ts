/**
 * Noise schedules of diffusion models, computed in float64.
 *
 * @module
 */
import { ArgumentError } from '../errors.js';
import { assertKnownKeys, assertNumber, assertOneOf, assertPositiveInt, describe } from '../validation.js';

const FN = 'diffusion.noiseSchedule';

/** The shape of a schedule's beta curve. @category Diffusion */
export type NoiseScheduleKind = 'linear' | 'cosine' | 'sigmoid';

/** Options of {@link noiseSchedule}. @category Diffusion */
export interface NoiseScheduleOptions {
  /** Shape of the schedule. Default `'linear'`. */
  kind?: NoiseScheduleKind;
  /** Number of diffusion steps T in training. Default 1000. */
  timesteps?: number;
  /** `'linear'`: β₁. Default 1e-4 (Ho et al. 2020), used as given for any `timesteps`. */
  betaStart?: number;
  /** `'linear'`: β_T. Default 0.02 (Ho et al. 2020). */
  betaEnd?: number;
  /** `'cosine'`: the offset s. Default 0.008 (Nichol & Dhariwal 2021). */
  cosineOffset?: number;
  /** `'sigmoid'`: start of the sigmoid's input range. Default -3. */
  sigmoidStart?: number;
  /** `'sigmoid'`: end of the sigmoid's input range. Default 3. */
  sigmoidEnd?: number;
  /** `'sigmoid'`: temperature τ. Default 1. */
  sigmoidTau?: number;
  /** `'cosine'` and `'sigmoid'`: betas are clipped to at most this. Default 0.999. */
  maxBeta?: number;
  /**
   * Rescales the schedule so that the last step has zero signal-to-noise ratio (Lin et al.
   * 2023): `√ᾱ` is shifted to end at 0 and scaled to keep its first value. Use it with
   * `prediction: 'v'` (an epsilon model cannot recover x₀ from pure noise). Default `false`.
   */
  zeroTerminalSnr?: boolean;
}

/**
 * A noise schedule: every per-step quantity the forward process, the losses and the samplers
 * read, as float64 arrays of length T indexed by the timestep t = 0 … T-1 (the paper's step
 * t + 1).
 *
 * @category Diffusion
 */
export interface NoiseSchedule {
  /** The kind it was built from. */
  readonly kind: NoiseScheduleKind;
  /** T, the number of training timesteps. */
  readonly timesteps: number;
  /** βₜ, the variance of the noise added at step t. */
  readonly betas: Float64Array;
  /** αₜ = 1 - βₜ. */
  readonly alphas: Float64Array;
  /** ᾱₜ = Π_{s≤t} αₛ. */
  readonly alphasCumprod: Float64Array;
  /** ᾱₜ₋₁ (1 at t = 0). */
  readonly alphasCumprodPrev: Float64Array;
  /** √ᾱₜ, the signal scale of xₜ. */
  readonly sqrtAlphasCumprod: Float64Array;
  /** √(1 - ᾱₜ), the noise scale of xₜ. */
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  /** β̃ₜ = βₜ (1 - ᾱₜ₋₁) / (1 - ᾱₜ), the variance of q(xₜ₋₁ | xₜ, x₀) (0 at t = 0). */
  readonly posteriorVariance: Float64Array;
  /** log β̃ₜ with the t = 0 entry (log 0) replaced by log β̃₁, as in Ho et al.'s code. */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Coefficient of x₀ in the posterior mean: βₜ √ᾱₜ₋₁ / (1 - ᾱₜ). */
  readonly posteriorMeanCoef1: Float64Array;
  /** Coefficient of xₜ in the posterior mean: (1 - ᾱₜ₋₁) √αₜ / (1 - ᾱₜ). */
  readonly posteriorMeanCoef2: Float64Array;
  /** Signal-to-noise ratio ᾱₜ / (1 - ᾱₜ). */
  readonly snr: Float64Array;
}

const KNOWN = [
  'kind',
  'timesteps',
  'betaStart',
  'betaEnd',
  'cosineOffset',
  'sigmoidStart',
  'sigmoidEnd',
  'sigmoidTau',
  'maxBeta',
  'zeroTerminalSnr',
] as const;

/**
 * Builds a noise schedule (the betas and everything derived from them) in float64:
 *
 * ```text
 * linear:  βₜ = β_start + (β_end - β_start) · t / (T - 1)                        (Ho et al. 2020, §4)
 * cosine:  ᾱ(t) = f(t) / f(0),  f(t) = cos²((t/T + s) / (1 + s) · π/2),
 *          βₜ = min(1 - ᾱ(t+1) / ᾱ(t), maxBeta)                                   (Nichol & Dhariwal 2021, eq. 17)
 * sigmoid: ᾱ(t) = (σ(end/τ) - σ((t/T · (end - start) + start)/τ)) / (σ(end/τ) - σ(start/τ)),
 *          normalised to ᾱ(0) = 1, βₜ as for cosine                             (Jabri et al. 2022)
 * zeroTerminalSnr: √ᾱ ← (√ᾱ - √ᾱ_T) · √ᾱ₁ / (√ᾱ₁ - √ᾱ_T)                         (Lin et al. 2023, Alg. 1)
 * ```
 *
 * @param options - `kind`, `timesteps` and the parameters of the chosen kind (see
 *   {@link NoiseScheduleOptions}).
 * @returns the {@link NoiseSchedule}, plain `Float64Array`s of length `timesteps`.
 * @see https://arxiv.org/abs/2006.11239 (Ho et al. 2020, linear)
 * @see https://arxiv.org/abs/2102.09672 (Nichol & Dhariwal 2021, cosine)
 * @see https://arxiv.org/abs/2212.11972 (Jabri et al. 2022, sigmoid)
 * @see https://arxiv.org/abs/2305.08891 (Lin et al. 2023, zero terminal SNR)
 * @example
 * ```ts
 * const schedule = diffusion.noiseSchedule({ kind: 'cosine', timesteps: 1000 });
 * schedule.alphasCumprod[999]; // close to 0
 * ```
 * @category Diffusion
 */
export function noiseSchedule(options: NoiseScheduleOptions = {}): NoiseSchedule {
  assertKnownKeys(options, KNOWN, 'options', FN);
  const {
    kind = 'linear',
    timesteps = 1000,
    betaStart = 1e-4,
    betaEnd = 0.02,
    cosineOffset = 0.008,
    sigmoidStart = -3,
    sigmoidEnd = 3,
    sigmoidTau = 1,
    maxBeta = 0.999,
    zeroTerminalSnr = false,
  } = options;
  assertOneOf(kind, ['linear', 'cosine', 'sigmoid'] as const, 'options.kind', FN);
  assertPositiveInt(timesteps, 'options.timesteps', FN);
  if (timesteps < 2) throw new ArgumentError({ fn: FN, arg: 'options.timesteps', expected: 'be at least 2', received: describe(timesteps) });
  assertNumber(betaStart, 'options.betaStart', FN, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  assertNumber(betaEnd, 'options.betaEnd', FN, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  assertNumber(cosineOffset, 'options.cosineOffset', FN, { min: 0 });
  assertNumber(sigmoidStart, 'options.sigmoidStart', FN);
  assertNumber(sigmoidEnd, 'options.sigmoidEnd', FN);
  if (!(sigmoidEnd > sigmoidStart)) {
    throw new ArgumentError({ fn: FN, arg: 'options.sigmoidEnd', expected: `be greater than sigmoidStart (${sigmoidStart})`, received: describe(sigmoidEnd) });
  }
  assertNumber(sigmoidTau, 'options.sigmoidTau', FN, { min: 0, minExclusive: true });
  assertNumber(maxBeta, 'options.maxBeta', FN, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  assertOneOf(zeroTerminalSnr, [true, false] as const, 'options.zeroTerminalSnr', FN);

  let betas: Float64Array;
  if (kind === 'linear') {
    betas = Float64Array.from({ length: timesteps }, (_, t) => betaStart + ((betaEnd - betaStart) * t) / (timesteps - 1));
  } else {
    const f =
      kind === 'cosine'
        ? (u: number) => Math.cos(((u + cosineOffset) / (1 + cosineOffset)) * (Math.PI / 2)) ** 2
        : (u: number) => sigmoid(sigmoidEnd / sigmoidTau) - sigmoid((u * (sigmoidEnd - sigmoidStart) + sigmoidStart) / sigmoidTau);
    betas = betasFromCumulative((u) => f(u) / f(0), timesteps, maxBeta);
  }
  if (zeroTerminalSnr) betas = rescaleZeroTerminalSnr(betas);
  return scheduleFromBetas(kind, betas);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** βₜ = min(1 - ᾱ((t+1)/T) / ᾱ(t/T), maxBeta) for a continuous ᾱ(u) on [0, 1]. */
function betasFromCumulative(alphaBar: (u: number) => number, timesteps: number, maxBeta: number): Float64Array {
  return Float64Array.from({ length: timesteps }, (_, t) =>
    Math.min(Math.max(1 - alphaBar((t + 1) / timesteps) / alphaBar(t / timesteps), 0), maxBeta),
  );
}

/** Lin et al. 2023, Algorithm 1: shift and scale √ᾱ so that √ᾱ_T = 0 and √ᾱ₁ is unchanged. */
function rescaleZeroTerminalSnr(betas: Float64Array): Float64Array {
  const sqrtAlphaBar = cumprod(betas.map((b) => 1 - b)).map(Math.sqrt);
  const first = sqrtAlphaBar[0]!;
  const last = sqrtAlphaBar[sqrtAlphaBar.length - 1]!;
  const alphaBar = sqrtAlphaBar.map((a) => ((a - last) * first) / (first - last)).map((a) => a * a);
  return alphaBar.map((a, t) => 1 - (t === 0 ? a : a / alphaBar[t - 1]!));
}

function cumprod(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let product = 1;
  values.forEach((v, i) => (out[i] = product *= v));
  return out;
}

/** Everything a schedule holds, derived from its betas. @internal */
export function scheduleFromBetas(kind: NoiseScheduleKind, betas: Float64Array): NoiseSchedule {
  const alphas = betas.map((b) => 1 - b);
  const alphasCumprod = cumprod(alphas);
  const alphasCumprodPrev = alphasCumprod.map((_, t) => (t === 0 ? 1 : alphasCumprod[t - 1]!));
  const posteriorVariance = betas.map((b, t) => (b * (1 - alphasCumprodPrev[t]!)) / (1 - alphasCumprod[t]!));
  return {
    kind,
    timesteps: betas.length,
    betas,
    alphas,
    alphasCumprod,
    alphasCumprodPrev,
    sqrtAlphasCumprod: alphasCumprod.map(Math.sqrt),
    sqrtOneMinusAlphasCumprod: alphasCumprod.map((a) => Math.sqrt(1 - a)),
    posteriorVariance,
    posteriorLogVarianceClipped: posteriorVariance.map((v, t) => Math.log(t === 0 ? posteriorVariance[1]! : v)),
    posteriorMeanCoef1: betas.map((b, t) => (b * Math.sqrt(alphasCumprodPrev[t]!)) / (1 - alphasCumprod[t]!)),
    posteriorMeanCoef2: alphas.map((a, t) => ((1 - alphasCumprodPrev[t]!) * Math.sqrt(a)) / (1 - alphasCumprod[t]!)),
    snr: alphasCumprod.map((a) => a / (1 - a)),
  };
}
