// Differentiable ops: each checks its shapes, runs kernels on the current backend, and records its gradient
// rule. Shape errors name the op and every shape involved, so a wiring mistake points at itself.
import type { ConvShape } from '../backends/backend.js';
import { backend, releaseTemporaries, Tensor } from './tensor.js';

const fmt = (t: Tensor) => `[${t.shape.join(',')}]`;

function fail(op: string, msg: string, ...ts: [string, Tensor][]): never {
  throw new Error(`${op}: ${msg} (${ts.map(([n, t]) => `${n} ${fmt(t)}`).join(', ')})`);
}

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    fail(op, 'shapes differ', ['a', a], ['b', b]);
}

const channels = (t: Tensor) => t.shape[t.shape.length - 1];

export interface Conv2dOptions {
  /** Apply ReLU to the output (fused into the kernel). */
  relu?: boolean;
}

/** Stride-1 "same" convolution. x: [n,h,w,cin], w: [k,k,cin,cout], b: [cout] or null. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  if (x.shape.length !== 4) fail('conv2d', 'input must be NHWC', ['x', x]);
  if (w.shape.length !== 4 || w.shape[0] !== w.shape[1] || w.shape[0] % 2 !== 1)
    fail('conv2d', 'weight must be [k,k,cin,cout] with k odd', ['w', w]);
  const [n, h, wd, cin] = x.shape;
  const [k, , wcin, cout] = w.shape;
  if (wcin !== cin) fail('conv2d', `input has ${cin} channels, weight expects ${wcin}`, ['x', x], ['w', w]);
  if (b && (b.shape.length !== 1 || b.shape[0] !== cout)) fail('conv2d', `bias must be [${cout}]`, ['b', b], ['w', w]);
  const s: ConvShape = { n, h, w: wd, cin, cout, k };
  const relu = opts.relu ?? false;
  const be = backend();
  const y = be.conv2d(x.data, w.data, b?.data ?? null, s, relu);
  const parents = b ? [x, w, b] : [x, w];
  return Tensor.fromOp(y, [n, h, wd, cout], parents, (g) => {
    const gy = relu ? be.binary('reluGrad', g, y) : g;
    const grads = [
      x.requiresGrad ? be.conv2dGradInput(gy, w.data, s) : null,
      w.requiresGrad ? be.conv2dGradWeight(x.data, gy, s) : null,
      b?.requiresGrad ? be.channelSum(gy, null, cout) : null,
    ];
    if (relu) releaseTemporaries(gy);
    return grads;
  });
}

export function relu(x: Tensor): Tensor {
  const be = backend();
  const y = be.unary('relu', x.data);
  return Tensor.fromOp(y, x.shape, [x], (g) => [be.binary('reluGrad', g, y)]);
}

export function add(a: Tensor, b: Tensor): Tensor {
  sameShape('add', a, b);
  return Tensor.fromOp(backend().binary('add', a.data, b.data), a.shape, [a, b], (g) => [g, g]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  sameShape('sub', a, b);
  const be = backend();
  return Tensor.fromOp(be.binary('sub', a.data, b.data), a.shape, [a, b], (g) => [g, be.unary('neg', g)]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  const be = backend();
  return Tensor.fromOp(be.binary('mul', a.data, b.data), a.shape, [a, b], (g) => [
    a.requiresGrad ? be.binary('mul', g, b.data) : null,
    b.requiresGrad ? be.binary('mul', g, a.data) : null,
  ]);
}

/** y = scale·x + shift with constant scalars (e.g. the ±0.5 input/output shifts). */
export function affine(x: Tensor, scale: number, shift: number): Tensor {
  const be = backend();
  return Tensor.fromOp(be.affine(x.data, scale, shift), x.shape, [x], (g) => [scale === 1 ? g : be.affine(g, scale, 0)]);
}

/** x [..., c] times g [c] per channel: channel gates; with c = 1, a scalar gate on the whole tensor. */
export function mulChannels(x: Tensor, g: Tensor): Tensor {
  const c = g.size;
  if (g.shape.length !== 1 || (c !== 1 && channels(x) !== c))
    fail('mulChannels', `gate must be [${channels(x)}] or [1]`, ['x', x], ['g', g]);
  const be = backend();
  return Tensor.fromOp(be.mulChannels(x.data, g.data, c), x.shape, [x, g], (gy) => [
    x.requiresGrad ? be.mulChannels(gy, g.data, c) : null,
    g.requiresGrad ? be.channelSum(gy, x.data, c) : null,
  ]);
}

/** The seed's depth mix skip·h + keep·s with scalar gates [1] (s = h + the block's body). For the hard 0/1
 *  gates of the search one input passes through as the output and the gates' gradients are two float64 sums
 *  (Σ ∂L/∂y·h, Σ ∂L/∂y·s), where mulChannels, mulChannels and add made three passes and their gradients more. */
export function depthMix(h: Tensor, s: Tensor, skip: Tensor, keep: Tensor): Tensor {
  sameShape('depthMix', h, s);
  if (skip.size !== 1 || keep.size !== 1) fail('depthMix', 'skip and keep must hold one value each', ['skip', skip], ['keep', keep]);
  const be = backend();
  const [a, b] = [skip.data[0], keep.data[0]];
  const times = (t: Float32Array, k: number) => (k === 1 ? t : be.mulChannels(t, Float32Array.of(k), 1));
  const y = a === 0 ? times(s.data, b) : b === 0 ? times(h.data, a) : be.binary('add', times(h.data, a), times(s.data, b));
  // With a 0/1 gate y may be s's (or h's) own array: borrowed, never released with this output.
  const borrowed = y === s.data || y === h.data;
  return Tensor.fromOp(y, h.shape, [h, s, skip, keep], (gy) => [
    h.requiresGrad && a !== 0 ? times(gy, a) : null,
    // A zero keep still hands s a (zero) gradient: a skipped block's parameters stay in the graph, and the
    // optimiser treats them as the composed ops did.
    s.requiresGrad ? times(gy, b) : null,
    skip.requiresGrad ? be.channelSum(gy, h.data, 1) : null,
    keep.requiresGrad ? be.channelSum(gy, s.data, 1) : null,
  ], borrowed);
}

/** Pixel shuffle: [n,h,w,c·s²] → [n,h·s,w·s,c], PyTorch's channel order. */
export function depthToSpace(x: Tensor, s: number): Tensor {
  const [n, h, w, cs] = x.shape;
  if (x.shape.length !== 4 || cs % (s * s) !== 0) fail('depthToSpace', `channels must be a multiple of ${s * s}`, ['x', x]);
  const c = cs / (s * s);
  const be = backend();
  return Tensor.fromOp(be.depthToSpace(x.data, n, h, w, c, s), [n, h * s, w * s, c], [x], (g) => [
    be.spaceToDepth(g, n, h, w, c, s),
  ]);
}

/** Weight normalisation (Salimans & Kingma): w[..., o] = g[o] · v[..., o] / ‖v[..., o]‖ over all but the last axis. */
export function weightNorm(v: Tensor, g: Tensor): Tensor {
  const c = channels(v);
  if (g.shape.length !== 1 || g.size !== c) fail('weightNorm', `g must be [${c}]`, ['v', v], ['g', g]);
  const be = backend();
  const norm = be.channelSum(v.data, v.data, c).map(Math.sqrt);
  if (norm.some((x) => x === 0)) fail('weightNorm', 'a direction vector v[..., o] is all zeros', ['v', v]);
  const scale = g.data.map((gi, o) => gi / norm[o]);
  return Tensor.fromOp(be.mulChannels(v.data, scale, c), v.shape, [v, g], (gw) => {
    // With u = v/‖v‖: dL/dg = Σ gw·u and dL/dv = (g/‖v‖)·(gw − u·(Σ gw·u)).
    const dots = be.channelSum(gw, v.data, c).map((d, o) => d / norm[o]);
    const dv = v.requiresGrad
      ? be.mulChannels(
          be.binary('sub', gw, be.mulChannels(v.data, dots.map((d, o) => d / norm[o]), c)),
          scale,
          c,
        )
      : null;
    return [dv, dots];
  });
}

/** Straight-through threshold: forward 1 where x ≥ t else 0; backward passes the gradient unchanged. */
export function stThreshold(x: Tensor, t: number): Tensor {
  return Tensor.fromOp(backend().threshold(x.data, t), x.shape, [x], (g) => [g]);
}

/** The same values under another shape of equal size. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== x.size) fail('reshape', `cannot hold ${x.size} values in [${shape.join(',')}]`, ['x', x]);
  return Tensor.fromOp(x.data, shape, [x], (g) => [g], true);
}

/** Straight-through estimator: forward `value` (any hard decision computed from x), backward the gradient of x
 *  unchanged — the search's gates, where the hard mask obeys rules (e.g. a minimum width) a kernel can't know. */
export function straightThrough(x: Tensor, value: Float32Array): Tensor {
  if (value.length !== x.size) fail('straightThrough', `value has ${value.length} elements`, ['x', x]);
  return Tensor.fromOp(value, x.shape, [x], (g) => [g], true);
}

/** How a hard gate's value learns from the loss. 'straight-through' (the seed): Σ x·∂L/∂y over the batch,
 *  which is ~0 for a trained channel (scaling it is scaling its outgoing weights, at a minimum), so the gates
 *  learn almost nothing from the data. 'taylor': −Σ_samples |Σ_pixels x·∂L/∂y|, per sample the first-order
 *  loss change of removing a live channel or reviving a dead one, in magnitude (Molchanov et al. 2017): always
 *  a pull up, in proportion to what the channel is worth (a revived one's weights train from there). */
export type GateWorth = 'straight-through' | 'taylor';

/** x [n,…,c] times a 0/1 `mask` [c] chosen from the gate values `g` [c] by rules of the caller (threshold,
 *  minimum width); with c = 1, one gate on the whole tensor. The gradient to `g` is the `worth` rule's. */
export function gateChannels(x: Tensor, g: Tensor, mask: Float32Array, worth: GateWorth): Tensor {
  const c = g.size;
  if (g.shape.length !== 1 || mask.length !== c || (c !== 1 && channels(x) !== c))
    fail('gateChannels', `gate and mask must be [${channels(x)}] or [1], mask has ${mask.length}`, ['x', x], ['g', g]);
  const be = backend();
  const taylor = (gy: Float32Array) => {
    const n = x.shape[0];
    const per = x.size / n;
    const out = new Float32Array(c);
    for (let b = 0; b < n; b++) {
      const s = be.channelSum(gy.subarray(b * per, (b + 1) * per), x.data.subarray(b * per, (b + 1) * per), c);
      for (let i = 0; i < c; i++) out[i] -= Math.abs(s[i]);
    }
    return out;
  };
  return Tensor.fromOp(be.mulChannels(x.data, mask, c), x.shape, [x, g], (gy) => [
    x.requiresGrad ? be.mulChannels(gy, mask, c) : null,
    g.requiresGrad ? (worth === 'taylor' ? taylor(gy) : be.channelSum(gy, x.data, c)) : null,
  ]);
}

/** Σ x as a scalar tensor. */
export function sum(x: Tensor): Tensor {
  return Tensor.fromOp(new Float32Array([backend().sum(x.data)]), [], [x], (g) => [new Float32Array(x.size).fill(g[0])]);
}

export function mean(x: Tensor): Tensor {
  return Tensor.fromOp(new Float32Array([backend().sum(x.data) / x.size]), [], [x], (g) => [
    new Float32Array(x.size).fill(g[0] / x.size),
  ]);
}

/** Mean absolute (p = 1) or squared (p = 2) difference between a prediction and a constant target. */
function meanDistance(op: string, pred: Tensor, target: Tensor, p: 1 | 2): Tensor {
  sameShape(op, pred, target);
  const be = backend();
  const n = pred.size;
  const value = be.distance(pred.data, target.data, p) / n;
  return Tensor.fromOp(new Float32Array([value]), [], [pred], (g) => {
    const diff = be.binary('sub', pred.data, target.data);
    const sign = p === 1 ? be.unary('sign', diff) : diff;
    const grad = be.affine(sign, p === 1 ? g[0] / n : (2 * g[0]) / n, 0);
    releaseTemporaries(diff, sign);
    return [grad];
  });
}

export const l1Loss = (pred: Tensor, target: Tensor) => meanDistance('l1Loss', pred, target, 1);
export const mseLoss = (pred: Tensor, target: Tensor) => meanDistance('mseLoss', pred, target, 2);

/** Charbonnier's smooth L1 (LapSRN): mean √((pred − target)² + ε²). Element-wise in plain TS: a loss touches
 *  each output value once, which no kernel would speed up noticeably. */
export function charbonnierLoss(pred: Tensor, target: Tensor, eps = 1e-3): Tensor {
  sameShape('charbonnierLoss', pred, target);
  const n = pred.size;
  const e2 = eps * eps;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const d = pred.data[i] - target.data[i];
    acc += Math.sqrt(d * d + e2);
  }
  return Tensor.fromOp(new Float32Array([acc / n]), [], [pred], (g) => {
    const k = g[0] / n;
    return [pred.data.map((p, i) => {
      const d = p - target.data[i];
      return (k * d) / Math.sqrt(d * d + e2);
    })];
  });
}
