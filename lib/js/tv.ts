/**
 * 3-D total variation in plain TypeScript: the js backend and the readable reference for the
 * native and CUDA kernels. Arithmetic is in float64 whatever the storage type.
 *
 * Signs are computed as +(t > 0) − +(t < 0), which compiles without branches; a
 * branch per sign mispredicts half the time on noisy data.
 *
 * Squared and L1 gather per voxel: a neighbour beyond the edge is taken as the voxel itself,
 * so its difference is 0 and the inner loop needs no branches. Isotropic walks the corners and
 * scatters each corner's four partial derivatives, one square root per corner.
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
 */
export function tvL1Js(v: HostArray, dims: TvDims, scale: readonly number[], grad: HostArray | null): [number, number, number] {
  const { batch, D, H, W } = dims;
  const HW = H * W;
  const [sd, sh, sw] = scale;
  let ld = 0;
  let lh = 0;
  let lw = 0;
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
        const b = x - v[i - dm];
        const c = v[i + hp] - x;
        const e = x - v[i - hm];
        const f = i < end ? v[i + 1] - x : 0;
        const g = i > row ? x - v[i - 1] : 0;
        ld += Math.abs(a);
        lh += Math.abs(c);
        lw += Math.abs(f);
        if (grad) {
          const sa = +(a > 0) - +(a < 0);
          const sb = +(b > 0) - +(b < 0);
          const sc = +(c > 0) - +(c < 0);
          const se = +(e > 0) - +(e < 0);
          const sf = +(f > 0) - +(f < 0);
          const sg = +(g > 0) - +(g < 0);
          grad[i] = sd * (sb - sa) + sh * (se - sc) + sw * (sg - sf);
        }
      }
    }
  }
  return [ld, lh, lw];
}
