// The supernet's gates: hard forward with the minimum-width rule, straight-through backward (checked against
// an explicit continuous mask, itself checked by finite differences), and derivation of a narrower WDSR-B
// with the same function as the gated supernet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { parseArch } from '../src/models/registry.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { wdsrForward } from '../src/models/wdsr.js';
import { hardMask, Supernet } from '../src/search/supernet.js';
import { Rng } from '../src/util/random.js';
import { checkGrad, randTensor } from './support/gradcheck.js';

const spec = parseArch('{"arch":"wdsr-b","channels":10,"blocks":[{"m1":13,"m2":9},{"m1":11,"m2":10},{"m1":12,"m2":9}]}', 2) as WdsrSpec;

test('hard masks: gate ≥ 0.5 lives; below 8 survivors the 8 largest gates live instead', () => {
  assert.deepEqual(hardMask(Float32Array.from([0.5, 0.49, 0.9, 0.7, 0.6, 0.8, 0.55, 0.51, 0.52])), [true, false, true, true, true, true, true, true, true]);
  const few = hardMask(Float32Array.from([0.1, 0.9, 0.2, 0.3, 0.05, 0.4, 0.35, 0.25, 0.15, 0.45]));
  assert.deepEqual(few, [false, true, true, true, false, true, true, true, true, true]);
  assert.deepEqual(hardMask(Float32Array.from([0.1, 0.2, 0.3])), [true, true, true], 'a layer narrower than 8 keeps every channel');
});

/** A supernet whose gates kill some channels (more than the rule allows in one layer) and skip block 1. */
function gatedSupernet(seed: number): Supernet {
  const net = Supernet.init(spec, seed);
  const rng = new Rng(seed);
  for (const g of net.widthGates()) for (let i = 0; i < g.size; i++) g.data[i] = rng.next();
  net.gates.blocks[1].skip.data[0] = 0.9;
  net.gates.blocks[1].keep.data[0] = 0.3;
  // Perturb the weight-norm gains and biases so folding and slicing are really exercised.
  for (const [name, p] of net.model.params) if (/\.(g|b)$/.test(name)) for (let i = 0; i < p.size; i++) p.data[i] *= name.endsWith('.b') ? 0 : rng.uniform(0.5, 1.5);
  for (const [name, p] of net.model.params) if (name.endsWith('.b')) for (let i = 0; i < p.size; i++) p.data[i] = rng.uniform(-0.1, 0.1);
  return net;
}

test('the derived network has the selected widths and computes what the gated supernet computes', () => {
  for (const seed of [1, 2, 3]) {
    const net = gatedSupernet(seed);
    const sel = net.selection();
    const derived = net.derive();
    const count = (m: boolean[]) => m.filter(Boolean).length;
    assert.equal(derived.spec.arch, 'wdsr-b');
    const d = derived.spec as WdsrSpec;
    assert.equal(d.channels, count(sel.c));
    assert.deepEqual(d.blocks, sel.blocks.filter((b) => b.keep).map((b) => ({ m1: count(b.m1), m2: count(b.m2) })));
    assert.equal(d.blocks.length, 2, 'block 1 was skipped');
    const x = randTensor(new Rng(seed), [2, 7, 9, 3], false, 0, 1);
    const a = net.forward(x, { widths: true, depth: true }).data;
    const b = derived.forward(x).data;
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(diff <= 1e-5, `seed ${seed}: max |gated − derived| = ${diff}`);
  }
});

test('without gates the supernet is the plain WDSR-B; width-only derivation keeps every block', () => {
  const net = gatedSupernet(4);
  const x = randTensor(new Rng(4), [1, 5, 6, 3], false, 0, 1);
  assert.deepEqual([...net.forward(x, { widths: false, depth: false }).data], [...net.model.forward(x).data]);
  assert.equal((net.derive({ widths: true, depth: false }).spec as WdsrSpec).blocks.length, 3);
});

test('Taylor worth: on one sample a width gate learns −|its straight-through gradient|, a keep gate −|Σ body·∂L/∂y|', () => {
  const x = randTensor(new Rng(5), [1, 4, 5, 3], false, 0, 1);
  const target = randTensor(new Rng(6), [1, 8, 10, 3], false, 0, 1);
  const grads = (worth: 'straight-through' | 'taylor') => {
    const net = gatedSupernet(5);
    ops.mseLoss(net.forward(x, { widths: true, depth: true }, worth), target).backward();
    return { net, widths: net.gates.blocks.flatMap((b) => [[...b.m1.grad!], [...b.m2.grad!]]) };
  };
  const st = grads('straight-through');
  const ty = grads('taylor');
  st.widths.forEach((layer, j) =>
    layer.forEach((v, i) => assert.ok(Math.abs(ty.widths[j][i] + Math.abs(v)) <= 1e-6 * (1 + Math.abs(v)), `layer ${j} channel ${i}: ${ty.widths[j][i]} vs ${-Math.abs(v)}`)),
  );
  assert.ok(st.widths.flat().some((v) => v > 0), 'a gate whose straight-through gradient pushes it down: the rules differ');
  // The seed's keep and skip gradients share Σ x·∂L/∂y; their difference is the body's Σ body·∂L/∂y.
  st.net.gates.blocks.forEach((b, i) => {
    const body = b.keep.grad![0] - b.skip.grad![0];
    assert.ok(Math.abs(ty.net.gates.blocks[i].keep.grad![0] + Math.abs(body)) <= 1e-5 * (1 + Math.abs(body)), `block ${i}`);
    assert.equal(ty.net.gates.blocks[i].skip.grad, null, 'the skip value is only the threshold');
  });
});

test('gate gradients pass straight through: they equal the gradients of an explicit continuous mask', () => {
  const net = gatedSupernet(5);
  const x = randTensor(new Rng(5), [1, 4, 5, 3], false, 0, 1);
  const target = randTensor(new Rng(6), [1, 8, 10, 3], false, 0, 1);
  ops.mseLoss(net.forward(x, { widths: true, depth: true }), target).backward();
  // The same network with the hard decisions as ordinary leaf tensors.
  const sel = net.selection();
  const leaf = (m: boolean[]) => new Tensor(Float32Array.from(m, (v) => (v ? 1 : 0)), [m.length], true);
  const c = leaf(sel.c);
  const m1 = sel.blocks.map((b) => leaf(b.m1));
  const m2 = sel.blocks.map((b) => leaf(b.m2));
  const skip = sel.blocks.map((b) => leaf([!b.keep]));
  const keep = sel.blocks.map((b) => leaf([b.keep]));
  const explicit = (...masks: Tensor[]) => {
    void masks;
    return ops.mseLoss(
      wdsrForward(spec, net.model.params, x, {
        read: (_, h) => ops.mulChannels(h, c),
        // A gate whose mask is its own value: forward t·m, gradient Σ t·∂L/∂y, as mulChannels.
        widthGates: (i) => ({ m1: { gate: m1[i], mask: m1[i].data, worth: 'straight-through' }, m2: { gate: m2[i], mask: m2[i].data, worth: 'straight-through' } }),
        merge: (i, h, body) => ops.add(ops.mulChannels(h, skip[i]), ops.mulChannels(ops.add(body, h), keep[i])),
      }),
      target,
    );
  };
  const masks = [c, ...m1, ...m2, ...skip, ...keep];
  const params = [...net.model.params.values()];
  for (const p of params) p.grad = null;
  explicit().backward();
  const gates = [net.gates.c, ...net.gates.blocks.map((b) => b.m1), ...net.gates.blocks.map((b) => b.m2), ...net.gates.blocks.map((b) => b.skip), ...net.gates.blocks.map((b) => b.keep)];
  gates.forEach((g, j) => assert.deepEqual([...g.grad!], [...masks[j].grad!], `gate tensor ${j}`));
  for (const p of params) p.requiresGrad && (p.grad = null);
  checkGrad(explicit, masks, { h: 1e-2, tol: 2e-3, probes: 6 });
});
