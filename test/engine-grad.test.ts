// Every op's gradient against central finite differences on the reference backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { ycbcrL1Loss } from '../src/train/ycbcr-loss.js';
import { Rng } from '../src/util/random.js';
import { checkGrad, randTensor } from './support/gradcheck.js';

const rng = new Rng(1234);

for (const k of [1, 3, 5]) {
  test(`conv2d k=${k} gradients (x, w, b), with and without ReLU`, () => {
    for (const relu of [false, true]) {
      const x = randTensor(rng, [2, 5, 4, 3]);
      const w = randTensor(rng, [k, k, 3, 4]);
      const b = randTensor(rng, [4]);
      // ReLU's kink breaks finite differences where an output sits near 0; a small h keeps probes off it.
      checkGrad((x, w, b) => ops.conv2d(x, w, b, { relu }), [x, w, b], { h: relu ? 1e-3 : 1e-2, tol: relu ? 1e-2 : 2e-3 });
    }
  });
}

test('conv2d without bias', () => {
  checkGrad((x, w) => ops.conv2d(x, w, null), [randTensor(rng, [1, 3, 6, 2]), randTensor(rng, [3, 3, 2, 5])]);
});

test('relu gradient', () => {
  // Values kept away from 0 so that x ± h never crosses the kink.
  const x = randTensor(rng, [2, 3, 3, 4]);
  for (let i = 0; i < x.size; i++) x.data[i] += x.data[i] >= 0 ? 0.1 : -0.1;
  checkGrad((x) => ops.relu(x), [x]);
});

test('add, sub and mul gradients', () => {
  const a = randTensor(rng, [2, 3, 4, 5]);
  const b = randTensor(rng, [2, 3, 4, 5]);
  checkGrad((a, b) => ops.add(a, b), [a, b]);
  checkGrad((a, b) => ops.sub(a, b), [a, b]);
  checkGrad((a, b) => ops.mul(a, b), [a, b]);
  // The same tensor on both sides: gradients from the two uses must add up, not overwrite each other.
  checkGrad((a) => ops.mul(a, a), [a]);
  checkGrad((a) => ops.add(a, a), [a]);
});

test('affine gradient', () => {
  checkGrad((x) => ops.affine(x, -1.5, 0.5), [randTensor(rng, [3, 7])]);
});

test('mulChannels gradients, per channel and scalar', () => {
  checkGrad((x, g) => ops.mulChannels(x, g), [randTensor(rng, [2, 3, 3, 6]), randTensor(rng, [6])]);
  checkGrad((x, g) => ops.mulChannels(x, g), [randTensor(rng, [2, 3, 3, 6]), randTensor(rng, [1])]);
});

test('depthMix: skip·h + keep·s, its gradients, and its hard-gate shortcuts equal the composed ops', () => {
  const [h, s] = [randTensor(rng, [2, 3, 3, 4]), randTensor(rng, [2, 3, 3, 4])];
  checkGrad((h, s, a, b) => ops.depthMix(h, s, a, b), [h, s, randTensor(rng, [1]), randTensor(rng, [1])]);
  for (const [a, b] of [[0, 1], [1, 0], [0.3, -0.7]]) {
    const gates = () => [new Tensor(Float32Array.of(a), [1], true), new Tensor(Float32Array.of(b), [1], true)];
    const proj = Float32Array.from({ length: h.size }, (_, i) => Math.sin(i));
    const run = (f: (skip: Tensor, keep: Tensor) => Tensor) => {
      const [skip, keep] = gates();
      h.grad = s.grad = null;
      const y = f(skip, keep);
      y.backward(proj);
      return [y.data, h.grad ?? new Float32Array(h.size), s.grad ?? new Float32Array(s.size), skip.grad!, keep.grad!].map((t) => [...t]);
    };
    const fused = run((skip, keep) => ops.depthMix(h, s, skip, keep));
    const composed = run((skip, keep) => ops.add(ops.mulChannels(h, skip), ops.mulChannels(s, keep)));
    fused.forEach((t, i) => t.forEach((v, j) => assert.ok(Math.abs(v - composed[i][j]) <= 1e-6, `skip ${a}, keep ${b}: output ${i} element ${j}: ${v} vs ${composed[i][j]}`)));
  }
});

test('depthToSpace gradient and PyTorch channel order', () => {
  checkGrad((x) => ops.depthToSpace(x, 2), [randTensor(rng, [2, 3, 2, 12])]);
  checkGrad((x) => ops.depthToSpace(x, 3), [randTensor(rng, [1, 2, 2, 18])]);
  // torch.nn.PixelShuffle(2) on a 1×4×1×1 input [0,1,2,3] gives [[0,1],[2,3]] (channel c·4 + i·2 + j → (i, j)).
  const y = ops.depthToSpace(new Tensor(Float32Array.from([0, 1, 2, 3]), [1, 1, 1, 4]), 2);
  assert.deepEqual([...y.data], [0, 1, 2, 3]);
  assert.deepEqual(y.shape, [1, 2, 2, 1]);
  // Two output channels: NHWC input [a0 a1 a2 a3 b0 b1 b2 b3] → pixel (0,0) holds (a0, b0), (0,1) holds (a1, b1).
  const z = ops.depthToSpace(new Tensor(Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13]), [1, 1, 1, 8]), 2);
  assert.deepEqual([...z.data], [0, 10, 1, 11, 2, 12, 3, 13]);
});

test('weightNorm gradients, and the norm it produces', () => {
  const v = randTensor(rng, [3, 3, 4, 5]);
  const g = randTensor(rng, [5], true, 0.5, 2);
  checkGrad((v, g) => ops.weightNorm(v, g), [v, g]);
  const w = ops.weightNorm(v, g);
  for (let o = 0; o < 5; o++) {
    let n2 = 0;
    for (let i = o; i < w.size; i += 5) n2 += w.data[i] ** 2;
    assert.ok(Math.abs(Math.sqrt(n2) - Math.abs(g.data[o])) < 1e-5, `channel ${o}: ‖w‖ = ${Math.sqrt(n2)}, g = ${g.data[o]}`);
  }
});

test('stThreshold: hard forward, straight-through backward', () => {
  const x = new Tensor(Float32Array.from([0.2, 0.5, 0.7, -1]), [4], true);
  const y = ops.stThreshold(x, 0.5);
  assert.deepEqual([...y.data], [0, 1, 1, 0]);
  ops.sum(ops.mul(y, new Tensor(Float32Array.from([1, 2, 3, 4]), [4]))).backward();
  assert.deepEqual([...x.grad!], [1, 2, 3, 4]);
});

test('reshape keeps values and passes gradients through', () => {
  const x = randTensor(rng, [2, 3, 4, 1]);
  checkGrad((x) => ops.mul(ops.reshape(x, [6, 4]), ops.reshape(x, [6, 4])), [x]);
  assert.throws(() => ops.reshape(x, [5, 5]), /reshape: cannot hold 24 values in \[5,5\] \(x \[2,3,4,1\]\)/);
});

test('straightThrough: forwards the given value, passes the gradient unchanged', () => {
  const x = new Tensor(Float32Array.from([0.3, 0.9, 0.1]), [3], true);
  const y = ops.straightThrough(x, Float32Array.from([0, 1, 1]));
  assert.deepEqual([...y.data], [0, 1, 1]);
  ops.sum(ops.mul(y, new Tensor(Float32Array.from([5, 6, 7]), [3]))).backward();
  assert.deepEqual([...x.grad!], [5, 6, 7]);
  assert.throws(() => ops.straightThrough(x, new Float32Array(2)), /straightThrough: value has 2 elements \(x \[3\]\)/);
});

test('gateChannels: forwards x·mask; its gate learns the per-sample loss changes by the straight-through or Taylor rule', () => {
  const [n, c] = [3, 4];
  const x = randTensor(rng, [n, 2, 3, c]);
  const t = randTensor(rng, [n, 2, 3, c], false);
  const mask = Float32Array.of(1, 0, 1, 1);
  const per = x.size / n;
  // Oracle: MSE of x·mask with channel ch of sample b scaled by mask[ch] + e, in plain arithmetic.
  const loss = (b: number, ch: number, e: number) => {
    let acc = 0;
    for (let i = 0; i < x.size; i++) {
      const k = i % c;
      const y = x.data[i] * (mask[k] + (k === ch && Math.floor(i / per) === b ? e : 0));
      acc += (y - t.data[i]) ** 2;
    }
    return acc / x.size;
  };
  const dL = (b: number, ch: number) => (loss(b, ch, 1e-3) - loss(b, ch, -1e-3)) / 2e-3;
  for (const worth of ['straight-through', 'taylor'] as const) {
    const g = new Tensor(Float32Array.of(0.9, 0.2, 0.6, 0.7), [c], true);
    const xg = new Tensor(x.data, x.shape, true);
    const y = ops.gateChannels(xg, g, mask, worth);
    assert.deepEqual([...y.data], [...x.data].map((v, i) => v * mask[i % c]));
    ops.mseLoss(y, t).backward();
    for (let ch = 0; ch < c; ch++) {
      const s = [...Array(n).keys()].map((b) => dL(b, ch));
      const want = worth === 'taylor' ? -s.reduce((a, v) => a + Math.abs(v), 0) : s.reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(g.grad![ch] - want) < 1e-4 * (1 + Math.abs(want)), `${worth} gate ${ch}: ${g.grad![ch]} vs ${want}`);
    }
    for (let i = 0; i < x.size; i++) assert.ok(Math.abs(xg.grad![i] - (mask[i % c] * 2 * (y.data[i] - t.data[i])) / x.size) < 1e-6);
  }
  // One gate on the whole tensor (a block's keep gate): per sample, the loss change of scaling all of it.
  const all = (b: number, e: number) => x.data.reduce((acc, v, i) => acc + (v * (1 + (Math.floor(i / per) === b ? e : 0)) - t.data[i]) ** 2, 0) / x.size;
  const g1 = new Tensor(Float32Array.of(0.7), [1], true);
  ops.mseLoss(ops.gateChannels(x, g1, Float32Array.of(1), 'taylor'), t).backward();
  const want1 = -[...Array(n).keys()].reduce((acc, b) => acc + Math.abs((all(b, 1e-3) - all(b, -1e-3)) / 2e-3), 0);
  assert.ok(Math.abs(g1.grad![0] - want1) < 1e-4 * (1 + Math.abs(want1)), `scalar gate: ${g1.grad![0]} vs ${want1}`);
  assert.throws(() => ops.gateChannels(x, Tensor.zeros([4]), new Float32Array(3), 'taylor'), /gateChannels: gate and mask must be \[4\] or \[1\], mask has 3 \(x \[3,2,3,4\], g \[4\]\)/);
});

test('sum, mean, l1Loss and mseLoss gradients', () => {
  const a = randTensor(rng, [2, 4, 4, 3]);
  const t = randTensor(rng, [2, 4, 4, 3], false);
  checkGrad((a) => ops.sum(a), [a]);
  checkGrad((a) => ops.mean(a), [a]);
  checkGrad((a) => ops.mseLoss(a, t), [a]);
  // |a − t| has a kink at a = t: keep probes at least 0.05 away from it.
  for (let i = 0; i < a.size; i++) if (Math.abs(a.data[i] - t.data[i]) < 0.05) a.data[i] += 0.1;
  checkGrad((a) => ops.l1Loss(a, t), [a], { h: 1e-3 });
});

test('charbonnierLoss: its gradient, and its value between L1 and L1 + ε', () => {
  const a = randTensor(rng, [2, 4, 4, 3]);
  const t = randTensor(rng, [2, 4, 4, 3], false);
  // Smooth everywhere: ε = 0.1 makes the curvature near a = t visible to the probes.
  checkGrad((a) => ops.charbonnierLoss(a, t, 0.1), [a], { h: 1e-3 });
  checkGrad((a) => ops.charbonnierLoss(a, t), [a], { h: 1e-4, tol: 5e-3 });
  const l1 = ops.l1Loss(a, t).data[0];
  const c = ops.charbonnierLoss(a, t, 1e-3).data[0];
  assert.ok(c > l1 && c <= l1 + 1e-3, `Charbonnier ${c} vs L1 ${l1}`);
});

test('ycbcrL1Loss: its gradient; a grey error is all luma (219/255 of it), an error with ΔY = 0 costs chroma only', () => {
  const a = randTensor(rng, [2, 3, 3, 3]);
  const t = randTensor(rng, [2, 3, 3, 3], false);
  checkGrad((a) => ycbcrL1Loss(a, t), [a], { h: 1e-4, tol: 5e-3 });
  const grey = new Tensor(Float32Array.of(0.1, 0.1, 0.1, -0.3, -0.3, -0.3), [1, 2, 1, 3]);
  const zero = (n: number) => new Tensor(new Float32Array(n), [1, n / 3, 1, 3]);
  // Cb and Cr rows sum to 0: only Y sees (d, d, d), as d · 219/255; the mean is over 2 pixels × 3 components.
  assert.ok(Math.abs(ycbcrL1Loss(grey, zero(6)).data[0] - ((0.1 + 0.3) * 219) / 255 / 6) < 1e-6);
  // An error with ΔY = 0 costs its chroma only (BT.601's Cb and Cr rows).
  const [r, g] = [0.128553, -0.065481];
  const cb = Math.abs(-37.797 * r - 74.203 * g) / 255;
  const cr = Math.abs(112 * r - 93.786 * g) / 255;
  const chroma = ycbcrL1Loss(new Tensor(Float32Array.of(r, g, 0), [1, 1, 1, 3]), zero(3)).data[0];
  assert.ok(Math.abs(chroma - (cb + cr) / 3) < 1e-6, `${chroma} vs ${(cb + cr) / 3}`);
  const two = new Tensor(new Float32Array(2), [1, 1, 1, 2]);
  assert.throws(() => ycbcrL1Loss(two, two), /ycbcrL1Loss: needs 3 \(RGB\) channels, got shape \[1, 1, 1, 2\]/);
});

test('a small network end to end (conv, relu, gates, skip, shuffle, weight norm, L1)', () => {
  const x = randTensor(rng, [1, 4, 4, 3], false);
  const target = randTensor(rng, [1, 8, 8, 3], false);
  const v1 = randTensor(rng, [3, 3, 3, 6]);
  const g1 = randTensor(rng, [6], true, 0.5, 1.5);
  const gate = randTensor(rng, [6], true, 0.5, 1.5);
  const v2 = randTensor(rng, [3, 3, 6, 12]);
  const b2 = randTensor(rng, [12]);
  const skip = randTensor(rng, [5, 5, 3, 12]);
  const net = (v1: Tensor, g1: Tensor, gate: Tensor, v2: Tensor, b2: Tensor, skip: Tensor) => {
    const xs = ops.affine(x, 1, -0.5);
    const h = ops.mulChannels(ops.conv2d(xs, ops.weightNorm(v1, g1), null, { relu: true }), gate);
    const y = ops.add(ops.conv2d(h, v2, b2), ops.conv2d(xs, skip, null));
    return ops.mseLoss(ops.affine(ops.depthToSpace(y, 2), 1, 0.5), target);
  };
  checkGrad(net, [v1, g1, gate, v2, b2, skip], { h: 1e-3, tol: 1e-2 });
});

test('shape mismatches name the op and both shapes', () => {
  const x = Tensor.zeros([1, 4, 4, 3]);
  assert.throws(() => ops.conv2d(x, Tensor.zeros([3, 3, 5, 8]), null), /conv2d: input has 3 channels, weight expects 5 \(x \[1,4,4,3\], w \[3,3,5,8\]\)/);
  assert.throws(() => ops.add(x, Tensor.zeros([1, 4, 4, 2])), /add: shapes differ \(a \[1,4,4,3\], b \[1,4,4,2\]\)/);
  assert.throws(() => ops.mulChannels(x, Tensor.zeros([5])), /mulChannels: gate must be \[3\] or \[1\] \(x \[1,4,4,3\], g \[5\]\)/);
  assert.throws(() => ops.depthToSpace(x, 2), /depthToSpace: channels must be a multiple of 4 \(x \[1,4,4,3\]\)/);
});

test('backward refuses a tensor with no parameters, and a non-scalar without a seed', () => {
  assert.throws(() => ops.sum(Tensor.zeros([3])).backward(), /does not depend on any parameter/);
  assert.throws(() => ops.relu(Tensor.zeros([3], true)).backward(), /needs a seed gradient/);
});
