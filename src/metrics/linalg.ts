/**
 * Float64 dense linear algebra for the metrics (internal): moments of an activation matrix and
 * the symmetric eigendecomposition behind the Fréchet distance.
 *
 * The eigensolver is the classic Householder tridiagonalisation (`tred2`) followed by the
 * implicit QL algorithm with shifts (`tql2`), as in EISPACK and JAMA: O(d³), backward stable for
 * symmetric matrices, and quick enough in JavaScript for d up to a few hundred (d = 2048 takes
 * tens of seconds).
 *
 * @module
 * @internal
 */

/** Column means of a row-major `[n, d]` matrix, accumulated in float64. @internal */
export function columnMeans(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) mean[j]! += x[row + j]!;
  }
  for (let j = 0; j < d; j++) mean[j]! /= n;
  return mean;
}

/**
 * Unbiased sample covariance `Σ = (X − μ)ᵀ(X − μ) / (n − 1)` of a row-major `[n, d]` matrix,
 * as a row-major `[d, d]` float64 matrix. Requires `n ≥ 2`.
 *
 * @internal
 */
export function covariance(x: ArrayLike<number>, n: number, d: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(d * d);
  // Centred rows, four at a time: each pass over the upper triangle of `cov` adds four outer
  // products, which quarters the loads and stores of `cov` (the costly part for n ≫ d).
  const block = 4;
  const c = new Float64Array(block * d);
  for (let i0 = 0; i0 < n; i0 += block) {
    const rows = Math.min(block, n - i0);
    c.fill(0);
    for (let r = 0; r < rows; r++) {
      const row = (i0 + r) * d;
      for (let j = 0; j < d; j++) c[r * d + j] = x[row + j]! - mean[j]!;
    }
    for (let j = 0; j < d; j++) {
      const a0 = c[j]!;
      const a1 = c[d + j]!;
      const a2 = c[2 * d + j]!;
      const a3 = c[3 * d + j]!;
      const base = j * d;
      // Upper triangle only; mirrored below.
      for (let k = j; k < d; k++) {
        cov[base + k]! += a0 * c[k]! + a1 * c[d + k]! + a2 * c[2 * d + k]! + a3 * c[3 * d + k]!;
      }
    }
  }
  const scale = 1 / (n - 1);
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = cov[j * d + k]! * scale;
      cov[j * d + k] = v;
      cov[k * d + j] = v;
    }
  }
  return cov;
}

/** Result of {@link symmetricEigen}. @internal */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as the columns of a row-major `[d, d]` matrix (`vectors[i * d + k]` is entry i of vector k). */
  vectors: Float64Array;
}

/**
 * Eigendecomposition `A = V diag(λ) Vᵀ` of a symmetric row-major `[d, d]` matrix (only its
 * symmetric part is meaningful; the input is not modified).
 *
 * @internal
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  const v = Float64Array.from(a as ArrayLike<number>);
  // Symmetrize against rounding in the caller's products.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (v[i * n + j]! + v[j * n + i]!);
      v[i * n + j] = s;
      v[j * n + i] = s;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 1) {
    d[0] = v[0]!;
    v[0] = 1;
    return { values: d, vectors: v };
  }
  tred2(v, d, e, n);
  tql2(v, d, e, n);
  return { values: d, vectors: v };
}

/** Householder reduction of the symmetric matrix in `V` to tridiagonal form (JAMA's tred2). */
function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k]! += V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j]! -= f * e[k]! + g * d[k]!;
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL with Wilkinson-type shifts on the tridiagonal (d, e), accumulating into V (JAMA's tql2). */
function tql2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m === n) m = n - 1;
    if (m > l) {
      let iter = 0;
      do {
        iter++;
        if (iter > 100) throw new Error('symmetricEigen: the QL iteration did not converge (non-finite input?)');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          for (let k = 0; k < n; k++) {
            const row = k * n;
            h = V[row + i + 1]!;
            V[row + i + 1] = s * V[row + i]! + c * h;
            V[row + i] = c * V[row + i]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  // Sort ascending, with the vectors.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = V[j * n + i]!;
        V[j * n + i] = V[j * n + k]!;
        V[j * n + k] = t;
      }
    }
  }
}

/**
 * Principal square root `A^{1/2} = V diag(√max(λ, 0)) Vᵀ` of a symmetric positive semi-definite
 * `[d, d]` matrix; eigenvalues that rounding made slightly negative are clamped to 0.
 *
 * @internal
 */
export function sqrtPsd(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const root = new Float64Array(n * n);
  const s = new Float64Array(n);
  for (let k = 0; k < n; k++) s[k] = Math.sqrt(Math.max(values[k]!, 0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += vectors[i * n + k]! * s[k]! * vectors[j * n + k]!;
      root[i * n + j] = sum;
      root[j * n + i] = sum;
    }
  }
  return root;
}

/** `A · B` for row-major square `[n, n]` matrices. @internal */
export function matMulSquare(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      const bRow = k * n;
      const oRow = i * n;
      for (let j = 0; j < n; j++) out[oRow + j]! += aik * b[bRow + j]!;
    }
  }
  return out;
}

/**
 * `tr((S1^{1/2} S2 S1^{1/2})^{1/2})` = `tr((S1 S2)^{1/2})` for symmetric PSD `S1`, `S2`: the
 * cross term of the Fréchet distance, computed through a symmetric matrix so that every
 * eigenvalue is real and clamping the tiny negative ones to 0 keeps the result finite.
 *
 * @internal
 */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, n: number): number {
  const root1 = sqrtPsd(s1, n);
  const m = matMulSquare(matMulSquare(root1, s2, n), root1, n);
  const { values } = symmetricEigen(m, n);
  let trace = 0;
  for (let k = 0; k < n; k++) trace += Math.sqrt(Math.max(values[k]!, 0));
  return trace;
}
