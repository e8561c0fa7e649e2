/**
 * Independent float64 references for the GAN losses, written from the papers' formulas (and,
 * for the sigmoid losses, PyTorch's `F.binary_cross_entropy_with_logits` definition
 * `max(x, 0) - x·t + log(1 + exp(-|x|))`). Nothing here calls genblocks.
 */

/** log(1 + e^x) in float64 without overflow. */
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** PyTorch F.binary_cross_entropy_with_logits, per element: max(x,0) - x t + log1p(exp(-|x|)). */
export const bceWithLogits = (x: number, t: number): number => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

/** A loss as lists of per-element terms; the reduction combines them. */
export type Terms = number[][];

export interface ReferenceLoss {
  discriminator(r: number[], f: number[], smoothing?: number): Terms;
  generator(r: number[], f: number[]): Terms;
}

export const REFERENCES: Record<string, ReferenceLoss> = {
  // Goodfellow et al. 2014, eq. 1: D minimizes -log D(x) - log(1 - D(G(z))); G minimizes log(1 - D(G(z))).
  minimax: {
    discriminator: (r, f, s = 0) => [r.map((x) => bceWithLogits(x, 1 - s)), f.map((x) => bceWithLogits(x, 0))],
    generator: (_r, f) => [f.map((x) => -bceWithLogits(x, 0))],
  },
  // Goodfellow et al. 2014, section 3: G minimizes -log D(G(z)).
  nonSaturating: {
    discriminator: (r, f, s = 0) => [r.map((x) => bceWithLogits(x, 1 - s)), f.map((x) => bceWithLogits(x, 0))],
    generator: (_r, f) => [f.map((x) => bceWithLogits(x, 1))],
  },
  // Mao et al. 2017, eq. 2 with a = 0, b = c = 1.
  leastSquares: {
    discriminator: (r, f) => [r.map((x) => 0.5 * (x - 1) ** 2), f.map((x) => 0.5 * x ** 2)],
    generator: (_r, f) => [f.map((x) => 0.5 * (x - 1) ** 2)],
  },
  // Arjovsky et al. 2017, Algorithm 1 (signs flipped to minimize).
  wasserstein: {
    discriminator: (r, f) => [r.map((x) => -x), f.map((x) => x)],
    generator: (_r, f) => [f.map((x) => -x)],
  },
  // Lim & Ye 2017; Miyato et al. 2018 eqs. 16-17.
  hinge: {
    discriminator: (r, f) => [r.map((x) => Math.max(0, 1 - x)), f.map((x) => Math.max(0, 1 + x))],
    generator: (_r, f) => [f.map((x) => -x)],
  },
  // Jolicoeur-Martineau 2018, RaSGAN (section 4.2, with means over every element).
  relativisticAverage: {
    discriminator: (r, f, s = 0) => {
      const mr = mean(r);
      const mf = mean(f);
      return [r.map((x) => bceWithLogits(x - mf, 1 - s)), f.map((x) => bceWithLogits(x - mr, 0))];
    },
    generator: (r, f) => {
      const mr = mean(r);
      const mf = mean(f);
      return [f.map((x) => bceWithLogits(x - mr, 1)), r.map((x) => bceWithLogits(x - mf, 0))];
    },
  },
};

/** Applies a reduction to reference terms: Σ mean(terms), Σ sum(terms), or the element-wise sum. */
export function reduceTerms(terms: Terms, reduction: 'mean' | 'sum' | 'none'): number[] {
  if (reduction === 'none') return terms[0]!.map((_, i) => terms.reduce((s, t) => s + t[i]!, 0));
  const total = terms.reduce((s, t) => s + (reduction === 'mean' ? mean(t) : t.reduce((a, v) => a + v, 0)), 0);
  return [total];
}

/**
 * Central finite difference (float64, h = 1e-6) of a scalar reference function with respect to
 * each element of `x`.
 */
export function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[i]! += h;
    minus[i]! -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}
