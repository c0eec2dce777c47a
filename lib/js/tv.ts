/**
 * 3-D total variation in plain TypeScript: the js backend and the readable reference for the
 * native and CUDA kernels. Arithmetic is in float64 whatever the storage type.
 *
 * Signs are computed as +(t > 0) − +(t < 0), which compiles without branches; a
 * branch per sign mispredicts half the time on noisy data.
 *
 * Squared gathers per voxel: a neighbour beyond the edge is taken as the voxel itself,
 * so its difference is 0 and the inner loop needs no branches. Isotropic walks the corners and
 * scatters each corner's four partial derivatives, one square root per corner; L1 walks each
 * axis once.
 */
import type { HostArray } from '../dtype';

/** Volume geometry: [batch, D, H, W], W fastest. */
export interface TvDims {
  batch: number;
  D: number;
  H: number;
  W: number;
}

/** Σ(Δd)² + Σ(Δh)² + Σ(Δw)²; grad (optional) = scale · ∂loss/∂vol. */
export function tvSquaredJs(v: HostArray, dims: TvDims, scale: number, grad: HostArray | null): number {
  const { batch, D, H, W } = dims;
  const HW = H * W;
  const s2 = 2 * scale;
  let loss = 0;
  for (let bd = 0; bd < batch * D; bd++) {
    const d = bd % D;
    const dp = d < D - 1 ? HW : 0;
    const dm = d > 0 ? HW : 0;
    for (let h = 0; h < H; h++) {
      const hp = h < H - 1 ? W : 0;
      const hm = h > 0 ? W : 0;
      const row = bd * HW + h * W;
      const end = row + W - 1;
      for (let i = row; i <= end; i++) {
        const x = v[i];
        const a = v[i + dp] - x;
        const c = v[i + hp] - x;
        const f = i < end ? v[i + 1] - x : 0;
        const g = (x - v[i - dm]) - a + (x - v[i - hm]) - c + (i > row ? x - v[i - 1] : 0) - f;
        loss += a * a + c * c + f * f;
        if (grad) grad[i] = s2 * g;
      }
    }
  }
  return loss;
}

/**
 * Mean over batch × corners [0,D−2]×[0,H−2]×[0,W−2] of √(dd²+dh²+dw²+eps), the three forward
 * differences taken at the same corner. Any spatial size 1 gives 0 and a zero gradient.
 */
export function tvIsotropicJs(v: HostArray, dims: TvDims, eps: number, scale: number, grad: HostArray | null): number {
  const { batch, D, H, W } = dims;
  grad?.fill(0);
  if (D < 2 || H < 2 || W < 2) return 0;
  const HW = H * W;
  const count = batch * (D - 1) * (H - 1) * (W - 1);
  const gs = scale / count;
  let loss = 0;
  for (let bd = 0; bd < batch * D; bd++) {
    if (bd % D === D - 1) continue;
    for (let h = 0; h < H - 1; h++) {
      const row = bd * HW + h * W;
      const end = row + W - 1;
      for (let i = row; i < end; i++) {
        const x = v[i];
        const dd = v[i + HW] - x;
        const dh = v[i + W] - x;
        const dw = v[i + 1] - x;
        const n = Math.sqrt(dd * dd + dh * dh + dw * dw + eps);
        loss += n;
        if (grad) {
          const k = gs / n;
          grad[i] -= k * (dd + dh + dw);
          grad[i + HW] += k * dd;
          grad[i + W] += k * dh;
          grad[i + 1] += k * dw;
        }
      }
    }
  }
  return loss / count;
}

/**
 * [Σ|Δd|, Σ|Δh|, Σ|Δw|] (raw sums); grad (optional) = Σ_a scale[a]·∂loss_a/∂vol, sign(0) = 0.
 * One pass per axis: each difference is taken once and its sign added to both of its voxels.
 */
export function tvL1Js(v: HostArray, dims: TvDims, scale: readonly number[], grad: HostArray | null): [number, number, number] {
  const { batch, D, H, W } = dims;
  const HW = H * W;
  const N = batch * D * HW;
  const [sd, sh, sw] = scale;
  grad?.fill(0);
  let lw = 0;
  for (let row = 0; row < N; row += W) {
    const end = row + W - 1;
    let prev = 0;
    for (let i = row; i < end; i++) {
      const t = v[i + 1] - v[i];
      lw += Math.abs(t);
      if (grad) {
        const s = sw * (+(t > 0) - +(t < 0));
        grad[i] += prev - s;
        prev = s;
      }
    }
    if (grad) grad[end] += prev;
  }
  let lh = 0;
  for (let plane = 0; plane < N; plane += HW) {
    for (let i = plane; i < plane + HW - W; i++) {
      const t = v[i + W] - v[i];
      lh += Math.abs(t);
      if (grad) {
        const s = sh * (+(t > 0) - +(t < 0));
        grad[i] -= s;
        grad[i + W] += s;
      }
    }
  }
  let ld = 0;
  for (let vol = 0; vol < N; vol += D * HW) {
    for (let i = vol; i < vol + (D - 1) * HW; i++) {
      const t = v[i + HW] - v[i];
      ld += Math.abs(t);
      if (grad) {
        const s = sd * (+(t > 0) - +(t < 0));
        grad[i] -= s;
        grad[i + HW] += s;
      }
    }
  }
  return [ld, lh, lw];
}
