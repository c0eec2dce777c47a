/**
 * Direct (exact, O(M·ΠN)) nonuniform DFTs in float64, with the same shapes
 * and conventions as the NUFFT core; for tests and benchmark error checks.
 *
 *   type 1: f[k] = Σ_j (c_j [+ isign·i·(k·d_j)])·exp(isign·i·k·x_j)
 *   type 2: c_j = Σ_k f[k]·exp(isign·i·k·x_j)  [+ rows ∂c_j/∂x_a]
 */

type RealArray = Float32Array | Float64Array;

/** Options shared by the direct sums. */
export interface NudftOptions {
  /** Real [d, M] coordinates (radians). */
  points: RealArray;
  M: number;
  /** [N1..Nd], d ∈ {1, 2, 3}; pairs with point rows 1..d. */
  modes: number[];
  ntransf?: number;
  isign?: 1 | -1;
  /** 0: k = −⌊N/2⌋..⌈N/2⌉−1; 1: FFT order. */
  modeord?: 0 | 1;
  gradient?: boolean;
}

/** k value for mode-array index m on an axis of N modes. */
function kOf(m: number, N: number, modeord: 0 | 1): number {
  return modeord === 0 ? m - Math.floor(N / 2) : m < Math.ceil(N / 2) ? m : m - N;
}

/** Per axis (padded to 3, leading dummies), exp(isign·i·k·x) for every mode index. */
function axisExponentials(o: NudftOptions, j: number, isign: number, e: Float64Array[], kv: Float64Array[]): void {
  const d = o.modes.length, pad = 3 - d, modeord = o.modeord ?? 0;
  for (let a = 0; a < 3; a++) {
    if (a < pad) { e[a][0] = 1; e[a][1] = 0; kv[a][0] = 0; continue; }
    const N = o.modes[a - pad], x = o.points[(a - pad) * o.M + j];
    for (let m = 0; m < N; m++) {
      const k = kOf(m, N, modeord);
      kv[a][m] = k;
      const ph = isign * k * x;
      e[a][2 * m] = Math.cos(ph);
      e[a][2 * m + 1] = Math.sin(ph);
    }
  }
}

function padded(modes: number[]): number[] {
  return [...new Array(3 - modes.length).fill(1), ...modes];
}

/**
 * Exact type-1 sum. strengths: complex [ntransf, M], or with gradient
 * [ntransf, 1+d, M] = (c_j, d_{j,1..d}). Returns complex [ntransf, N1..Nd].
 * Default isign +1.
 */
export function directNudft1(o: NudftOptions & { strengths: RealArray }): Float64Array {
  const ntransf = o.ntransf ?? 1, isign = o.isign ?? 1, d = o.modes.length, M = o.M;
  const [N0, N1, N2] = padded(o.modes), pad = 3 - d;
  const nm = N0 * N1 * N2, rows = o.gradient ? 1 + d : 1;
  const out = new Float64Array(2 * ntransf * nm);
  const e = [N0, N1, N2].map((n) => new Float64Array(2 * n));
  const kv = [N0, N1, N2].map((n) => new Float64Array(n));
  const dd = new Float64Array(6);
  for (let j = 0; j < M; j++) {
    axisExponentials(o, j, isign, e, kv);
    const [e0, e1, e2] = e, [k0, k1, k2] = kv;
    for (let t = 0; t < ntransf; t++) {
      const sb = 2 * (t * rows * M + j);
      const cr = o.strengths[sb], ci = o.strengths[sb + 1];
      dd.fill(0);
      if (o.gradient) {
        for (let a = 0; a < d; a++) {
          dd[2 * (pad + a)] = o.strengths[sb + 2 * (1 + a) * M];
          dd[2 * (pad + a) + 1] = o.strengths[sb + 2 * (1 + a) * M + 1];
        }
      }
      let m = t * nm;
      for (let a = 0; a < N0; a++) {
        for (let b = 0; b < N1; b++) {
          const pr = e0[2 * a] * e1[2 * b] - e0[2 * a + 1] * e1[2 * b + 1];
          const pi = e0[2 * a] * e1[2 * b + 1] + e0[2 * a + 1] * e1[2 * b];
          for (let c = 0; c < N2; c++, m++) {
            const er = pr * e2[2 * c] - pi * e2[2 * c + 1], ei = pr * e2[2 * c + 1] + pi * e2[2 * c];
            // coefficient c + isign·i·(k·d)
            const kdr = k0[a] * dd[0] + k1[b] * dd[2] + k2[c] * dd[4];
            const kdi = k0[a] * dd[1] + k1[b] * dd[3] + k2[c] * dd[5];
            const ar = cr - isign * kdi, ai = ci + isign * kdr;
            out[2 * m] += ar * er - ai * ei;
            out[2 * m + 1] += ar * ei + ai * er;
          }
        }
      }
    }
  }
  return out;
}

/**
 * Exact type-2 sum. coefs: complex [ntransf, N1..Nd]. Returns complex
 * [ntransf, M], or with gradient [ntransf, 1+d, M] (row 1+a = ∂c_j/∂x_a).
 * Default isign −1.
 */
export function directNudft2(o: NudftOptions & { coefs: RealArray }): Float64Array {
  const ntransf = o.ntransf ?? 1, isign = o.isign ?? -1, d = o.modes.length, M = o.M;
  const [N0, N1, N2] = padded(o.modes), pad = 3 - d;
  const nm = N0 * N1 * N2, rows = o.gradient ? 1 + d : 1;
  const out = new Float64Array(2 * ntransf * rows * M);
  const e = [N0, N1, N2].map((n) => new Float64Array(2 * n));
  const kv = [N0, N1, N2].map((n) => new Float64Array(n));
  const acc = new Float64Array(8);
  const f = o.coefs;
  for (let j = 0; j < M; j++) {
    axisExponentials(o, j, isign, e, kv);
    const [e0, e1, e2] = e, [k0, k1, k2] = kv;
    for (let t = 0; t < ntransf; t++) {
      acc.fill(0);
      let m = t * nm;
      for (let a = 0; a < N0; a++) {
        for (let b = 0; b < N1; b++) {
          const pr = e0[2 * a] * e1[2 * b] - e0[2 * a + 1] * e1[2 * b + 1];
          const pi = e0[2 * a] * e1[2 * b + 1] + e0[2 * a + 1] * e1[2 * b];
          for (let c = 0; c < N2; c++, m++) {
            const er = pr * e2[2 * c] - pi * e2[2 * c + 1], ei = pr * e2[2 * c + 1] + pi * e2[2 * c];
            const vr = f[2 * m] * er - f[2 * m + 1] * ei, vi = f[2 * m] * ei + f[2 * m + 1] * er;
            acc[0] += vr; acc[1] += vi;
            // Σ k_a·v per padded axis; multiplied by isign·i below
            acc[2] += k0[a] * vr; acc[3] += k0[a] * vi;
            acc[4] += k1[b] * vr; acc[5] += k1[b] * vi;
            acc[6] += k2[c] * vr; acc[7] += k2[c] * vi;
          }
        }
      }
      const ob = 2 * (t * rows * M + j);
      out[ob] = acc[0]; out[ob + 1] = acc[1];
      if (o.gradient) {
        for (let a = 0; a < d; a++) {
          const q = 2 + 2 * (pad + a), oo = ob + 2 * (1 + a) * M;
          out[oo] = -isign * acc[q + 1];
          out[oo + 1] = isign * acc[q];
        }
      }
    }
  }
  return out;
}
