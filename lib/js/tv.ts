/**
 * 3-D total variation in plain TypeScript: the js backend and the readable reference for the
 * native and CUDA kernels (cuda/tv_math.cuh). One pass per volume: each voxel gathers the
 * differences it takes part in, adds the terms it is the base of to the loss, and writes its
 * gradient once. Arithmetic is in float64 whatever the storage type.
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
    const dm = d > 0;
    const dp = d < D - 1;
    for (let h = 0; h < H; h++) {
      const hm = h > 0;
      const hp = h < H - 1;
      const row = bd * HW + h * W;
      for (let w = 0; w < W; w++) {
        const i = row + w;
        const x = v[i];
        let g = 0;
        if (dp) {
          const t = v[i + HW] - x;
          loss += t * t;
          g -= t;
        }
        if (dm) g += x - v[i - HW];
        if (hp) {
          const t = v[i + W] - x;
          loss += t * t;
          g -= t;
        }
        if (hm) g += x - v[i - W];
        if (w < W - 1) {
          const t = v[i + 1] - x;
          loss += t * t;
          g -= t;
        }
        if (w > 0) g += x - v[i - 1];
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
  if (D < 2 || H < 2 || W < 2) {
    grad?.fill(0);
    return 0;
  }
  const HW = H * W;
  const count = batch * (D - 1) * (H - 1) * (W - 1);
  const gs = scale / count;
  let loss = 0;
  for (let bd = 0; bd < batch * D; bd++) {
    const d = bd % D;
    const dm = d > 0;
    const dp = d < D - 1;
    for (let h = 0; h < H; h++) {
      const hm = h > 0;
      const hp = h < H - 1;
      const row = bd * HW + h * W;
      for (let w = 0; w < W; w++) {
        const i = row + w;
        const x = v[i];
        const wp = w < W - 1;
        let g = 0;
        if (dp && hp && wp) {
          const dd = v[i + HW] - x;
          const dh = v[i + W] - x;
          const dw = v[i + 1] - x;
          const n = Math.sqrt(dd * dd + dh * dh + dw * dw + eps);
          loss += n;
          g -= (dd + dh + dw) / n;
        }
        if (dm && hp && wp) {
          const j = i - HW;
          const y = v[j];
          const dd = x - y;
          const dh = v[j + W] - y;
          const dw = v[j + 1] - y;
          g += dd / Math.sqrt(dd * dd + dh * dh + dw * dw + eps);
        }
        if (hm && dp && wp) {
          const j = i - W;
          const y = v[j];
          const dd = v[j + HW] - y;
          const dh = x - y;
          const dw = v[j + 1] - y;
          g += dh / Math.sqrt(dd * dd + dh * dh + dw * dw + eps);
        }
        if (w > 0 && dp && hp) {
          const j = i - 1;
          const y = v[j];
          const dd = v[j + HW] - y;
          const dh = v[j + W] - y;
          const dw = x - y;
          g += dw / Math.sqrt(dd * dd + dh * dh + dw * dw + eps);
        }
        if (grad) grad[i] = gs * g;
      }
    }
  }
  return loss / count;
}

function sign(t: number): number {
  return t > 0 ? 1 : t < 0 ? -1 : 0;
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
    const dm = d > 0;
    const dp = d < D - 1;
    for (let h = 0; h < H; h++) {
      const hm = h > 0;
      const hp = h < H - 1;
      const row = bd * HW + h * W;
      for (let w = 0; w < W; w++) {
        const i = row + w;
        const x = v[i];
        let g = 0;
        if (dp) {
          const t = v[i + HW] - x;
          ld += Math.abs(t);
          g -= sd * sign(t);
        }
        if (dm) g += sd * sign(x - v[i - HW]);
        if (hp) {
          const t = v[i + W] - x;
          lh += Math.abs(t);
          g -= sh * sign(t);
        }
        if (hm) g += sh * sign(x - v[i - W]);
        if (w < W - 1) {
          const t = v[i + 1] - x;
          lw += Math.abs(t);
          g -= sw * sign(t);
        }
        if (w > 0) g += sw * sign(x - v[i - 1]);
        if (grad) grad[i] = g;
      }
    }
  }
  return [ld, lh, lw];
}
