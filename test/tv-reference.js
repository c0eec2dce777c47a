'use strict';
// An independent float64 reference for the TV family, written as a scatter over each
// difference (the library gathers per voxel), so the two cannot share a mistake.

function geometry(shape) {
  const n = shape.length;
  const [D, H, W] = shape.slice(n - 3);
  const batch = shape.slice(0, n - 3).reduce((a, b) => a * b, 1);
  return { batch, D, H, W };
}

/** Calls f(i, j, axis) for every forward difference x[j] − x[i] along d (0), h (1), w (2). */
function forEachDifference(shape, f) {
  const { batch, D, H, W } = geometry(shape);
  const at = (b, d, h, w) => ((b * D + d) * H + h) * W + w;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < D; d++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const i = at(b, d, h, w);
          if (d + 1 < D) f(i, at(b, d + 1, h, w), 0);
          if (h + 1 < H) f(i, at(b, d, h + 1, w), 1);
          if (w + 1 < W) f(i, at(b, d, h, w + 1), 2);
        }
      }
    }
  }
}

function sq3dRef(x, shape) {
  const grad = new Float64Array(x.length);
  let loss = 0;
  forEachDifference(shape, (i, j) => {
    const t = x[j] - x[i];
    loss += t * t;
    grad[j] += 2 * t;
    grad[i] -= 2 * t;
  });
  return { loss, grad };
}

function l1Ref(x, shape, weights = [1, 1, 1]) {
  const grad = new Float64Array(x.length);
  const loss = [0, 0, 0];
  forEachDifference(shape, (i, j, axis) => {
    const t = x[j] - x[i];
    loss[axis] += Math.abs(t);
    const s = weights[axis] * Math.sign(t);
    grad[j] += s;
    grad[i] -= s;
  });
  return { loss, grad };
}

function iso3dRef(x, shape, eps = 1e-8) {
  const { batch, D, H, W } = geometry(shape);
  const grad = new Float64Array(x.length);
  if (D < 2 || H < 2 || W < 2) return { loss: 0, grad };
  const at = (b, d, h, w) => ((b * D + d) * H + h) * W + w;
  const count = batch * (D - 1) * (H - 1) * (W - 1);
  let loss = 0;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d + 1 < D; d++) {
      for (let h = 0; h + 1 < H; h++) {
        for (let w = 0; w + 1 < W; w++) {
          const c = at(b, d, h, w);
          const id = at(b, d + 1, h, w);
          const ih = at(b, d, h + 1, w);
          const iw = at(b, d, h, w + 1);
          const dd = x[id] - x[c];
          const dh = x[ih] - x[c];
          const dw = x[iw] - x[c];
          const n = Math.sqrt(dd * dd + dh * dh + dw * dw + eps);
          loss += n;
          grad[id] += dd / n / count;
          grad[ih] += dh / n / count;
          grad[iw] += dw / n / count;
          grad[c] -= (dd + dh + dw) / n / count;
        }
      }
    }
  }
  return { loss: loss / count, grad };
}

module.exports = { sq3dRef, l1Ref, iso3dRef };
