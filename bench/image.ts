/**
 * Image helpers for the demo: PSNR and SSIM against a reference, and PNG panels
 * (reference | result | difference, each with a colour bar underneath) written with pngjs.
 */
import * as fs from 'fs';
import { PNG } from 'pngjs';

type Img = ArrayLike<number>;

/** 10·log10(range² / MSE), range = max − min of the reference. */
export function psnr(x: Img, ref: Img): number {
  let lo = Infinity;
  let hi = -Infinity;
  let mse = 0;
  for (let i = 0; i < ref.length; i++) {
    lo = Math.min(lo, ref[i]);
    hi = Math.max(hi, ref[i]);
    mse += (x[i] - ref[i]) ** 2;
  }
  mse /= ref.length;
  return mse === 0 ? Infinity : 10 * Math.log10((hi - lo) ** 2 / mse);
}

function gaussianBlur(a: Float64Array, h: number, w: number, sigma = 1.5, radius = 5): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  let s = 0;
  for (let i = -radius; i <= radius; i++) s += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const tmp = new Float64Array(a.length);
  const out = new Float64Array(a.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -radius; i <= radius; i++) {
        const xx = Math.min(w - 1, Math.max(0, x + i));
        acc += k[i + radius] * a[y * w + xx];
      }
      tmp[y * w + x] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -radius; i <= radius; i++) {
        const yy = Math.min(h - 1, Math.max(0, y + i));
        acc += k[i + radius] * tmp[yy * w + x];
      }
      out[y * w + x] = acc;
    }
  }
  return out;
}

/** Mean SSIM (Wang et al. 2004: Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03, L = reference range). */
export function ssim(x: Img, ref: Img, h: number, w: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < ref.length; i++) {
    lo = Math.min(lo, ref[i]);
    hi = Math.max(hi, ref[i]);
  }
  const L = hi - lo || 1;
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  const n = h * w;
  const a = Float64Array.from({ length: n }, (_, i) => x[i]);
  const b = Float64Array.from({ length: n }, (_, i) => ref[i]);
  const prod = (p: Float64Array, q: Float64Array) => p.map((v, i) => v * q[i]);
  const ma = gaussianBlur(a, h, w);
  const mb = gaussianBlur(b, h, w);
  const saa = gaussianBlur(prod(a, a), h, w);
  const sbb = gaussianBlur(prod(b, b), h, w);
  const sab = gaussianBlur(prod(a, b), h, w);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const va = saa[i] - ma[i] * ma[i];
    const vb = sbb[i] - mb[i] * mb[i];
    const cov = sab[i] - ma[i] * mb[i];
    total += ((2 * ma[i] * mb[i] + c1) * (2 * cov + c2)) / ((ma[i] ** 2 + mb[i] ** 2 + c1) * (va + vb + c2));
  }
  return total / n;
}

type Rgb = [number, number, number];
/** Grey scale. */
export const gray = (t: number): Rgb => {
  const v = Math.round(255 * Math.min(1, Math.max(0, t)));
  return [v, v, v];
};
/** Blue – white – red, for signed differences (t = 0.5 is zero). */
export const diverging = (t: number): Rgb => {
  const c = Math.min(1, Math.max(0, t));
  if (c < 0.5) {
    const s = c / 0.5;
    return [Math.round(40 + 215 * s), Math.round(70 + 185 * s), 255];
  }
  const s = (c - 0.5) / 0.5;
  return [255, Math.round(255 - 185 * s), Math.round(255 - 215 * s)];
};

export interface Panel {
  data: Img;
  /** Values mapped to the ends of the colour scale. */
  lo: number;
  hi: number;
  map: (t: number) => Rgb;
}

/**
 * Writes panels of h×w images side by side (a 4-pixel gap), each with a colour bar (lo at the
 * left, hi at the right) under it, as an RGB PNG.
 */
export function writePanels(file: string, h: number, w: number, panels: readonly Panel[]): void {
  const gap = 4;
  const bar = 12;
  const W = panels.length * w + (panels.length + 1) * gap;
  const H = h + bar + 3 * gap;
  const png = new PNG({ width: W, height: H, colorType: 2 });
  png.data.fill(255);
  const put = (x: number, y: number, [r, g, b]: Rgb) => {
    const o = 4 * (y * W + x);
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
    png.data[o + 3] = 255;
  };
  panels.forEach((p, k) => {
    const x0 = gap + k * (w + gap);
    const span = p.hi - p.lo || 1;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) put(x0 + x, gap + y, p.map((p.data[y * w + x] - p.lo) / span));
    for (let y = 0; y < bar; y++) for (let x = 0; x < w; x++) put(x0 + x, h + 2 * gap + y, p.map(x / (w - 1)));
  });
  fs.writeFileSync(file, PNG.sync.write(png, { colorType: 2 }));
}
