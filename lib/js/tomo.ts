/**
 * Parallel-beam tomography kernels in plain TypeScript: the js backend and the readable version
 * of the native and CUDA kernels (cuda/tomo_math.cuh, native/tomo_cpu.cc). Arithmetic in float64
 * whatever the storage type. Geometry table layout: cuda/tomo.h (built by lib/tomo/geometry.ts).
 *
 * A ray (row r, angle k, column u) steps over s (image rows when axis = 0, columns when 1) and
 * crosses the other axis at f = a·u + (b0 + b1·s); it takes (1 − w)·img[⌊f⌋] + w·img[⌊f⌋ + 1]
 * (w = f − ⌊f⌋, outside voxels are 0) times the step length L. The adjoint scatters with the same
 * weights, evaluated by the same expression, so it is the exact transpose.
 */
import type { HostArray } from '../dtype';

/** Sizes of one operator: volume [Z, Y, X], sinogram [R, A, U]. */
export interface TomoDims {
  Z: number;
  Y: number;
  X: number;
  R: number;
  A: number;
  U: number;
}

function rayRange(a: number, b0: number, b1: number, u: number, NS: number, NC: number): [number, number] {
  const c = a * u + b0;
  if (b1 === 0) return c > -1 && c < NC ? [0, NS - 1] : [1, 0];
  const t1 = (-1 - c) / b1;
  const t2 = (NC - c) / b1;
  return clampRange(Math.min(t1, t2), Math.max(t1, t2), NS - 1);
}

function clampRange(mn: number, mx: number, hi: number): [number, number] {
  const lo = Math.floor(mn) - 1;
  const up = Math.ceil(mx) + 1;
  if (!(lo <= up)) return [1, 0];
  return [Math.max(0, Math.min(hi + 1, lo)), Math.min(hi, Math.max(-1, up))];
}

/** sino [R, A, U] = A · vol [Z, Y, X]. */
export function tomoForwardJs(d: TomoDims, geom: Float64Array, vol: HostArray, sino: HostArray): void {
  const { Y, X, R, A, U } = d;
  const slice = Y * X;
  for (let r = 0; r < R; r++) {
    const g = 5 * A + 4 * r;
    const taps: [number, number][] = [];
    if (geom[g] >= 0) taps.push([geom[g] * slice, geom[g + 1]]);
    if (geom[g + 2] >= 0) taps.push([geom[g + 2] * slice, geom[g + 3]]);
    for (let k = 0; k < A; k++) {
      const axis = geom[5 * k], a = geom[5 * k + 1], b0 = geom[5 * k + 2], b1 = geom[5 * k + 3], L = geom[5 * k + 4];
      const NS = axis ? X : Y, NC = axis ? Y : X, ss = axis ? 1 : X, cs = axis ? X : 1;
      const line = (r * A + k) * U;
      for (let u = 0; u < U; u++) {
        let v = 0;
        for (const [base, wz] of taps) {
          const [s0, s1] = rayRange(a, b0, b1, u, NS, NC);
          let acc = 0;
          for (let s = s0; s <= s1; s++) {
            const f = a * u + (b0 + b1 * s);
            const i0 = Math.floor(f);
            const w = f - i0;
            const row = base + s * ss;
            if (i0 >= 0 && i0 < NC) acc += (1 - w) * vol[row + i0 * cs];
            if (i0 + 1 >= 0 && i0 + 1 < NC) acc += w * vol[row + (i0 + 1) * cs];
          }
          v += wz * (acc * L);
        }
        sino[line + u] = v;
      }
    }
  }
}

/** vol [Z, Y, X] = Aᵀ · sino [R, A, U]: ray-driven scatter with the forward's weights. */
export function tomoAdjointJs(d: TomoDims, geom: Float64Array, sino: HostArray, vol: HostArray): void {
  const { Y, X, R, A, U } = d;
  const slice = Y * X;
  vol.fill(0);
  for (let r = 0; r < R; r++) {
    const g = 5 * A + 4 * r;
    for (let t = 0; t < 2; t++) {
      const z = geom[g + 2 * t];
      if (z < 0) continue;
      const base = z * slice;
      const wz = geom[g + 2 * t + 1];
      for (let k = 0; k < A; k++) {
        const axis = geom[5 * k], a = geom[5 * k + 1], b0 = geom[5 * k + 2], b1 = geom[5 * k + 3], L = geom[5 * k + 4];
        const NS = axis ? X : Y, NC = axis ? Y : X, ss = axis ? 1 : X, cs = axis ? X : 1;
        const line = (r * A + k) * U;
        for (let u = 0; u < U; u++) {
          const sv = wz * L * sino[line + u];
          if (sv === 0) continue;
          const [s0, s1] = rayRange(a, b0, b1, u, NS, NC);
          for (let s = s0; s <= s1; s++) {
            const f = a * u + (b0 + b1 * s);
            const i0 = Math.floor(f);
            const w = f - i0;
            const row = base + s * ss;
            if (i0 >= 0 && i0 < NC) vol[row + i0 * cs] += (1 - w) * sv;
            if (i0 + 1 >= 0 && i0 + 1 < NC) vol[row + (i0 + 1) * cs] += w * sv;
          }
        }
      }
    }
  }
}

/** out[l, u] = Σ_k x[l, k]·filt[(u − k) mod N] for `lines` lines of U samples (out may be x). */
export function tomoFilterJs(lines: number, U: number, N: number, filt: HostArray, x: HostArray, out: HostArray): void {
  const tmp = new Float64Array(U);
  for (let l = 0; l < lines; l++) {
    const o = l * U;
    for (let u = 0; u < U; u++) {
      let acc = 0;
      for (let k = 0; k < U; k++) {
        let dd = (u - k) % N;
        if (dd < 0) dd += N;
        acc += x[o + k] * filt[dd];
      }
      tmp[u] = acc;
    }
    for (let u = 0; u < U; u++) out[o + u] = tmp[u];
  }
}

/** q [3, Z, Y, X] ← proj_{|·|≤λ}(q + σ·∇x), forward differences (0 at each axis's end). */
export function tomoTvDualJs(Z: number, Y: number, X: number, x: HostArray, q: HostArray, sigma: number, lambda: number): void {
  const N = Z * Y * X;
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let i = 0; i < X; i++) {
        const v = (z * Y + y) * X + i;
        const c = x[v];
        const gz = z + 1 < Z ? x[v + Y * X] - c : 0;
        const gy = y + 1 < Y ? x[v + X] - c : 0;
        const gx = i + 1 < X ? x[v + 1] - c : 0;
        let qz = q[v] + sigma * gz, qy = q[N + v] + sigma * gy, qx = q[2 * N + v] + sigma * gx;
        const n = Math.sqrt(qz * qz + qy * qy + qx * qx);
        if (n > lambda) {
          const sc = n > 0 ? lambda / n : 0;
          qz *= sc;
          qy *= sc;
          qx *= sc;
        }
        q[v] = qz;
        q[N + v] = qy;
        q[2 * N + v] = qx;
      }
    }
  }
}

/** out [Z, Y, X] = ∇ᵀq (= −div q) for q [3, Z, Y, X]. */
export function tomoTvGradTJs(Z: number, Y: number, X: number, q: HostArray, out: HostArray): void {
  const N = Z * Y * X;
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let i = 0; i < X; i++) {
        const v = (z * Y + y) * X + i;
        let r = 0;
        if (z > 0) r += q[v - Y * X];
        if (z + 1 < Z) r -= q[v];
        if (y > 0) r += q[N + v - X];
        if (y + 1 < Y) r -= q[N + v];
        if (i > 0) r += q[2 * N + v - 1];
        if (i + 1 < X) r -= q[2 * N + v];
        out[v] = r;
      }
    }
  }
}

/** out = x > eps ? 1/x : 0 (out may be x). */
export function tomoRecipJs(n: number, eps: number, x: HostArray, out: HostArray): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v > eps ? 1 / v : 0;
  }
}
