'use strict';
// An independent float64 reference of tilted K-Planes sampling, written after torch's
// grid_sampler_2d (bilinear, align_corners=True, padding_mode='border') and its backward: taps
// (x0, x0+1) with x0 = floor(ix), out-of-range taps read as 0 and receive no gradient, the
// coordinate gradient masked by clip_coordinates_set_grad. A plain loop over b, t, k, c.

// [k] -> which components of r are (x, y)
const SLOT = [
  [0, 1],
  [2, 0],
  [1, 2],
];

function rotate(rot, t, p) {
  const r = [0, 0, 0];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) r[i] += rot[9 * t + 3 * i + j] * p[j];
  }
  return r;
}

// torch: unnormalize (align_corners) then clip with gradient mask
function coord(g, size) {
  const ix = ((g + 1) / 2) * (size - 1);
  const mult = (size - 1) / 2;
  if (ix <= 0) return { ix: 0, mult: 0 };
  if (ix >= size - 1) return { ix: size - 1, mult: 0 };
  return { ix, mult };
}

// Bilinear sample of channel c of slot `slot` in plane [3T, C, H, W]; returns the value, its
// derivatives with respect to the normalised grid coordinates, and the tap list for scatters.
function sample(plane, C, H, W, slot, c, gx, gy) {
  const cx = coord(gx, W);
  const cy = coord(gy, H);
  const x0 = Math.floor(cx.ix);
  const y0 = Math.floor(cy.ix);
  const tx = cx.ix - x0;
  const ty = cy.ix - y0;
  const base = (slot * C + c) * H * W;
  const taps = [
    [y0, x0, (1 - tx) * (1 - ty)],
    [y0, x0 + 1, tx * (1 - ty)],
    [y0 + 1, x0, (1 - tx) * ty],
    [y0 + 1, x0 + 1, tx * ty],
  ];
  const val = (y, x) => (y >= 0 && y < H && x >= 0 && x < W ? plane[base + y * W + x] : 0);
  const v00 = val(y0, x0), v01 = val(y0, x0 + 1), v10 = val(y0 + 1, x0), v11 = val(y0 + 1, x0 + 1);
  let s = 0;
  const inb = [];
  for (const [y, x, w] of taps) {
    s += w * val(y, x);
    if (y >= 0 && y < H && x >= 0 && x < W) inb.push([base + y * W + x, w]);
  }
  const dix = -v00 * (1 - ty) + v01 * (1 - ty) - v10 * ty + v11 * ty;
  const diy = -v00 * (1 - tx) - v01 * tx + v10 * (1 - tx) + v11 * tx;
  return { s, dgx: dix * cx.mult, dgy: diy * cy.mult, taps: inb };
}

/**
 * points Float64Array [B*3], rotations [T*9], planes: array of { data, H, W }, gates array.
 * Returns features Float64Array [B, S*T*C].
 */
function forwardRef(points, rotations, planes, C, gates) {
  const B = points.length / 3;
  const T = rotations.length / 9;
  const S = planes.length;
  const out = new Float64Array(B * S * T * C);
  for (let b = 0; b < B; b++) {
    const p = [points[3 * b], points[3 * b + 1], points[3 * b + 2]];
    for (let t = 0; t < T; t++) {
      const r = rotate(rotations, t, p);
      for (let s = 0; s < S; s++) {
        const { data, H, W } = planes[s];
        for (let c = 0; c < C; c++) {
          let f = 1;
          for (let k = 0; k < 3; k++) f *= sample(data, C, H, W, 3 * t + k, c, r[SLOT[k][0]], r[SLOT[k][1]]).s;
          out[b * S * T * C + s * T * C + t * C + c] = f * gates[s];
        }
      }
    }
  }
  return out;
}

/** Analytic gradients of L = Σ gradOut·features: { planes: Float64Array[], points, rotations }. */
function backwardRef(points, rotations, planes, C, gates, gradOut) {
  const B = points.length / 3;
  const T = rotations.length / 9;
  const S = planes.length;
  const gPlanes = planes.map((pl) => new Float64Array(pl.data.length));
  const gPoints = new Float64Array(B * 3);
  const gRot = new Float64Array(T * 9);
  for (let b = 0; b < B; b++) {
    const p = [points[3 * b], points[3 * b + 1], points[3 * b + 2]];
    for (let t = 0; t < T; t++) {
      const r = rotate(rotations, t, p);
      const dr = [0, 0, 0];
      for (let s = 0; s < S; s++) {
        const { data, H, W } = planes[s];
        for (let c = 0; c < C; c++) {
          const smp = [];
          for (let k = 0; k < 3; k++) smp.push(sample(data, C, H, W, 3 * t + k, c, r[SLOT[k][0]], r[SLOT[k][1]]));
          const go = gradOut[b * S * T * C + s * T * C + t * C + c] * gates[s];
          for (let k = 0; k < 3; k++) {
            let other = 1;
            for (let k2 = 0; k2 < 3; k2++) if (k2 !== k) other *= smp[k2].s;
            const ds = go * other;
            for (const [i, w] of smp[k].taps) gPlanes[s][i] += ds * w;
            dr[SLOT[k][0]] += ds * smp[k].dgx;
            dr[SLOT[k][1]] += ds * smp[k].dgy;
          }
        }
      }
      for (let j = 0; j < 3; j++) {
        for (let i = 0; i < 3; i++) {
          gPoints[3 * b + j] += rotations[9 * t + 3 * i + j] * dr[i];
          gRot[9 * t + 3 * i + j] += dr[i] * p[j];
        }
      }
    }
  }
  return { planes: gPlanes, points: gPoints, rotations: gRot };
}

/**
 * Smallest distance, in pixels, from any sampled coordinate of point b to a kink of the
 * bilinear interpolant (an integer pixel coordinate, including the borders 0 and N−1), over all
 * rotations, slots and levels; Infinity when every coordinate is clamped beyond the border.
 */
function kinkDistance(points, b, rotations, planes) {
  const T = rotations.length / 9;
  const p = [points[3 * b], points[3 * b + 1], points[3 * b + 2]];
  let d = Infinity;
  for (let t = 0; t < T; t++) {
    const r = rotate(rotations, t, p);
    for (const { H, W } of planes) {
      for (let k = 0; k < 3; k++) {
        for (const [g, N] of [
          [r[SLOT[k][0]], W],
          [r[SLOT[k][1]], H],
        ]) {
          const ix = ((g + 1) / 2) * (N - 1);
          if (ix < -0.5 || ix > N - 0.5) continue;
          d = Math.min(d, Math.abs(ix - Math.round(ix)));
        }
      }
    }
  }
  return d;
}

module.exports = { forwardRef, backwardRef, kinkDistance };
