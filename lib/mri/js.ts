/**
 * The js backend of the MRI building blocks (cuda/mri.h has the native and CUDA ones): plain
 * loops on host arrays, arithmetic in float64, complex interleaved (re, im), row-major. The
 * readable reference for lib/mri/kernels.ts.
 */
import type { HostArray } from '../dtype';
import { fftn } from '../js/fft';

/** out[b, c, n] = scale·S[c, n]·x[b, n] (S null: C = 1); x real when xReal. */
export function expandJs(B: number, C: number, N: number, scale: number, S: HostArray | null, x: HostArray, xReal: boolean, out: HostArray): void {
  const cc = S ? C : 1;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < cc; c++) {
      const o = 2 * (b * cc + c) * N;
      for (let n = 0; n < N; n++) {
        const q = b * N + n;
        const xr = xReal ? x[q] : x[2 * q], xi = xReal ? 0 : x[2 * q + 1];
        if (S) {
          const sr = S[2 * (c * N + n)], si = S[2 * (c * N + n) + 1];
          out[o + 2 * n] = scale * (sr * xr - si * xi);
          out[o + 2 * n + 1] = scale * (sr * xi + si * xr);
        } else {
          out[o + 2 * n] = scale * xr;
          out[o + 2 * n + 1] = scale * xi;
        }
      }
    }
  }
}

/** out[b, n] = (accumulate ? out[b, n] : 0) + scale·Σ_c conj(S[c, n])·z[b, c, n] (S null: C = 1). */
export function combineJs(B: number, C: number, N: number, scale: number, accumulate: boolean, S: HostArray | null, z: HostArray, out: HostArray): void {
  const cc = S ? C : 1;
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      let re = 0, im = 0;
      for (let c = 0; c < cc; c++) {
        const q = 2 * ((b * cc + c) * N + n), zr = z[q], zi = z[q + 1];
        if (S) {
          const sr = S[2 * (c * N + n)], si = S[2 * (c * N + n) + 1];
          re += sr * zr + si * zi;
          im += sr * zi - si * zr;
        } else {
          re += zr;
          im += zi;
        }
      }
      const o = 2 * (b * N + n);
      out[o] = (accumulate ? out[o] : 0) + scale * re;
      out[o + 1] = (accumulate ? out[o + 1] : 0) + scale * im;
    }
  }
}

/** out[p, t, m] = scale·w[p, m]·y[p, t, m] (w null: 1), w real; y real when yReal. */
export function weightJs(P: number, T: number, M: number, scale: number, w: HostArray | null, y: HostArray, yReal: boolean, out: HostArray): void {
  for (let p = 0; p < P; p++) {
    for (let t = 0; t < T; t++) {
      const row = p * T + t;
      for (let m = 0; m < M; m++) {
        const q = row * M + m, f = w ? scale * w[p * M + m] : scale;
        out[2 * q] = f * (yReal ? y[q] : y[2 * q]);
        out[2 * q + 1] = yReal ? 0 : f * y[2 * q + 1];
      }
    }
  }
}

/** out[i] = scale·in[i] over the first n reals (any precision to any). */
export function castJs(n: number, scale: number, src: HostArray, dst: HostArray): void {
  for (let i = 0; i < n; i++) dst[i] = scale * src[i];
}

/** khat[p] = scale·FFT(k[p]) (sign −1) for k complex [P, G...]; k is left unchanged. */
export function toeplitzKernelJs(G: readonly number[], P: number, scale: number, k: HostArray, khat: HostArray): void {
  const f = Float64Array.from(k);
  fftn(f, G, -1, P);
  for (let i = 0; i < f.length; i++) khat[i] = scale * f[i];
}

/** Shapes of one Toeplitz application (see {@link toeplitzApplyJs}). */
export interface ToeplitzJsArgs {
  N: readonly number[];
  G: readonly number[];
  P: number;
  B: number;
  C: number;
  x: HostArray;
  xReal: boolean;
  smaps: HostArray | null;
  khat: HostArray;
  out: HostArray;
}

/**
 * out[p, b] = Σ_c conj(S_c)·crop(IFFT(K̂_p·FFT(pad(S_c·x[p, b])))) per image, one coil at a time
 * on one float64 grid: pad into the corner of the zero grid G, FFT (sign −1), multiply, inverse
 * FFT (sign +1, unnormalised: K̂ carries 1/ΠG), crop the same corner.
 */
export function toeplitzApplyJs(a: ToeplitzJsArgs): void {
  const d = a.N.length, C = a.smaps ? a.C : 1;
  const N3 = [...new Array(3 - d).fill(1), ...a.N], G3 = [...new Array(3 - d).fill(1), ...a.G];
  const nimg = N3[0] * N3[1] * N3[2], ng = G3[0] * G3[1] * G3[2];
  const buf = new Float64Array(2 * ng), acc = new Float64Array(2 * nimg);
  for (let pb = 0; pb < a.P * a.B; pb++) {
    const kb = 2 * Math.floor(pb / a.B) * ng;
    acc.fill(0);
    for (let c = 0; c < C; c++) {
      buf.fill(0);
      for (let i = 0; i < N3[0]; i++) for (let j = 0; j < N3[1]; j++) {
        const row = (i * N3[1] + j) * N3[2], dst = 2 * (i * G3[1] + j) * G3[2];
        for (let k = 0; k < N3[2]; k++) {
          const q = pb * nimg + row + k;
          const xr = a.xReal ? a.x[q] : a.x[2 * q], xi = a.xReal ? 0 : a.x[2 * q + 1];
          if (a.smaps) {
            const s = 2 * (c * nimg + row + k), sr = a.smaps[s], si = a.smaps[s + 1];
            buf[dst + 2 * k] = sr * xr - si * xi;
            buf[dst + 2 * k + 1] = sr * xi + si * xr;
          } else {
            buf[dst + 2 * k] = xr;
            buf[dst + 2 * k + 1] = xi;
          }
        }
      }
      fftn(buf, a.G, -1);
      for (let i = 0; i < ng; i++) {
        const br = buf[2 * i], bi = buf[2 * i + 1], kr = a.khat[kb + 2 * i], ki = a.khat[kb + 2 * i + 1];
        buf[2 * i] = br * kr - bi * ki;
        buf[2 * i + 1] = br * ki + bi * kr;
      }
      fftn(buf, a.G, 1);
      for (let i = 0; i < N3[0]; i++) for (let j = 0; j < N3[1]; j++) {
        const row = (i * N3[1] + j) * N3[2], src = 2 * (i * G3[1] + j) * G3[2];
        for (let k = 0; k < N3[2]; k++) {
          const yr = buf[src + 2 * k], yi = buf[src + 2 * k + 1], o = 2 * (row + k);
          if (a.smaps) {
            const s = 2 * (c * nimg + row + k), sr = a.smaps[s], si = a.smaps[s + 1];
            acc[o] += sr * yr + si * yi;
            acc[o + 1] += sr * yi - si * yr;
          } else {
            acc[o] += yr;
            acc[o + 1] += yi;
          }
        }
      }
    }
    a.out.set(acc, 2 * pb * nimg);
  }
}
