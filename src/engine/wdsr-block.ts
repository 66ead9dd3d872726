// One WDSR-B block as one autograd op: skip + conv_k(g2 ⊙ conv1×1(g1 ⊙ relu(conv1×1(gc ⊙ x)))), with optional
// per-channel width gates gc (on the input's C), g1 (on M1) and g2 (on M2). A backend with the fused expansion kernels
// (Backend.wdsrExpand) runs the 1×1 chain without ever storing the M1-wide tensor; any other backend gets
// the same op composed from the plain ops, which is also the oracle the fused path is tested against.
// The gates fold into the weights: conv(gc ⊙ x, w1) = conv(x, gc·w1), conv(g1 ⊙ u, w2) ⊙ g2 = conv(u,
// g1·w2·g2) with bias b2·g2, so the kernels never see them; their gradients follow from the weight gradients.
import type { ExpandShape } from '../backends/backend.js';
import * as ops from './ops.js';
import type { GateWorth } from './ops.js';
import { backend, releaseCaptured, releaseTemporaries, Tensor } from './tensor.js';

export interface BlockWeights {
  /** [1,1,C,M1], [M1] */
  w1: Tensor;
  b1: Tensor;
  /** [1,1,M1,M2], [M2] */
  w2: Tensor;
  b2: Tensor;
  /** [k,k,M2,C], [C] */
  w3: Tensor;
  b3: Tensor;
}

/** A width gate as ops.gateChannels takes it: forward x·mask, gradient to `gate` by the `worth` rule. */
export interface ChannelGate {
  gate: Tensor;
  mask: Float32Array;
  worth: GateWorth;
}

export interface BlockGates {
  /** On the block's input x (C), as the supernet reads the residual stream; the skip stays ungated. */
  c?: ChannelGate;
  m1?: ChannelGate;
  m2?: ChannelGate;
}

function check(x: Tensor, skip: Tensor | null, w: BlockWeights, gates: BlockGates): ExpandShape {
  const fail = (msg: string): never => {
    throw new Error(`wdsrBlock: ${msg} (x [${x.shape}], w1 [${w.w1.shape}], w2 [${w.w2.shape}], w3 [${w.w3.shape}])`);
  };
  if (x.shape.length !== 4) fail('input must be NHWC');
  const [n, h, wd, c] = x.shape;
  const [m1, m2] = [w.w1.shape[3], w.w2.shape[3]];
  const is = (t: Tensor, ...d: number[]) => t.shape.length === d.length && d.every((v, i) => t.shape[i] === v);
  if (!is(w.w1, 1, 1, c, m1) || !is(w.w2, 1, 1, m1, m2) || w.w3.shape[2] !== m2 || w.w3.shape[3] !== c) fail('weights do not chain C→M1→M2→C');
  if (!is(w.b1, m1) || !is(w.b2, m2) || !is(w.b3, c)) fail('a bias does not match its conv');
  if (skip && !is(skip, ...x.shape)) fail(`skip [${skip.shape}] must have x's shape`);
  for (const [g, m] of [[gates.c, c], [gates.m1, m1], [gates.m2, m2]] as const)
    if (g && (g.mask.length !== m || g.gate.size !== m)) fail(`a gate on ${m} channels has ${g.gate.size} values and ${g.mask.length} mask entries`);
  return { n, h, w: wd, c, m1, m2 };
}

/** skip + the block's body on x (skip null: the body alone). */
export function wdsrBlock(x: Tensor, skip: Tensor | null, w: BlockWeights, gates: BlockGates = {}): Tensor {
  const s = check(x, skip, w, gates);
  const be = backend();
  if (!be.wdsrExpand || !be.wdsrExpandGrad) return composed(x, skip, w, gates);
  // The Taylor rule needs per-sample sums over x, which the kernels do not return for w1: gate x as an op.
  if (gates.c?.worth === 'taylor') return wdsrBlock(gateX(x, gates.c), skip, w, { m1: gates.m1, m2: gates.m2 });
  const expandGrad = be.wdsrExpandGrad.bind(be);
  const { n, c, m1, m2 } = s;
  // The input gate folds into w1's rows: conv(gc ⊙ x, w1) = conv(x, gc·w1); dx then comes out gated too.
  const gc = gates.c?.mask ?? new Float32Array(c).fill(1);
  const w1 = w.w1.data;
  const w1f = gates.c ? scaled(w1, c, m1, gc, null) : w1;
  const g1 = gates.m1?.mask ?? new Float32Array(m1).fill(1);
  const g2 = gates.m2?.mask ?? new Float32Array(m2).fill(1);
  const w2 = w.w2.data;
  const w2f = scaled(w2, m1, m2, g1, g2);
  const b2f = scaled(w.b2.data, 1, m2, null, g2);
  const z = be.wdsrExpand(x.data, w1f, w.b1.data, w2f, b2f, s);
  const s3 = { n, h: s.h, w: s.w, cin: m2, cout: c, k: w.w3.shape[0] };
  const y = be.conv2d(z, w.w3.data, w.b3.data, s3, false, skip?.data ?? null);
  const gateTensors = [gates.c, gates.m1, gates.m2].flatMap((g) => (g ? [g.gate] : []));
  const parents = [x, w.w1, w.b1, w.w2, w.b2, w.w3, w.b3, ...(skip ? [skip] : []), ...gateTensors];
  return Tensor.fromOp(y, x.shape, parents, (dy) => {
    const dz = be.conv2dGradInput(dy, w.w3.data, s3);
    // A block reading the tensor it adds back (x = skip) gets both gradients summed in the kernel's store.
    const same = skip === x;
    const r = expandGrad(x.data, dz, w1f, w.b1.data, w2f, s, same ? dy : null);
    const { dw2f, db2f, a, b } = sampleSums(r.dw2PerSample, r.db2PerSample, w2, w.b2.data, g1, g2, s, {
      a: !!gates.m1?.gate.requiresGrad,
      b: !!gates.m2?.gate.requiresGrad,
    });
    releaseTemporaries(dz, r.dw2PerSample, r.db2PerSample);
    const gateGrad = (g: ChannelGate, per: Float64Array) => {
      if (!g.gate.requiresGrad) return null;
      const m = g.mask.length;
      const out = new Float64Array(m);
      for (let e = 0; e < per.length; e++) out[e % m] += g.worth === 'taylor' ? -Math.abs(per[e]) : per[e];
      return Float32Array.from(out);
    };
    // dw1f = Σ_pixels x·du: w1's gradient is gc·dw1f, the input gate's Σ_m w1·dw1f = Σ_pixels x·∂L/∂(gc ⊙ x).
    const dgc = () => {
      const out = new Float64Array(c);
      for (let i = 0, e = 0; i < c; i++) for (let m = 0; m < m1; m++, e++) out[i] += w1[e] * r.dw1[e];
      return Float32Array.from(out);
    };
    const dw3 = w.w3.requiresGrad ? be.conv2dGradWeight(z, dy, s3) : null;
    releaseCaptured(z);
    return [
      r.dx,
      gates.c ? scaled(r.dw1, c, m1, gc, null) : r.dw1,
      r.db1,
      scaled(dw2f, m1, m2, g1, g2),
      scaled(db2f, 1, m2, null, g2),
      dw3,
      w.b3.requiresGrad ? be.channelSum(dy, null, c) : null,
      ...(skip ? [same ? null : dy] : []),
      ...(gates.c ? [gates.c.gate.requiresGrad ? dgc() : null] : []),
      ...(gates.m1 ? [gateGrad(gates.m1, a)] : []),
      ...(gates.m2 ? [gateGrad(gates.m2, b)] : []),
    ];
  });
}

/**
 * The kernel's per-sample w2 and b2 gradients (of the folded w2f = g1·w2·g2, b2f = b2·g2) summed over the
 * batch, and per sample, for the gates that train: a[smp·M1 + i] = Σ_o w2·g2·dw2f = the sample's
 * Σ_pixels u·∂L/∂(g1·u), b[smp·M2 + o] = Σ_i g1·w2·dw2f + b2·db2f = its Σ_pixels t2·∂L/∂(g2·t2), as
 * gateChannels computes them on the composed path. A top-level function so that V8 optimises its loop
 * (it runs on every block of every step).
 */
function sampleSums(
  dw2s: Float32Array,
  db2s: Float32Array,
  w2: Float32Array,
  b2: Float32Array,
  g1: Float32Array,
  g2: Float32Array,
  { n, m1, m2 }: ExpandShape,
  want: { a: boolean; b: boolean },
) {
  const dw2f = new Float64Array(m1 * m2);
  const db2f = new Float64Array(m2);
  const a = new Float64Array(want.a ? n * m1 : 0);
  const b = new Float64Array(want.b ? n * m2 : 0);
  for (let smp = 0; smp < n; smp++) {
    const ds = smp * m1 * m2;
    for (let i = 0, e = 0; i < m1; i++) {
      let ai = 0;
      for (let o = 0; o < m2; o++, e++) {
        const d = dw2s[ds + e];
        dw2f[e] += d;
        ai += w2[e] * g2[o] * d;
        if (want.b) b[smp * m2 + o] += g1[i] * w2[e] * d;
      }
      if (want.a) a[smp * m1 + i] = ai;
    }
    for (let o = 0; o < m2; o++) {
      const d = db2s[smp * m2 + o];
      db2f[o] += d;
      if (want.b) b[smp * m2 + o] += b2[o] * d;
    }
  }
  return { dw2f, db2f, a, b };
}

/** src [rows, cols] scaled by rowScale[row]·colScale[col] (null: 1), as float32. Plain loops: typed arrays'
 *  map and from with a callback cost more than the kernels on these sizes. */
function scaled(src: ArrayLike<number>, rows: number, cols: number, rowScale: Float32Array | null, colScale: Float32Array | null): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0, e = 0; i < rows; i++) {
    const r = rowScale ? rowScale[i] : 1;
    for (let j = 0; j < cols; j++, e++) out[e] = src[e] * r * (colScale ? colScale[j] : 1);
  }
  return out;
}

const gateX = (t: Tensor, g: ChannelGate) => ops.gateChannels(t, g.gate, g.mask, g.worth);

/** The block's three convs as functions (the expansion with its ReLU). */
export interface BlockConvs {
  expand(t: Tensor): Tensor;
  reduce(t: Tensor): Tensor;
  conv(t: Tensor): Tensor;
}

/** The block from plain ops: the oracle, the path of backends without the fused kernels, and of convs that
 *  are more than a weight and a bias (training branches, models/reparam.ts). */
export function composeBlock(x: Tensor, skip: Tensor | null, c: BlockConvs, gates: BlockGates = {}): Tensor {
  const gate = (t: Tensor, g?: ChannelGate) => (g ? gateX(t, g) : t);
  const body = c.conv(gate(c.reduce(gate(c.expand(gate(x, gates.c)), gates.m1)), gates.m2));
  return skip ? ops.add(skip, body) : body;
}

function composed(x: Tensor, skip: Tensor | null, w: BlockWeights, gates: BlockGates): Tensor {
  const convs = {
    expand: (t: Tensor) => ops.conv2d(t, w.w1, w.b1, { relu: true }),
    reduce: (t: Tensor) => ops.conv2d(t, w.w2, w.b2),
    conv: (t: Tensor) => ops.conv2d(t, w.w3, w.b3),
  };
  return composeBlock(x, skip, convs, gates);
}
