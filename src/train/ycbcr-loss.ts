// The `ycbcr` pixel loss of recipes: L1 in the colour space the benchmarks score (metrics/ycbcr.ts). Plain TS,
// as Charbonnier's: a loss touches each output value once.
import { sameShape } from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { BT601 } from '../metrics/ycbcr.js';

/** The rows as fractions of 255: the change in each component per unit change of R, G or B. */
const YCBCR = [BT601.y, BT601.cb, BT601.cr].map((row) => row.map((w) => w / 255));

/** L1 in BT.601 YCbCr: the mean of |ΔY|, |ΔCb| and |ΔCr| over an NHWC RGB prediction's pixels. The benchmarks
 *  score Y alone; L1 on R, G and B trains a network's Y on the majority sign of three colour errors instead. */
export function ycbcrL1Loss(pred: Tensor, target: Tensor): Tensor {
  sameShape('ycbcrL1Loss', pred, target);
  if (pred.shape.at(-1) !== 3) throw new Error(`ycbcrL1Loss: needs 3 (RGB) channels, got shape [${pred.shape.join(', ')}]`);
  const n = pred.size;
  const p = pred.data;
  const t = target.data;
  const signs = new Float32Array(n);
  let acc = 0;
  for (let i = 0; i < n; i += 3) {
    const dr = p[i] - t[i];
    const dg = p[i + 1] - t[i + 1];
    const db = p[i + 2] - t[i + 2];
    for (let k = 0; k < 3; k++) {
      const d = YCBCR[k][0] * dr + YCBCR[k][1] * dg + YCBCR[k][2] * db;
      acc += Math.abs(d);
      signs[i + k] = Math.sign(d);
    }
  }
  return Tensor.fromOp(new Float32Array([acc / n]), [], [pred], (g) => {
    const k = g[0] / n;
    const grad = new Float32Array(n);
    for (let i = 0; i < n; i += 3) {
      for (let c = 0; c < 3; c++) grad[i + c] = k * (YCBCR[0][c] * signs[i] + YCBCR[1][c] * signs[i + 1] + YCBCR[2][c] * signs[i + 2]);
    }
    return [grad];
  });
}
