/**
 * Pure-TypeScript complex FFT on interleaved (re, im) Float64Array data.
 *
 * Convention: X[k] = Σ_j x[j]·exp(sign·2πi·j·k/n), no normalisation
 * (sign −1 is the usual "forward" transform, +1 the unnormalised inverse).
 *
 * Lengths whose prime factors are all ≤ 13 use a mixed-radix Stockham
 * autosort (dedicated radix 2/3/4/5 butterflies, generic butterflies for 7,
 * 11, 13); other lengths use Bluestein's chirp-z algorithm on a power-of-two
 * Stockham plan. The Stockham passes work on "vector" elements of L
 * contiguous complex lanes, which is how a non-last axis of an n-D array is
 * transformed without transposing (unit-stride inner loops everywhere).
 */

export type FftSign = 1 | -1;

interface Stage {
  /** Radix of this pass. */
  p: number;
  /** Sub-length after this pass (n_cur / p). */
  m: number;
  /** cos/sin of 2π·pp·k/n_cur for pp < m, 1 ≤ k < p, as [pp][k-1][re, im]. */
  tw: Float64Array;
}

interface Bluestein {
  /** Power-of-two convolution length ≥ 2n − 1. */
  m: number;
  /** Chirp exp(iπ j²/n), j < n (interleaved); conjugated for sign −1. */
  chirp: Float64Array;
  /** FFT (sign −1) of the conjugate chirp, length m, for sign +1 and −1. */
  kernelPos: Float64Array;
  kernelNeg: Float64Array;
}

interface Plan {
  n: number;
  stages: Stage[];
  bluestein?: Bluestein;
}

const MAX_DIRECT_PRIME = 13;
const planCache = new Map<number, Plan>();

function factorize(n: number): number[] | null {
  const f: number[] = [];
  while (n % 4 === 0) { f.push(4); n /= 4; }
  for (const p of [2, 3, 5, 7, 11, 13]) {
    while (n % p === 0) { f.push(p); n /= p; }
  }
  return n === 1 ? f : null;
}

function buildStages(n: number, factors: number[]): Stage[] {
  const stages: Stage[] = [];
  let ncur = n;
  for (const p of factors) {
    const m = ncur / p;
    const tw = new Float64Array(2 * m * (p - 1));
    for (let pp = 0; pp < m; pp++) {
      for (let k = 1; k < p; k++) {
        // Reduce pp·k modulo ncur first so large sizes keep full accuracy.
        const a = (2 * Math.PI * ((pp * k) % ncur)) / ncur;
        const o = 2 * (pp * (p - 1) + k - 1);
        tw[o] = Math.cos(a);
        tw[o + 1] = Math.sin(a);
      }
    }
    stages.push({ p, m, tw });
    ncur = m;
  }
  return stages;
}

/** Returns the cached plan (twiddles, factorisation) for length n. */
function getPlan(n: number): Plan {
  let plan = planCache.get(n);
  if (plan) return plan;
  const factors = factorize(n);
  if (factors) {
    plan = { n, stages: buildStages(n, factors) };
  } else {
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    const chirp = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) {
      // j² mod 2n keeps the angle argument small (exact integer arithmetic).
      const jj = (j * j) % (2 * n);
      const a = (Math.PI * jj) / n;
      chirp[2 * j] = Math.cos(a);
      chirp[2 * j + 1] = Math.sin(a);
    }
    const kernelPos = new Float64Array(2 * m);
    const kernelNeg = new Float64Array(2 * m);
    for (let t = -(n - 1); t <= n - 1; t++) {
      const idx = t < 0 ? t + m : t;
      const j = Math.abs(t);
      // For sign s the convolution kernel is exp(−s·iπ t²/n).
      kernelPos[2 * idx] = chirp[2 * j];
      kernelPos[2 * idx + 1] = -chirp[2 * j + 1];
      kernelNeg[2 * idx] = chirp[2 * j];
      kernelNeg[2 * idx + 1] = chirp[2 * j + 1];
    }
    fftStrided(kernelPos, 0, m, 1, -1);
    fftStrided(kernelNeg, 0, m, 1, -1);
    plan = { n, stages: [], bluestein: { m, chirp, kernelPos, kernelNeg } };
  }
  planCache.set(n, plan);
  return plan;
}

// Scratch buffers grow on demand and are reused: no allocation per call.
let scratchA: Float64Array = new Float64Array(0);
let scratchB: Float64Array = new Float64Array(0);
function ensure(buf: Float64Array, len: number): Float64Array {
  return buf.length >= len ? buf : new Float64Array(Math.max(len, 2 * buf.length));
}

function pass2(x: Float64Array, xo: number, y: Float64Array, yo: number, m: number, s: number, tw: Float64Array, sign: number): void {
  const s2 = 2 * s, inStride = s2 * m;
  for (let pp = 0; pp < m; pp++) {
    const wr = tw[2 * pp], wi = sign * tw[2 * pp + 1];
    let i = xo + s2 * pp, o = yo + 2 * s2 * pp;
    const end = i + s2;
    for (; i < end; i += 2, o += 2) {
      const ar = x[i], ai = x[i + 1], br = x[i + inStride], bi = x[i + inStride + 1];
      y[o] = ar + br; y[o + 1] = ai + bi;
      const dr = ar - br, di = ai - bi;
      y[o + s2] = dr * wr - di * wi; y[o + s2 + 1] = dr * wi + di * wr;
    }
  }
}

function pass3(x: Float64Array, xo: number, y: Float64Array, yo: number, m: number, s: number, tw: Float64Array, sign: number): void {
  const s2 = 2 * s, st = s2 * m;
  const h = sign * Math.sqrt(3) / 2;
  for (let pp = 0; pp < m; pp++) {
    const t = 4 * pp;
    const w1r = tw[t], w1i = sign * tw[t + 1], w2r = tw[t + 2], w2i = sign * tw[t + 3];
    let i = xo + s2 * pp, o = yo + 3 * s2 * pp;
    const end = i + s2;
    for (; i < end; i += 2, o += 2) {
      const a0r = x[i], a0i = x[i + 1];
      const a1r = x[i + st], a1i = x[i + st + 1];
      const a2r = x[i + 2 * st], a2i = x[i + 2 * st + 1];
      const tr = a1r + a2r, ti = a1i + a2i;
      const dr = a1r - a2r, di = a1i - a2i;
      const cr = a0r - 0.5 * tr, ci = a0i - 0.5 * ti;
      y[o] = a0r + tr; y[o + 1] = a0i + ti;
      // ±sign·i·(√3/2)·d
      const b1r = cr - h * di, b1i = ci + h * dr;
      const b2r = cr + h * di, b2i = ci - h * dr;
      y[o + s2] = b1r * w1r - b1i * w1i; y[o + s2 + 1] = b1r * w1i + b1i * w1r;
      y[o + 2 * s2] = b2r * w2r - b2i * w2i; y[o + 2 * s2 + 1] = b2r * w2i + b2i * w2r;
    }
  }
}

function pass4(x: Float64Array, xo: number, y: Float64Array, yo: number, m: number, s: number, tw: Float64Array, sign: number): void {
  const s2 = 2 * s, st = s2 * m;
  for (let pp = 0; pp < m; pp++) {
    const t = 6 * pp;
    const w1r = tw[t], w1i = sign * tw[t + 1];
    const w2r = tw[t + 2], w2i = sign * tw[t + 3];
    const w3r = tw[t + 4], w3i = sign * tw[t + 5];
    let i = xo + s2 * pp, o = yo + 4 * s2 * pp;
    const end = i + s2;
    for (; i < end; i += 2, o += 2) {
      const a0r = x[i], a0i = x[i + 1];
      const a1r = x[i + st], a1i = x[i + st + 1];
      const a2r = x[i + 2 * st], a2i = x[i + 2 * st + 1];
      const a3r = x[i + 3 * st], a3i = x[i + 3 * st + 1];
      const s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
      const s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
      // ω = sign·i, so ω·d13 = (−sign·d13i, sign·d13r)
      const er = -sign * d13i, ei = sign * d13r;
      y[o] = s02r + s13r; y[o + 1] = s02i + s13i;
      const b1r = d02r + er, b1i = d02i + ei;
      const b2r = s02r - s13r, b2i = s02i - s13i;
      const b3r = d02r - er, b3i = d02i - ei;
      y[o + s2] = b1r * w1r - b1i * w1i; y[o + s2 + 1] = b1r * w1i + b1i * w1r;
      y[o + 2 * s2] = b2r * w2r - b2i * w2i; y[o + 2 * s2 + 1] = b2r * w2i + b2i * w2r;
      y[o + 3 * s2] = b3r * w3r - b3i * w3i; y[o + 3 * s2 + 1] = b3r * w3i + b3i * w3r;
    }
  }
}

const C1 = Math.cos((2 * Math.PI) / 5), C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5), S2 = Math.sin((4 * Math.PI) / 5);

function pass5(x: Float64Array, xo: number, y: Float64Array, yo: number, m: number, s: number, tw: Float64Array, sign: number): void {
  const s2 = 2 * s, st = s2 * m;
  const s1 = sign * S1, s2n = sign * S2;
  for (let pp = 0; pp < m; pp++) {
    const t = 8 * pp;
    const w1r = tw[t], w1i = sign * tw[t + 1], w2r = tw[t + 2], w2i = sign * tw[t + 3];
    const w3r = tw[t + 4], w3i = sign * tw[t + 5], w4r = tw[t + 6], w4i = sign * tw[t + 7];
    let i = xo + s2 * pp, o = yo + 5 * s2 * pp;
    const end = i + s2;
    for (; i < end; i += 2, o += 2) {
      const a0r = x[i], a0i = x[i + 1];
      const a1r = x[i + st], a1i = x[i + st + 1];
      const a2r = x[i + 2 * st], a2i = x[i + 2 * st + 1];
      const a3r = x[i + 3 * st], a3i = x[i + 3 * st + 1];
      const a4r = x[i + 4 * st], a4i = x[i + 4 * st + 1];
      const t1r = a1r + a4r, t1i = a1i + a4i, d1r = a1r - a4r, d1i = a1i - a4i;
      const t2r = a2r + a3r, t2i = a2i + a3i, d2r = a2r - a3r, d2i = a2i - a3i;
      y[o] = a0r + t1r + t2r; y[o + 1] = a0i + t1i + t2i;
      const p1r = a0r + C1 * t1r + C2 * t2r, p1i = a0i + C1 * t1i + C2 * t2i;
      const p2r = a0r + C2 * t1r + C1 * t2r, p2i = a0i + C2 * t1i + C1 * t2i;
      // q = (sign·sin terms)·d, multiplied by i: i·(qr + i qi) = (−qi, qr)
      const q1r = s1 * d1r + s2n * d2r, q1i = s1 * d1i + s2n * d2i;
      const q2r = s2n * d1r - s1 * d2r, q2i = s2n * d1i - s1 * d2i;
      const b1r = p1r - q1i, b1i = p1i + q1r, b4r = p1r + q1i, b4i = p1i - q1r;
      const b2r = p2r - q2i, b2i = p2i + q2r, b3r = p2r + q2i, b3i = p2i - q2r;
      y[o + s2] = b1r * w1r - b1i * w1i; y[o + s2 + 1] = b1r * w1i + b1i * w1r;
      y[o + 2 * s2] = b2r * w2r - b2i * w2i; y[o + 2 * s2 + 1] = b2r * w2i + b2i * w2r;
      y[o + 3 * s2] = b3r * w3r - b3i * w3i; y[o + 3 * s2 + 1] = b3r * w3i + b3i * w3r;
      y[o + 4 * s2] = b4r * w4r - b4i * w4i; y[o + 4 * s2 + 1] = b4r * w4i + b4i * w4r;
    }
  }
}

const genericRoots = new Map<number, Float64Array>();
const genericTmp = new Float64Array(2 * MAX_DIRECT_PRIME);

/** O(p²) butterfly for the remaining small primes 7, 11, 13. */
function passGeneric(x: Float64Array, xo: number, y: Float64Array, yo: number, p: number, m: number, s: number, tw: Float64Array, sign: number): void {
  let roots = genericRoots.get(p);
  if (!roots) {
    roots = new Float64Array(2 * p);
    for (let k = 0; k < p; k++) {
      roots[2 * k] = Math.cos((2 * Math.PI * k) / p);
      roots[2 * k + 1] = Math.sin((2 * Math.PI * k) / p);
    }
    genericRoots.set(p, roots);
  }
  const s2 = 2 * s, st = s2 * m, a = genericTmp;
  for (let pp = 0; pp < m; pp++) {
    for (let q = 0; q < s2; q += 2) {
      const i = xo + s2 * pp + q, o = yo + p * s2 * pp + q;
      for (let r = 0; r < p; r++) { a[2 * r] = x[i + r * st]; a[2 * r + 1] = x[i + r * st + 1]; }
      for (let k = 0; k < p; k++) {
        let br = 0, bi = 0;
        for (let r = 0; r < p; r++) {
          const e = (r * k) % p;
          const wr = roots[2 * e], wi = sign * roots[2 * e + 1];
          br += a[2 * r] * wr - a[2 * r + 1] * wi;
          bi += a[2 * r] * wi + a[2 * r + 1] * wr;
        }
        if (k === 0) { y[o] = br; y[o + 1] = bi; continue; }
        const t = 2 * (pp * (p - 1) + k - 1);
        const wr = tw[t], wi = sign * tw[t + 1];
        y[o + k * s2] = br * wr - bi * wi; y[o + k * s2 + 1] = br * wi + bi * wr;
      }
    }
  }
}

function stockham(plan: Plan, data: Float64Array, offset: number, L: number, sign: number): void {
  const len = 2 * plan.n * L;
  scratchA = ensure(scratchA, len);
  let x: Float64Array = data, xo = offset, y: Float64Array = scratchA, yo = 0;
  let s = L;
  for (const st of plan.stages) {
    switch (st.p) {
      case 2: pass2(x, xo, y, yo, st.m, s, st.tw, sign); break;
      case 3: pass3(x, xo, y, yo, st.m, s, st.tw, sign); break;
      case 4: pass4(x, xo, y, yo, st.m, s, st.tw, sign); break;
      case 5: pass5(x, xo, y, yo, st.m, s, st.tw, sign); break;
      default: passGeneric(x, xo, y, yo, st.p, st.m, s, st.tw, sign);
    }
    s *= st.p;
    const tx = x, to = xo;
    x = y; xo = yo; y = tx; yo = to;
  }
  if (x !== data) data.set(x.subarray(xo, xo + len), offset);
}

function bluestein(plan: Plan, data: Float64Array, offset: number, L: number, sign: number): void {
  const b = plan.bluestein!;
  const n = plan.n, m = b.m;
  const kern = sign > 0 ? b.kernelPos : b.kernelNeg;
  const pow2 = getPlan(m);
  scratchB = ensure(scratchB, 2 * m);
  const buf = scratchB;
  const ch = b.chirp;
  for (let l = 0; l < L; l++) {
    buf.fill(0, 0, 2 * m);
    for (let j = 0; j < n; j++) {
      const i = offset + 2 * (j * L + l);
      const cr = ch[2 * j], ci = sign * ch[2 * j + 1];
      buf[2 * j] = data[i] * cr - data[i + 1] * ci;
      buf[2 * j + 1] = data[i] * ci + data[i + 1] * cr;
    }
    stockham(pow2, buf, 0, 1, -1);
    for (let j = 0; j < m; j++) {
      const ar = buf[2 * j], ai = buf[2 * j + 1], kr = kern[2 * j], ki = kern[2 * j + 1];
      buf[2 * j] = ar * kr - ai * ki;
      buf[2 * j + 1] = ar * ki + ai * kr;
    }
    stockham(pow2, buf, 0, 1, 1);
    const inv = 1 / m;
    for (let k = 0; k < n; k++) {
      const i = offset + 2 * (k * L + l);
      const cr = ch[2 * k] * inv, ci = sign * ch[2 * k + 1] * inv;
      data[i] = buf[2 * k] * cr - buf[2 * k + 1] * ci;
      data[i + 1] = buf[2 * k] * ci + buf[2 * k + 1] * cr;
    }
  }
}

/**
 * In-place FFT of length n along an axis whose elements are L contiguous
 * complex lanes: element j, lane l lives at data[offset + 2·(j·L + l)].
 * With L = 1 this is a plain contiguous FFT.
 *
 * @param data interleaved complex buffer (modified in place)
 * @param offset start of the block in Float64 units (not complex units)
 * @param n transform length (≥ 1, any size)
 * @param L number of contiguous complex lanes per element (≥ 1)
 * @param sign exponent sign: X[k] = Σ_j x[j]·exp(sign·2πi·jk/n)
 */
export function fftStrided(data: Float64Array, offset: number, n: number, L: number, sign: FftSign): void {
  if (n <= 1) return;
  const plan = getPlan(n);
  if (plan.bluestein) bluestein(plan, data, offset, L, sign);
  else stockham(plan, data, offset, L, sign);
}

/**
 * Batched in-place 1-D FFT of `batch` contiguous length-n complex vectors.
 *
 * @param data interleaved complex, shape [batch, n] (length ≥ 2·batch·n)
 * @param n transform length
 * @param sign exponent sign (−1 forward, +1 unnormalised backward)
 * @param batch number of vectors (default 1)
 */
export function fft(data: Float64Array, n: number, sign: FftSign, batch = 1): void {
  for (let b = 0; b < batch; b++) fftStrided(data, 2 * b * n, n, 1, sign);
}

/**
 * In-place n-D FFT over all axes of `shape` for a row-major array of shape
 * [batch, ...shape] (last axis fastest), interleaved complex.
 *
 * @param data interleaved complex buffer of length ≥ 2·batch·Π shape
 * @param shape the transformed axes [n1, ..., nd]
 * @param sign exponent sign applied on every axis
 * @param batch number of independent arrays (leading axis, default 1)
 */
export function fftn(data: Float64Array, shape: readonly number[], sign: FftSign, batch = 1): void {
  const total = shape.reduce((a, b) => a * b, 1);
  for (let a = 0; a < shape.length; a++) {
    const n = shape[a];
    let L = 1;
    for (let b = a + 1; b < shape.length; b++) L *= shape[b];
    const outer = (batch * total) / (n * L);
    for (let o = 0; o < outer; o++) fftStrided(data, 2 * o * n * L, n, L, sign);
  }
}

/** @internal True when length n is handled by Bluestein (a prime factor > 13). */
export function usesBluestein(n: number): boolean {
  return factorize(n) === null;
}
