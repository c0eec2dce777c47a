/**
 * Tilted K-Planes feature sampling in plain TypeScript: the js backend and the readable version
 * of the native and CUDA kernels (cuda/kplanes_math.cuh). Arithmetic is in float64 whatever
 * the storage type; results are deterministic.
 *
 * For rotation t and point p, r = R_t·p; slot 3t+k is sampled at (x, y) = (r0, r1), (r2, r0),
 * (r1, r2) for k = 0, 1, 2 with torch grid_sample semantics (bilinear, align_corners = True,
 * padding_mode = 'border'), and f[b, t, c] = s0·s1·s2.
 */
import type { HostArray } from '../dtype';

/** Geometry of one call: S = H.length levels, planes[s] is [3T, C, H[s], W[s]]. */
export interface KplanesDims {
  B: number;
  T: number;
  C: number;
  H: readonly number[];
  W: readonly number[];
  gates: readonly number[];
}

/** The four taps of the three slots of one (point, rotation), reused to avoid allocation. */
class Taps {
  readonly o = new Int32Array(12); // pixel index (y·W + x) of taps 00, 01, 10, 11 per slot
  readonly w = new Float64Array(12);
  readonly tx = new Float64Array(3);
  readonly ty = new Float64Array(3);
  readonly dgx = new Float64Array(3);
  readonly dgy = new Float64Array(3);
  readonly r = new Float64Array(3);
  private ai0 = 0;
  private ai1 = 0;
  private at = 0;
  private adg = 0;

  /** One axis: ix = ((g+1)/2)(N−1) clamped to [0, N−1]; taps (i0, i0+1) with i0 ≤ N−2. */
  private axis(g: number, N: number): void {
    const hi = N - 1;
    let ix = ((g + 1) / 2) * hi;
    let dg = hi / 2;
    if (ix <= 0) {
      ix = 0;
      dg = 0;
    } else if (ix >= hi) {
      ix = hi;
      dg = 0;
    }
    let i0 = 0;
    if (N > 1) {
      const fl = Math.floor(ix);
      i0 = fl >= N - 2 ? N - 2 : fl >= 0 ? fl : 0; // NaN falls to 0 (NaN weights, safe taps)
    }
    this.ai0 = i0;
    this.ai1 = N > 1 ? i0 + 1 : i0;
    this.at = ix - i0;
    this.adg = dg;
  }

  setup(rot: HostArray, t: number, p0: number, p1: number, p2: number, H: number, W: number): void {
    const R = 9 * t;
    const r = this.r;
    r[0] = rot[R] * p0 + rot[R + 1] * p1 + rot[R + 2] * p2;
    r[1] = rot[R + 3] * p0 + rot[R + 4] * p1 + rot[R + 5] * p2;
    r[2] = rot[R + 6] * p0 + rot[R + 7] * p1 + rot[R + 8] * p2;
    for (let k = 0; k < 3; k++) {
      const gx = k === 0 ? r[0] : k === 1 ? r[2] : r[1];
      const gy = k === 0 ? r[1] : k === 1 ? r[0] : r[2];
      this.axis(gx, W);
      const x0 = this.ai0, x1 = this.ai1, tx = this.at;
      this.dgx[k] = this.adg;
      this.axis(gy, H);
      const y0 = this.ai0, y1 = this.ai1, ty = this.at;
      this.dgy[k] = this.adg;
      const o = 4 * k;
      this.o[o] = y0 * W + x0;
      this.o[o + 1] = y0 * W + x1;
      this.o[o + 2] = y1 * W + x0;
      this.o[o + 3] = y1 * W + x1;
      this.w[o] = (1 - ty) * (1 - tx);
      this.w[o + 1] = (1 - ty) * tx;
      this.w[o + 2] = ty * (1 - tx);
      this.w[o + 3] = ty * tx;
      this.tx[k] = tx;
      this.ty[k] = ty;
    }
  }
}

/** features [B, S·T·C] (column s·T·C + t·C + c) = gate_s · s0·s1·s2. */
export function kplanesForwardJs(points: HostArray, rotations: HostArray, planes: readonly HostArray[], out: HostArray, d: KplanesDims): void {
  const { B, T, C } = d;
  const S = planes.length;
  const ld = S * T * C;
  const tp = new Taps();
  const o = tp.o;
  const w = tp.w;
  for (let s = 0; s < S; s++) {
    const H = d.H[s], W = d.W[s], HW = H * W, gate = d.gates[s], P = planes[s];
    const col0 = s * T * C;
    for (let b = 0; b < B; b++) {
      const p0 = points[3 * b], p1 = points[3 * b + 1], p2 = points[3 * b + 2];
      for (let t = 0; t < T; t++) {
        tp.setup(rotations, t, p0, p1, p2, H, W);
        const base0 = 3 * t * C * HW, base1 = base0 + C * HW, base2 = base1 + C * HW;
        const orow = b * ld + col0 + t * C;
        for (let c = 0; c < C; c++) {
          const a0 = base0 + c * HW, a1 = base1 + c * HW, a2 = base2 + c * HW;
          const s0 = w[0] * P[a0 + o[0]] + w[1] * P[a0 + o[1]] + (w[2] * P[a0 + o[2]] + w[3] * P[a0 + o[3]]);
          const s1 = w[4] * P[a1 + o[4]] + w[5] * P[a1 + o[5]] + (w[6] * P[a1 + o[6]] + w[7] * P[a1 + o[7]]);
          const s2 = w[8] * P[a2 + o[8]] + w[9] * P[a2 + o[9]] + (w[10] * P[a2 + o[10]] + w[11] * P[a2 + o[11]]);
          out[orow + c] = gate * (s0 * s1 * s2);
        }
      }
    }
  }
}

/**
 * Gradients of L = Σ gradOut·features. gradPlanes (per level, [3T, C, H, W]), gradPoints [B, 3]
 * and gradRotations [T, 3, 3] may each be null; those given are overwritten.
 */
export function kplanesBackwardJs(
  points: HostArray,
  rotations: HostArray,
  planes: readonly HostArray[],
  gradOut: HostArray,
  gradPlanes: readonly HostArray[] | null,
  gradPoints: HostArray | null,
  gradRotations: HostArray | null,
  d: KplanesDims,
): void {
  const { B, T, C } = d;
  const S = planes.length;
  const ld = S * T * C;
  const tp = new Taps();
  const o = tp.o;
  const w = tp.w;
  const coords = gradPoints !== null || gradRotations !== null;
  const dR = new Float64Array(9 * T);
  const dr = new Float64Array(3);
  const v = new Float64Array(12);
  const sv = new Float64Array(3);
  const dsk = new Float64Array(3);
  const gx = new Float64Array(3);
  const gy = new Float64Array(3);
  if (gradPlanes) for (const g of gradPlanes) g.fill(0);
  for (let b = 0; b < B; b++) {
    const p0 = points[3 * b], p1 = points[3 * b + 1], p2 = points[3 * b + 2];
    let dp0 = 0, dp1 = 0, dp2 = 0;
    for (let t = 0; t < T; t++) {
      dr.fill(0);
      for (let s = 0; s < S; s++) {
        const H = d.H[s], W = d.W[s], HW = H * W, gate = d.gates[s], P = planes[s];
        const G = gradPlanes ? gradPlanes[s] : null;
        tp.setup(rotations, t, p0, p1, p2, H, W);
        gx.fill(0);
        gy.fill(0);
        const grow = b * ld + s * T * C + t * C;
        for (let c = 0; c < C; c++) {
          for (let k = 0; k < 3; k++) {
            const a = (3 * t + k) * C * HW + c * HW;
            for (let j = 0; j < 4; j++) v[4 * k + j] = P[a + o[4 * k + j]];
            sv[k] = w[4 * k] * v[4 * k] + w[4 * k + 1] * v[4 * k + 1] + (w[4 * k + 2] * v[4 * k + 2] + w[4 * k + 3] * v[4 * k + 3]);
          }
          const go = gate * gradOut[grow + c];
          dsk[0] = go * (sv[1] * sv[2]);
          dsk[1] = go * (sv[0] * sv[2]);
          dsk[2] = go * (sv[0] * sv[1]);
          for (let k = 0; k < 3; k++) {
            const q = 4 * k;
            if (G) {
              const a = (3 * t + k) * C * HW + c * HW;
              for (let j = 0; j < 4; j++) G[a + o[q + j]] += dsk[k] * w[q + j];
            }
            if (coords) {
              const tx = tp.tx[k], ty = tp.ty[k];
              gx[k] += dsk[k] * ((1 - ty) * (v[q + 1] - v[q]) + ty * (v[q + 3] - v[q + 2]));
              gy[k] += dsk[k] * ((1 - tx) * (v[q + 2] - v[q]) + tx * (v[q + 3] - v[q + 1]));
            }
          }
        }
        if (coords) {
          // slot 0: (r0, r1); slot 1: (r2, r0); slot 2: (r1, r2)
          dr[0] += gx[0] * tp.dgx[0] + gy[1] * tp.dgy[1];
          dr[1] += gy[0] * tp.dgy[0] + gx[2] * tp.dgx[2];
          dr[2] += gx[1] * tp.dgx[1] + gy[2] * tp.dgy[2];
        }
      }
      if (coords) {
        const R = 9 * t;
        dp0 += rotations[R] * dr[0] + rotations[R + 3] * dr[1] + rotations[R + 6] * dr[2];
        dp1 += rotations[R + 1] * dr[0] + rotations[R + 4] * dr[1] + rotations[R + 7] * dr[2];
        dp2 += rotations[R + 2] * dr[0] + rotations[R + 5] * dr[1] + rotations[R + 8] * dr[2];
        for (let i = 0; i < 3; i++) {
          dR[R + 3 * i] += dr[i] * p0;
          dR[R + 3 * i + 1] += dr[i] * p1;
          dR[R + 3 * i + 2] += dr[i] * p2;
        }
      }
    }
    if (gradPoints) {
      gradPoints[3 * b] = dp0;
      gradPoints[3 * b + 1] = dp1;
      gradPoints[3 * b + 2] = dp2;
    }
  }
  if (gradRotations) gradRotations.set(dR);
}
