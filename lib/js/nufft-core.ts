/**
 * Pure-TypeScript NUFFT core (types 1 and 2, d = 1..3, optional fused
 * gradient) on raw interleaved typed arrays. FINUFFT conventions, row-major:
 *
 *   type 1: f[k] = Σ_j c_j·exp(isign·i·k·x_j)      (default isign +1)
 *   type 2: c_j = Σ_k f[k]·exp(isign·i·k·x_j)      (default isign −1)
 *
 * modes [N1..Nd] pair with point rows 1..d; mode arrays are
 * [ntransf, N1..Nd] complex (last axis fastest); points are real [d, M];
 * strengths/values are complex [ntransf, M] ([ntransf, 1+d, M] with gradient).
 * Everything is computed in float64; float32 only affects storage.
 */

import { fftn, FftSign } from './fft';
import { axisErrorEstimate, axisKernel, type AxisLayout, axisLayout, chooseKernel, fineGridSize, kernelFourierSeries, KernelParams, NufftPrecision, UpsampFac } from '../nufft/params';

type RealArray = Float32Array | Float64Array;

const TWO_PI = 2 * Math.PI;
const MAX_DIM = 3;

/**
 * kd = (k, dk) pairs of the last axis's weights: the gradient loops read both from one array,
 * measured 4-10% faster in V8 than reading two.
 */
function interleaveLastAxis(ker: Float64Array, dker: Float64Array, w2: number, kd: Float64Array): void {
  for (let c = 0; c < w2; c++) { kd[2 * c] = ker[64 + c]; kd[2 * c + 1] = dker[64 + c]; }
}

/**
 * out[o + q] = s·Σ_p c[p·w + q]·u^(deg−p) for the w taps (coefficients highest power first),
 * two independent Horner chains at a time to hide the multiply-add latency.
 */
function hornerTaps(c: Float64Array, w: number, deg: number, u: number, s: number, out: Float64Array, o: number): void {
  let q = 0;
  for (; q + 1 < w; q += 2) {
    let v0 = c[q], v1 = c[q + 1];
    for (let r = q + w; r <= deg * w + q; r += w) { v0 = v0 * u + c[r]; v1 = v1 * u + c[r + 1]; }
    out[o + q] = v0 * s; out[o + q + 1] = v1 * s;
  }
  if (q < w) {
    let v = c[q];
    for (let r = q + w; r <= deg * w + q; r += w) v = v * u + c[r];
    out[o + q] = v * s;
  }
}

/**
 * Point geometry on a periodic grid, padded to 3 axes (leading dummy axes of
 * size 1 and width 1) so one spreading loop serves d = 1, 2, 3. Points are
 * visited in an order sorted by grid bin for cache locality.
 */
class Geometry {
  readonly dim: number;
  readonly n3: number[];
  readonly w3: number[];
  readonly M: number;
  /** Point visiting order (sorted by grid bin). */
  readonly order: Uint32Array;
  /**
   * Grid coordinates y = (x mod 2π)·n/(2π) ∈ [0, n), [d, M], permuted into
   * the sorted order so the point loop reads them sequentially.
   */
  private readonly ys: Float64Array;
  readonly kp: KernelParams;
  /** Per padded axis: w kernel values, w derivative values (d weight / d x, physical units), w indices. */
  private readonly ker = new Float64Array(MAX_DIM * 32);
  private readonly dker = new Float64Array(MAX_DIM * 32);
  /** Last axis's (k, dk) pairs for the gradient loops (see interleaveLastAxis). */
  private readonly kd = new Float64Array(64);
  private readonly idx = new Int32Array(MAX_DIM * 32);
  /** First grid index on the last axis when its w indices do not wrap, else −1. */
  private lastStart = -1;

  /** Kernel per real axis (all the same unless per-axis widths were asked for). */
  private readonly kps: KernelParams[];
  private readonly coeffsA: Float64Array[];
  private readonly dcoeffsA: Float64Array[];

  constructor(points: RealArray, M: number, gridSize: readonly number[], kernel: KernelParams | readonly KernelParams[]) {
    const d = gridSize.length;
    if (d < 1 || d > MAX_DIM) throw new Error(`dimension must be 1, 2 or 3, got ${d}`);
    if (!Number.isInteger(M) || M < 0) throw new Error(`M must be a non-negative integer, got ${M}`);
    if (points.length < d * M) throw new Error(`points has ${points.length} entries, expected d*M = ${d * M}`);
    const kps = Array.isArray(kernel) ? [...(kernel as readonly KernelParams[])] : new Array<KernelParams>(d).fill(kernel as KernelParams);
    if (kps.length !== d) throw new Error(`expected ${d} axis kernels, got ${kps.length}`);
    this.dim = d;
    this.M = M;
    this.kp = kps[0];
    this.kps = kps;
    for (const k of kps) if (k.width > 32) throw new Error(`kernel width ${k.width} exceeds 32`);
    this.n3 = [...new Array(MAX_DIM - d).fill(1), ...gridSize];
    this.w3 = [...new Array(MAX_DIM - d).fill(1), ...kps.map((k) => k.width)];
    for (let a = 0; a < d; a++) if (gridSize[a] < kps[a].width) throw new Error(`grid size ${gridSize[a]} smaller than kernel width ${kps[a].width}`);
    this.coeffsA = kps.map((k) => Float64Array.from(k.poly.coeffs));
    this.dcoeffsA = kps.map((k) => Float64Array.from(k.poly.dcoeffs));
    const y = new Float64Array(d * M);
    for (let i = 0; i < d * M; i++) {
      const x = points[i];
      if (!Number.isFinite(x)) throw new Error(`non-finite point coordinate at index ${i}`);
    }
    for (let a = 0; a < d; a++) {
      const n = gridSize[a], scale = n / TWO_PI;
      for (let j = 0; j < M; j++) {
        const x = points[a * M + j];
        let v = (x - TWO_PI * Math.floor(x / TWO_PI)) * scale;
        if (v >= n) v -= n;
        y[a * M + j] = v;
      }
    }
    this.order = this.sortOrder(gridSize, y);
    this.ys = new Float64Array(d * M);
    for (let a = 0; a < d; a++) for (let p = 0; p < M; p++) this.ys[a * M + p] = y[a * M + this.order[p]];
    // Padded axes: a single weight 1 at index 0, zero derivative.
    for (let a = 0; a < MAX_DIM - d; a++) { this.ker[a * 32] = 1; this.dker[a * 32] = 0; this.idx[a * 32] = 0; }
  }

  /** Counting sort of points by bin (16 cells per axis in 1-D/2-D, 8 in 3-D). */
  private sortOrder(gridSize: readonly number[], y: Float64Array): Uint32Array {
    const d = this.dim, M = this.M;
    const bs = d === 3 ? 8 : 16;
    const nb = gridSize.map((n) => Math.ceil(n / bs));
    const nbins = nb.reduce((a, b) => a * b, 1);
    const key = new Uint32Array(M);
    const count = new Uint32Array(nbins + 1);
    for (let j = 0; j < M; j++) {
      let k = 0;
      for (let a = 0; a < d; a++) k = k * nb[a] + Math.min(nb[a] - 1, Math.floor(y[a * M + j] / bs));
      key[j] = k;
      count[k + 1]++;
    }
    for (let b = 0; b < nbins; b++) count[b + 1] += count[b];
    const order = new Uint32Array(M);
    for (let j = 0; j < M; j++) order[count[key[j]]++] = j;
    return order;
  }

  /** Fills ker/dker/idx for the point at sorted position pi on the real axes. */
  private evalPoint(pi: number, grad: boolean): void {
    const d = this.dim, M = this.M, ker = this.ker, dker = this.dker, idx = this.idx;
    for (let a = 0; a < d; a++) {
      const kpa = this.kps[a], w = kpa.width, half = w / 2, deg = kpa.poly.degree;
      const c = this.coeffsA[a], dc = this.dcoeffsA[a];
      const pa = MAX_DIM - d + a, o = pa * 32, n = this.n3[pa];
      const yy = this.ys[a * M + pi];
      const i0 = Math.ceil(yy - half);
      const u = 2 * (i0 - (yy - half)) - 1;
      hornerTaps(c, w, deg, u, 1, ker, o);
      // weight = φ((g − y)/(w/2)), y = x·n/2π ⇒ d/dx = φ'(z)·(−2/w)·(n/2π)
      if (grad) hornerTaps(dc, w, deg, u, (-2 / w) * (n / TWO_PI), dker, o);
      let g = i0 < 0 ? i0 + n : i0;
      if (pa === MAX_DIM - 1) this.lastStart = i0 >= 0 && i0 + w <= n ? i0 : -1;
      for (let q = 0; q < w; q++) {
        idx[o + q] = g;
        if (++g === n) g = 0;
      }
    }
  }

  /**
   * grid[t] += Σ_j c_j·weight(g, x_j) (+ Σ_a d_{j,a}·∂weight/∂x_a with grad).
   * strengths: [ntransf, M] or [ntransf, 1+d, M] complex; grid: [ntransf, n..] complex.
   */
  spread(strengths: RealArray, ntransf: number, grad: boolean, grid: Float64Array): void {
    // Separate methods: V8 optimises each loop nest on its own (one function holding both ran the
    // plain loops 4-6% slower).
    if (grad) this.spreadGradient(strengths, ntransf, grid);
    else this.spreadPlain(strengths, ntransf, grid);
  }

  private spreadPlain(strengths: RealArray, ntransf: number, grid: Float64Array): void {
    const M = this.M, [n0, n1, n2] = this.n3, [w0, w1, w2] = this.w3;
    const gsz = 2 * n0 * n1 * n2;
    const ker = this.ker, idx = this.idx, order = this.order;
    for (let pi = 0; pi < M; pi++) {
      const j = order[pi];
      this.evalPoint(pi, false);
      const start = this.lastStart;
      for (let t = 0; t < ntransf; t++) {
        const sb = 2 * (t * M + j);
        const cr = strengths[sb], ci = strengths[sb + 1];
        const gb = t * gsz;
        for (let a = 0; a < w0; a++) {
          const k0 = ker[a], o0 = idx[a] * n1;
          for (let b = 0; b < w1; b++) {
            const k01 = k0 * ker[32 + b], o1 = gb + 2 * (o0 + idx[32 + b]) * n2;
            const vr = cr * k01, vi = ci * k01;
            if (start >= 0) {
              for (let c = 0, o = o1 + 2 * start; c < w2; c++, o += 2) {
                const k = ker[64 + c];
                grid[o] += vr * k; grid[o + 1] += vi * k;
              }
            } else {
              for (let c = 0; c < w2; c++) {
                const k = ker[64 + c], o = o1 + 2 * idx[64 + c];
                grid[o] += vr * k; grid[o + 1] += vi * k;
              }
            }
          }
        }
      }
    }
  }

  private spreadGradient(strengths: RealArray, ntransf: number, grid: Float64Array): void {
    const M = this.M, d = this.dim, [n0, n1, n2] = this.n3, [w0, w1, w2] = this.w3;
    const gsz = 2 * n0 * n1 * n2, rows = 1 + d;
    const ker = this.ker, dker = this.dker, idx = this.idx, order = this.order, kd = this.kd;
    // Derivative strengths of the padded axes are zero.
    let g0r = 0, g0i = 0, g1r = 0, g1i = 0, g2r = 0, g2i = 0;
    for (let pi = 0; pi < M; pi++) {
      const j = order[pi];
      this.evalPoint(pi, true);
      interleaveLastAxis(ker, dker, w2, kd);
      for (let t = 0; t < ntransf; t++) {
        const sb = 2 * (t * rows * M + j);
        const cr = strengths[sb], ci = strengths[sb + 1];
        const gb = t * gsz;
        // Gradient strengths d_{j,a} for the real axes, placed on padded axes.
        const off = MAX_DIM - d;
        for (let a = 0; a < d; a++) {
          const r = sb + 2 * (1 + a) * M, pa = off + a;
          const re = strengths[r], im = strengths[r + 1];
          if (pa === 0) { g0r = re; g0i = im; } else if (pa === 1) { g1r = re; g1i = im; } else { g2r = re; g2i = im; }
        }
        for (let a = 0; a < w0; a++) {
          const k0 = ker[a], dk0 = dker[a], o0 = idx[a] * n1;
          // value part V = c·k0 + g0·dk0; axis-1 and axis-2 gradient parts scale with k0
          const Vr = cr * k0 + g0r * dk0, Vi = ci * k0 + g0i * dk0;
          const G1r = g1r * k0, G1i = g1i * k0, G2r = g2r * k0, G2i = g2i * k0;
          // Two rows per pass over the last axis, as in interpGradient.
          let b = 0;
          for (; b + 1 < w1; b += 2) {
            const k1 = ker[32 + b], dk1 = dker[32 + b], o1 = gb + 2 * (o0 + idx[32 + b]) * n2;
            const k1n = ker[33 + b], dk1n = dker[33 + b], p1 = gb + 2 * (o0 + idx[33 + b]) * n2;
            const Ar = Vr * k1 + G1r * dk1, Ai = Vi * k1 + G1i * dk1, Br = G2r * k1, Bi = G2i * k1;
            const Cr = Vr * k1n + G1r * dk1n, Ci = Vi * k1n + G1i * dk1n, Dr = G2r * k1n, Di = G2i * k1n;
            for (let c = 0; c < w2; c++) {
              const k = kd[2 * c], dk = kd[2 * c + 1], col = 2 * idx[64 + c], o = o1 + col, q = p1 + col;
              grid[o] += Ar * k + Br * dk; grid[o + 1] += Ai * k + Bi * dk;
              grid[q] += Cr * k + Dr * dk; grid[q + 1] += Ci * k + Di * dk;
            }
          }
          if (b < w1) {
            const k1 = ker[32 + b], dk1 = dker[32 + b], o1 = gb + 2 * (o0 + idx[32 + b]) * n2;
            const Ar = Vr * k1 + G1r * dk1, Ai = Vi * k1 + G1i * dk1;
            const Br = G2r * k1, Bi = G2i * k1;
            for (let c = 0; c < w2; c++) {
              const k = kd[2 * c], dk = kd[2 * c + 1], o = o1 + 2 * idx[64 + c];
              grid[o] += Ar * k + Br * dk; grid[o + 1] += Ai * k + Bi * dk;
            }
          }
        }
      }
    }
  }

  /**
   * out[t, j] = Σ_g grid[t, g]·weight(g, x_j); with grad also rows 1+a holding
   * Σ_g grid·∂weight/∂x_a. out: [ntransf, M] or [ntransf, 1+d, M] complex.
   */
  interp(grid: ArrayLike<number>, ntransf: number, grad: boolean, out: RealArray): void {
    // Separate methods, as in spread.
    if (grad) this.interpGradient(grid, ntransf, out);
    else this.interpPlain(grid, ntransf, out);
  }

  private interpPlain(grid: ArrayLike<number>, ntransf: number, out: RealArray): void {
    const M = this.M, [n0, n1, n2] = this.n3, [w0, w1, w2] = this.w3;
    const gsz = 2 * n0 * n1 * n2;
    const ker = this.ker, idx = this.idx, order = this.order;
    for (let pi = 0; pi < M; pi++) {
      const j = order[pi];
      this.evalPoint(pi, false);
      const start = this.lastStart;
      for (let t = 0; t < ntransf; t++) {
        const gb = t * gsz, ob = 2 * (t * M + j);
        let vr = 0, vi = 0;
        for (let a = 0; a < w0; a++) {
          const o0 = idx[a] * n1;
          let ar = 0, ai = 0;
          for (let b = 0; b < w1; b++) {
            const o1 = gb + 2 * (o0 + idx[32 + b]) * n2;
            let sr = 0, si = 0;
            if (start >= 0) {
              for (let c = 0, o = o1 + 2 * start; c < w2; c++, o += 2) {
                const k = ker[64 + c];
                sr += grid[o] * k; si += grid[o + 1] * k;
              }
            } else {
              for (let c = 0; c < w2; c++) {
                const k = ker[64 + c], o = o1 + 2 * idx[64 + c];
                sr += grid[o] * k; si += grid[o + 1] * k;
              }
            }
            const k1 = ker[32 + b];
            ar += sr * k1; ai += si * k1;
          }
          const k0 = ker[a];
          vr += ar * k0; vi += ai * k0;
        }
        out[ob] = vr; out[ob + 1] = vi;
      }
    }
  }

  private interpGradient(grid: ArrayLike<number>, ntransf: number, out: RealArray): void {
    const M = this.M, d = this.dim, [n0, n1, n2] = this.n3, [w0, w1, w2] = this.w3;
    const gsz = 2 * n0 * n1 * n2, rows = 1 + d;
    const ker = this.ker, dker = this.dker, idx = this.idx, order = this.order;
    const off = MAX_DIM - d, kd = this.kd;
    for (let pi = 0; pi < M; pi++) {
      const j = order[pi];
      this.evalPoint(pi, true);
      interleaveLastAxis(ker, dker, w2, kd);
      for (let t = 0; t < ntransf; t++) {
        const gb = t * gsz, ob = 2 * (t * rows * M + j);
        let vr = 0, vi = 0, d0r = 0, d0i = 0, d1r = 0, d1i = 0, d2r = 0, d2i = 0;
        for (let a = 0; a < w0; a++) {
          const o0 = idx[a] * n1;
          // per-plane partial sums: value, ∂1 and ∂2
          let ar = 0, ai = 0, e1r = 0, e1i = 0, e2r = 0, e2i = 0;
          // Two rows per pass over the last axis: its weights and offsets are loaded once for both
          // (3-D gradient transforms 9-17% faster in V8).
          let b = 0;
          for (; b + 1 < w1; b += 2) {
            const o1 = gb + 2 * (o0 + idx[32 + b]) * n2, p1 = gb + 2 * (o0 + idx[33 + b]) * n2;
            let sr = 0, si = 0, tr = 0, ti = 0, qr = 0, qi = 0, ur = 0, ui = 0;
            for (let c = 0; c < w2; c++) {
              const k = kd[2 * c], dk = kd[2 * c + 1], col = 2 * idx[64 + c], o = o1 + col, q = p1 + col;
              const gr = grid[o], gi = grid[o + 1], hr = grid[q], hi = grid[q + 1];
              sr += gr * k; si += gi * k; tr += gr * dk; ti += gi * dk;
              qr += hr * k; qi += hi * k; ur += hr * dk; ui += hi * dk;
            }
            const k1 = ker[32 + b], dk1 = dker[32 + b], k1n = ker[33 + b], dk1n = dker[33 + b];
            ar += sr * k1 + qr * k1n; ai += si * k1 + qi * k1n;
            e1r += sr * dk1 + qr * dk1n; e1i += si * dk1 + qi * dk1n;
            e2r += tr * k1 + ur * k1n; e2i += ti * k1 + ui * k1n;
          }
          if (b < w1) {
            const o1 = gb + 2 * (o0 + idx[32 + b]) * n2;
            let sr = 0, si = 0, tr = 0, ti = 0;
            for (let c = 0; c < w2; c++) {
              const k = kd[2 * c], dk = kd[2 * c + 1], o = o1 + 2 * idx[64 + c];
              const gr = grid[o], gi = grid[o + 1];
              sr += gr * k; si += gi * k; tr += gr * dk; ti += gi * dk;
            }
            const k1 = ker[32 + b], dk1 = dker[32 + b];
            ar += sr * k1; ai += si * k1;
            e1r += sr * dk1; e1i += si * dk1;
            e2r += tr * k1; e2i += ti * k1;
          }
          const k0 = ker[a], dk0 = dker[a];
          vr += ar * k0; vi += ai * k0;
          d0r += ar * dk0; d0i += ai * dk0;
          d1r += e1r * k0; d1i += e1i * k0;
          d2r += e2r * k0; d2i += e2i * k0;
        }
        out[ob] = vr; out[ob + 1] = vi;
        for (let a = 0; a < d; a++) {
          const o = ob + 2 * (1 + a) * M, pa = off + a;
          out[o] = pa === 0 ? d0r : pa === 1 ? d1r : d2r;
          out[o + 1] = pa === 0 ? d0i : pa === 1 ? d1i : d2i;
        }
      }
    }
  }
}

/** Options shared by the standalone {@link spread} and {@link interp}. */
export interface GriddingOptions {
  /** Real [d, M] coordinates, periodic with period 2π; grid point g sits at 2π·g/n. */
  points: RealArray;
  M: number;
  /** Grid shape [n1..nd] (each ≥ kernel width). */
  gridSize: number[];
  /** Number of stacked transforms (default 1). */
  ntransf?: number;
  /** Kernel from chooseKernel; otherwise chosen from eps (default 1e-6) at σ = 2. */
  kernel?: KernelParams;
  eps?: number;
  /** Fused gradient (see spread/interp). */
  gradient?: boolean;
}

function griddingKernel(o: GriddingOptions): KernelParams {
  return o.kernel ?? chooseKernel({ eps: o.eps ?? 1e-6, gradient: false, dim: o.gridSize.length });
}

/**
 * Kaiser–Bessel spreading (gridding) of complex strengths onto a periodic grid:
 * grid[t, g] = Σ_j c_{t,j}·φ((g − y_j)/(w/2)) with y_j = x_j·n/(2π) per axis
 * (product over axes, φ un-normalised: φ(0) = I0(β)). With `gradient`,
 * strengths are [ntransf, 1+d, M] and Σ_a d_{t,j,a}·∂φ/∂x_a (x in radians) is
 * added, i.e. the first-order change of spreading c at a shifted point.
 *
 * @param opts.strengths complex interleaved [ntransf, M] or [ntransf, 1+d, M]
 * @param opts.out optional complex output [ntransf, n1..nd] (accumulated into; zero it yourself)
 * @returns the grid, complex interleaved [ntransf, n1..nd] float64
 */
export function spread(opts: GriddingOptions & { strengths: RealArray; out?: Float64Array }): Float64Array {
  const ntransf = opts.ntransf ?? 1, grad = !!opts.gradient, d = opts.gridSize.length;
  const geo = new Geometry(opts.points, opts.M, opts.gridSize, griddingKernel(opts));
  const total = opts.gridSize.reduce((a, b) => a * b, 1);
  const need = 2 * ntransf * (grad ? 1 + d : 1) * opts.M;
  if (opts.strengths.length < need) throw new Error(`strengths has ${opts.strengths.length} entries, expected ${need}`);
  const out = opts.out ?? new Float64Array(2 * ntransf * total);
  if (out.length < 2 * ntransf * total) throw new Error('out is too small');
  geo.spread(opts.strengths, ntransf, grad, out);
  return out;
}

/**
 * Kaiser–Bessel interpolation from a periodic grid (adjoint of {@link spread}):
 * v[t, j] = Σ_g grid[t, g]·φ((g − y_j)/(w/2)). With `gradient` the output is
 * [ntransf, 1+d, M]: row 0 the value, row 1+a the derivative with respect to
 * the point coordinate x_a (radians).
 *
 * @param opts.grid complex interleaved [ntransf, n1..nd]
 * @param opts.out optional output of the result's shape (Float32Array or Float64Array)
 * @returns values, complex interleaved
 */
export function interp(opts: GriddingOptions & { grid: RealArray; out?: RealArray }): RealArray {
  const ntransf = opts.ntransf ?? 1, grad = !!opts.gradient, d = opts.gridSize.length;
  const geo = new Geometry(opts.points, opts.M, opts.gridSize, griddingKernel(opts));
  const total = opts.gridSize.reduce((a, b) => a * b, 1);
  if (opts.grid.length < 2 * ntransf * total) throw new Error('grid is too small');
  const need = 2 * ntransf * (grad ? 1 + d : 1) * opts.M;
  const out = opts.out ?? new Float64Array(need);
  if (out.length < need) throw new Error(`out has ${out.length} entries, expected ${need}`);
  geo.interp(opts.grid, ntransf, grad, out);
  return out;
}

/** Constructor options of {@link JsNufftCore}. */
export interface JsNufftOptions {
  type: 1 | 2;
  /** Modes per axis [N1..Nd], d ∈ {1, 2, 3}. */
  modes: number[];
  /** Relative ℓ2 error target. */
  eps: number;
  precision: NufftPrecision;
  /** Number of transforms sharing the points. */
  ntransf: number;
  /** Exponent sign (default +1 for type 1, −1 for type 2). */
  isign?: 1 | -1;
  /** 0: k = −⌊N/2⌋..⌈N/2⌉−1 (default); 1: FFT order. */
  modeord?: 0 | 1;
  upsampfac?: UpsampFac;
  /** Fused value + gradient (see class docs). */
  gradient?: boolean;
  /** Advanced: override the plain kernel width chosen from eps (a number, or one per axis). */
  kernelWidth?: number | readonly number[];
  /** Fine-grid size per axis (overrides σ·N; 2,3,5-smooth, above N). */
  fineGrid?: readonly number[];
  /** Number of independent point sets (default 1): points [P, d, M], data [P, ntransf, ...]. */
  P?: number;
}

/** Plan parameters reported by {@link JsNufftCore.info}. */
export interface JsNufftInfo {
  type: 1 | 2;
  dim: number;
  modes: number[];
  ntransf: number;
  isign: 1 | -1;
  modeord: 0 | 1;
  precision: NufftPrecision;
  eps: number;
  width: number;
  beta: number;
  upsampfac: UpsampFac;
  fineGrid: number[];
  kernelDegree: number;
  gradient: boolean;
  gradientWidthIncrease?: number;
  /** Width per axis (equal to `width` unless per-axis widths were asked for). */
  widths: number[];
  /** β per axis. */
  betas: number[];
  /** Expected relative ℓ2 error of the kernel/grid choice (see params.ts axisLayout). */
  expectedError: number;
  /** Number of point sets. */
  P: number;
}

/**
 * NUFFT plan on raw interleaved arrays.
 *
 * Gradient mode (type 1): input [ntransf, 1+d, M] = (c_j, d_{j,1..d}), output
 * f[k] = Σ_j (c_j + isign·i·(k·d_j))·exp(isign·i·k·x_j), by spreading
 * c·φ + Σ_a d_a·∂φ/∂x_a in one pass and one FFT. Type 2: output
 * [ntransf, 1+d, M]: row 0 the value c_j, row 1+a its derivative ∂c_j/∂x_a =
 * Σ_k (isign·i·k_a)·f[k]·exp(isign·i·k·x_j), from one FFT.
 */
export class JsNufftCore {
  readonly info: JsNufftInfo;
  private readonly kps: KernelParams[];
  private readonly nf: number[];
  private readonly P: number;
  /** Per axis, per mode-array index: fine-grid index and 1/φ̂(k). */
  private readonly modeFine: Int32Array[];
  private readonly modeScale: Float64Array[];
  private readonly nModes: number;
  private readonly nFine: number;
  private grid: Float64Array | null = null;
  private geos: Geometry[] | null = null;

  /**
   * @throws Error when eps is below the precision limit (message names the
   *   limit), or on invalid modes / ntransf / upsampfac.
   */
  constructor(opts: JsNufftOptions) {
    const d = opts.modes.length;
    if (opts.type !== 1 && opts.type !== 2) throw new Error(`type must be 1 or 2, got ${opts.type}`);
    if (d < 1 || d > MAX_DIM) throw new Error(`modes must have 1 to 3 entries, got ${d}`);
    for (const N of opts.modes) if (!Number.isInteger(N) || N < 1) throw new Error(`modes must be positive integers, got ${opts.modes}`);
    if (!Number.isInteger(opts.ntransf) || opts.ntransf < 1) throw new Error(`ntransf must be a positive integer, got ${opts.ntransf}`);
    if (opts.precision !== 'float32' && opts.precision !== 'float64') throw new Error(`precision must be float32 or float64`);
    const isign = opts.isign ?? (opts.type === 1 ? 1 : -1);
    const modeord = opts.modeord ?? 0;
    const gradient = !!opts.gradient;
    const upsampfac = (opts.upsampfac ?? 2) as UpsampFac;
    const P = opts.P ?? 1;
    if (!Number.isInteger(P) || P < 1) throw new Error(`P must be a positive integer, got ${P}`);
    this.P = P;
    let layout: AxisLayout | null = null;
    let kps: KernelParams[];
    if (opts.kernelWidth === undefined && opts.fineGrid === undefined) {
      // Default path: exactly the single eps-driven kernel (also validates eps).
      const kp = chooseKernel({ eps: opts.eps, upsampfac, dtype: opts.precision, gradient, dim: d });
      kps = new Array<KernelParams>(d).fill(kp);
      this.nf = opts.modes.map((N) => fineGridSize(N, kp.upsampfac, kp.width));
    } else {
      chooseKernel({ eps: opts.eps, upsampfac, dtype: opts.precision, gradient, dim: d, width: 2 }); // validates eps / σ
      const l = axisLayout({ eps: opts.eps, upsampfac, dtype: opts.precision, gradient, modes: opts.modes, width: opts.kernelWidth, fineGrid: opts.fineGrid });
      layout = l;
      const cache = new Map<string, KernelParams>();
      kps = l.widths.map((w, a) => {
        const key = `${w}:${l.betas[a]}:${l.sigmas[a]}`;
        let k = cache.get(key);
        if (!k) cache.set(key, (k = axisKernel(l, a, opts.eps, upsampfac)));
        return k;
      });
      this.nf = [...l.fineGrid];
    }
    this.kps = kps;
    const kp = kps[0];
    this.modeFine = [];
    this.modeScale = [];
    for (let a = 0; a < d; a++) {
      const N = opts.modes[a], nf = this.nf[a];
      const phat = kernelFourierSeries(kps[a].width, kps[a].beta, nf, N);
      const fine = new Int32Array(N), scale = new Float64Array(N);
      const kmin = -Math.floor(N / 2), kpos = Math.ceil(N / 2);
      for (let m = 0; m < N; m++) {
        const k = modeord === 0 ? kmin + m : m < kpos ? m : m - N;
        fine[m] = ((k % nf) + nf) % nf;
        scale[m] = 1 / phat[k - kmin];
      }
      this.modeFine.push(fine);
      this.modeScale.push(scale);
    }
    this.nModes = opts.modes.reduce((a, b) => a * b, 1);
    this.nFine = this.nf.reduce((a, b) => a * b, 1);
    const plainW = kps.map((k) => k.width - k.gradientWidthIncrease);
    const expectedError = layout ? layout.expectedError
      : Math.max(plainW.reduce((e, w) => e + axisErrorEstimate(w, upsampfac), 0), opts.precision === 'float32' ? 3e-7 : 1e-14);
    this.info = {
      type: opts.type, dim: d, modes: [...opts.modes], ntransf: opts.ntransf, isign, modeord,
      precision: opts.precision, eps: opts.eps, width: Math.max(...kps.map((k) => k.width)), beta: kp.beta, upsampfac: kp.upsampfac,
      fineGrid: [...this.nf], kernelDegree: Math.max(...kps.map((k) => k.poly.degree)), gradient,
      ...(gradient ? { gradientWidthIncrease: kp.gradientWidthIncrease } : {}),
      widths: kps.map((k) => k.width), betas: kps.map((k) => k.beta), expectedError, P,
    };
  }

  /**
   * Sets the nonuniform points (copied, folded into [0, 2π), sorted by cell).
   *
   * @param points real [d, M] row-major, any finite values (period 2π)
   * @param M number of points
   * @throws Error containing 'non-finite' for NaN/±Infinity coordinates
   */
  setPoints(points: RealArray, M: number): void {
    const d = this.info.dim, P = this.P;
    if (points.length < P * d * M) throw new Error(`points has ${points.length} entries, expected P*d*M = ${P * d * M}`);
    const geos: Geometry[] = [];
    for (let p = 0; p < P; p++) {
      const pts = P === 1 ? points : points.subarray(p * d * M, (p + 1) * d * M);
      geos.push(new Geometry(pts, M, this.nf, this.kps));
    }
    this.geos = geos;
  }

  /** Expected input length (elements) for {@link execute}. */
  inputLength(): number {
    const { type, ntransf, dim, gradient } = this.info;
    const M = this.geos?.[0].M ?? 0;
    return this.P * (type === 1 ? 2 * ntransf * (gradient ? 1 + dim : 1) * M : 2 * ntransf * this.nModes);
  }

  /** Expected output length (elements) for {@link execute}. */
  outputLength(): number {
    const { type, ntransf, dim, gradient } = this.info;
    const M = this.geos?.[0].M ?? 0;
    return this.P * (type === 2 ? 2 * ntransf * (gradient ? 1 + dim : 1) * M : 2 * ntransf * this.nModes);
  }

  /**
   * Runs the transform (all P point sets in one call).
   *
   * @param input type 1: strengths [P, ntransf, M] (gradient: [P, ntransf, 1+d, M]);
   *   type 2: modes [P, ntransf, N1..Nd]; complex interleaved (P = 1: the plain layout)
   * @param output type 1: modes [P, ntransf, N1..Nd]; type 2: values [P, ntransf, M]
   *   (gradient: [P, ntransf, 1+d, M]); same element type as the precision
   */
  execute(input: RealArray, output: RealArray): void {
    const geos = this.geos;
    if (!geos) throw new Error('setPoints must be called before execute');
    const want = this.info.precision === 'float32' ? Float32Array : Float64Array;
    if (!(output instanceof want)) throw new Error(`output must be a ${want.name} for precision ${this.info.precision}`);
    if (input.length < this.inputLength()) throw new Error(`input has ${input.length} entries, expected ${this.inputLength()}`);
    if (output.length < this.outputLength()) throw new Error(`output has ${output.length} entries, expected ${this.outputLength()}`);
    const ntransf = this.info.ntransf, len = 2 * ntransf * this.nFine;
    if (!this.grid || this.grid.length !== len) this.grid = new Float64Array(len);
    const grid = this.grid;
    const sign = this.info.isign as FftSign;
    const inLen = this.inputLength() / this.P, outLen = this.outputLength() / this.P;
    for (let p = 0; p < this.P; p++) {
      const geo = geos[p];
      const inp = this.P === 1 ? input : input.subarray(p * inLen, (p + 1) * inLen);
      const outp = this.P === 1 ? output : output.subarray(p * outLen, (p + 1) * outLen);
      grid.fill(0);
      if (this.info.type === 1) {
        geo.spread(inp, ntransf, this.info.gradient, grid);
        fftn(grid, this.nf, sign, ntransf);
        this.copyModes(grid, outp, true);
      } else {
        this.copyModes(inp, grid, false);
        fftn(grid, this.nf, sign, ntransf);
        geo.interp(grid, ntransf, this.info.gradient, outp);
      }
    }
  }

  /**
   * Moves modes between the mode array and the fine grid, scaling by 1/φ̂(k):
   * fromFine: modes[t, m] = fine[t, fineIdx(m)]·s(m); else fine[...] = modes·s.
   */
  private copyModes(src: ArrayLike<number>, dst: RealArray, fromFine: boolean): void {
    const d = this.info.dim, pad = MAX_DIM - d;
    const one = [Int32Array.of(0), Float64Array.of(1)] as const;
    const F = [0, 1, 2].map((a) => (a < pad ? one[0] : this.modeFine[a - pad]));
    const S = [0, 1, 2].map((a) => (a < pad ? one[1] : this.modeScale[a - pad]));
    const nf3 = [...new Array(pad).fill(1), ...this.nf];
    const [F0, F1, F2] = F, [S0, S1, S2] = S as Float64Array[];
    const nf1 = nf3[1], nf2 = nf3[2];
    const N0 = F0.length, N1 = F1.length, N2 = F2.length;
    for (let t = 0; t < this.info.ntransf; t++) {
      const mb = t * this.nModes, fb = t * this.nFine;
      let m = mb;
      for (let a = 0; a < N0; a++) {
        for (let b = 0; b < N1; b++) {
          const rowF = fb + (F0[a] * nf1 + F1[b]) * nf2, s01 = S0[a] * S1[b];
          for (let c = 0; c < N2; c++, m++) {
            const f = 2 * (rowF + F2[c]), s = s01 * S2[c];
            if (fromFine) { dst[2 * m] = src[f] * s; dst[2 * m + 1] = src[f + 1] * s; }
            else { dst[f] = src[2 * m] * s; dst[f + 1] = src[2 * m + 1] * s; }
          }
        }
      }
    }
  }
}
