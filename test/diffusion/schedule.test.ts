/**
 * diffusion.noiseSchedule: entries checked against the papers' formulas, evaluated by hand
 * here in float64 (never read back from the code under test).
 */
import { describe, expect, it } from 'vitest';

import { ArgumentError, diffusion } from '../../src/index.js';
import { expectClose } from '../helpers/memory.js';

const close = (actual: number, expected: number) => expectClose(actual, expected, 0, 1e-6);
/** Relative check for tiny or huge values (SNR, log variances). */
const closeRel = (actual: number, expected: number) => expectClose(actual, expected, 1e-9, 0);

describe('diffusion.noiseSchedule', () => {
  it('linear: Ho et al. 2020 §4, β from 1e-4 to 0.02 over T = 1000 steps', () => {
    const s = diffusion.noiseSchedule({ kind: 'linear', timesteps: 1000 });
    expect(s.betas).toBeInstanceOf(Float64Array);
    expect(s.betas.length).toBe(1000);
    close(s.betas[0]!, 1e-4);
    close(s.betas[999]!, 0.02);
    // βₜ = β₁ + (β_T - β₁)(t-1)/(T-1), paper index t = 501 ↔ our 500.
    close(s.betas[500]!, 1e-4 + (0.0199 * 500) / 999);
    const beta1 = 1e-4 + 0.0199 / 999;
    close(s.alphas[1]!, 1 - beta1);
    // ᾱ₀ = 1 - β₀; ᾱ₁ = (1 - β₀)(1 - β₁).
    close(s.alphasCumprod[0]!, 0.9999);
    close(s.alphasCumprod[1]!, 0.9999 * (1 - beta1));
    close(s.alphasCumprodPrev[0]!, 1);
    close(s.alphasCumprodPrev[1]!, 0.9999);
    // ᾱ_T = Π (1 - βₜ) ≈ 4.04e-5: √ᾱ_T ≈ 0.00635, the terminal value Lin et al. 2023 (§3.1) quote.
    let product = 1;
    for (let t = 0; t < 1000; t++) product *= 1 - (1e-4 + (0.0199 * t) / 999);
    closeRel(s.alphasCumprod[999]!, product);
    expect(Math.sqrt(s.alphasCumprod[999]!)).toBeCloseTo(0.00635, 4);
    close(s.sqrtAlphasCumprod[1]!, Math.sqrt(0.9999 * (1 - beta1)));
    close(s.sqrtOneMinusAlphasCumprod[1]!, Math.sqrt(1 - 0.9999 * (1 - beta1)));
    // SNR = ᾱ / (1 - ᾱ) (Kingma et al. 2021, eq. 5).
    closeRel(s.snr[0]!, 0.9999 / 1e-4);
    closeRel(s.snr[999]!, product / (1 - product));
  });

  it('posterior q(x_{t-1} | x_t, x_0): Ho et al. 2020 eq. 7', () => {
    const s = diffusion.noiseSchedule({ kind: 'linear', timesteps: 1000 });
    const beta1 = 1e-4 + 0.0199 / 999;
    const ab0 = 0.9999;
    const ab1 = ab0 * (1 - beta1);
    // β̃ₜ = (1 - ᾱₜ₋₁)/(1 - ᾱₜ) βₜ; at t = 0 the posterior is a point mass.
    close(s.posteriorVariance[0]!, 0);
    closeRel(s.posteriorVariance[1]!, ((1 - ab0) / (1 - ab1)) * beta1);
    // Clipped log variance: the t = 0 entry takes log β̃₁ (Ho et al.'s reference code).
    closeRel(s.posteriorLogVarianceClipped[0]!, Math.log(((1 - ab0) / (1 - ab1)) * beta1));
    closeRel(s.posteriorLogVarianceClipped[1]!, Math.log(((1 - ab0) / (1 - ab1)) * beta1));
    // μ̃ₜ = √ᾱₜ₋₁ βₜ/(1 - ᾱₜ) x₀ + √αₜ (1 - ᾱₜ₋₁)/(1 - ᾱₜ) xₜ.
    close(s.posteriorMeanCoef1[0]!, 1);
    close(s.posteriorMeanCoef2[0]!, 0);
    closeRel(s.posteriorMeanCoef1[1]!, (Math.sqrt(ab0) * beta1) / (1 - ab1));
    closeRel(s.posteriorMeanCoef2[1]!, (Math.sqrt(1 - beta1) * (1 - ab0)) / (1 - ab1));
  });

  it('cosine: Nichol & Dhariwal 2021 eq. 17, s = 0.008, β clipped at 0.999', () => {
    const T = 1000;
    const s = diffusion.noiseSchedule({ kind: 'cosine', timesteps: T });
    const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    // ᾱₜ = f(t)/f(0), βₜ = 1 - ᾱₜ/ᾱₜ₋₁ (paper index t ↔ our t - 1).
    close(s.betas[0]!, 1 - f(1) / f(0));
    close(s.betas[499]!, 1 - f(500) / f(499));
    close(s.alphasCumprod[0]!, f(1) / f(0));
    close(s.alphasCumprod[499]!, f(500) / f(0));
    // f(T) = cos²(π/2) = 0, so the last β is 1 before clipping.
    close(s.betas[999]!, 0.999);
    close(s.betas[998]!, Math.min(1 - f(999) / f(998), 0.999));
  });

  it('sigmoid: Jabri et al. 2022 (start -3, end 3, τ 1), as in denoising-diffusion-pytorch', () => {
    const T = 100;
    const s = diffusion.noiseSchedule({ kind: 'sigmoid', timesteps: T });
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const g = (t: number) => sig(3) - sig(((t / T) * 6 - 3) / 1);
    close(s.betas[0]!, 1 - g(1) / g(0));
    close(s.betas[50]!, 1 - g(51) / g(50));
    close(s.alphasCumprod[50]!, g(51) / g(0));
    // g(T) = 0: last β clipped to 0.999.
    close(s.betas[99]!, 0.999);
    // τ changes the curve: τ = 0.5.
    const s2 = diffusion.noiseSchedule({ kind: 'sigmoid', timesteps: T, sigmoidTau: 0.5 });
    const g2 = (t: number) => sig(3 / 0.5) - sig(((t / T) * 6 - 3) / 0.5);
    close(s2.betas[10]!, 1 - g2(11) / g2(10));
  });

  it('zero terminal SNR: Lin et al. 2023 Algorithm 1', () => {
    const T = 1000;
    const plain = diffusion.noiseSchedule({ kind: 'linear', timesteps: T });
    const s = diffusion.noiseSchedule({ kind: 'linear', timesteps: T, zeroTerminalSnr: true });
    // √ᾱ' = (√ᾱ - √ᾱ_T) · √ᾱ₁ / (√ᾱ₁ - √ᾱ_T): the first value is kept, the last is 0.
    let product = 1;
    const sqrtAb: number[] = [];
    for (let t = 0; t < T; t++) sqrtAb.push(Math.sqrt((product *= 1 - (1e-4 + (0.0199 * t) / 999))));
    const a0 = sqrtAb[0]!;
    const aT = sqrtAb[T - 1]!;
    close(s.alphasCumprod[0]!, 0.9999);
    close(s.alphasCumprod[T - 1]!, 0);
    close(s.snr[T - 1]!, 0);
    close(s.betas[T - 1]!, 1);
    for (const t of [1, 300, 998]) close(s.sqrtAlphasCumprod[t]!, ((sqrtAb[t]! - aT) * a0) / (a0 - aT));
    expect(s.alphasCumprod[500]!).toBeLessThan(plain.alphasCumprod[500]!);
  });

  it('rejects invalid options', () => {
    expect(() => diffusion.noiseSchedule({ kind: 'quadratic' as never })).toThrow(
      /diffusion.noiseSchedule: argument 'options.kind' must be one of 'linear', 'cosine', 'sigmoid', received/,
    );
    expect(() => diffusion.noiseSchedule({ timesteps: 0 })).toThrow(/options.timesteps' must be a positive integer/);
    expect(() => diffusion.noiseSchedule({ betaEnd: 1.5 })).toThrow(/options.betaEnd' must be a finite number > 0 and < 1/);
    expect(() => diffusion.noiseSchedule({ sigmoidStart: 3, sigmoidEnd: 3 })).toThrow(/sigmoidEnd' must be greater than sigmoidStart/);
    expect(() => diffusion.noiseSchedule({ timestep: 10 } as never)).toThrow(/Did you mean 'timesteps'/);
    expect(() => diffusion.noiseSchedule({ timestep: 10 } as never)).toThrow(ArgumentError);
  });
});
