// The fused WDSR-B block: the native expansion kernels against the reference kernels composed, the block op
// on them against the same op composed from plain ops (the oracle: every output and gradient, gates on and
// off, both gate rules), finite differences on the fused path, and the gated supernet (with a skipped block)
// fused against the reference backend.
// Tolerances: float32 with other summation orders than the reference's. One kernel's error is ~1e-6 of the
// largest value; 1e-4 (the native kernels' bound in native.test.ts) leaves room for the chain of a block,
// 1e-3 for a whole supernet's gradients (a dozen kernels deep, with gains of a few per block).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, ExpandShape } from '../src/backends/backend.js';
import { referenceBackend as ref } from '../src/backends/reference.js';
import { createNativeBackend, findCompiler } from '../src/backends/native/index.js';
import * as ops from '../src/engine/ops.js';
import { backend, Tensor, useBackend } from '../src/engine/tensor.js';
import { type BlockGates, type BlockWeights, wdsrBlock } from '../src/engine/wdsr-block.js';
import { parseArch } from '../src/models/registry.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { Supernet } from '../src/search/supernet.js';
import { Rng } from '../src/util/random.js';
import { close } from './support/close.js';
import { checkGrad, randTensor } from './support/gradcheck.js';

const skip = findCompiler() ? false : 'no C compiler with OpenMP';
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-wdsr-block-test-'));
process.env.RTSR_CACHE_DIR = cacheDir;
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const native = createNativeBackend();
const rng = new Rng(20261203);
const rand = (n: number) => rng.fill(new Float32Array(n), () => rng.uniform(-1, 1));

/** Runs f with `b` as the engine's backend. */
function on<T>(b: Backend, f: () => T): T {
  const prev = backend();
  useBackend(b);
  try {
    return f();
  } finally {
    useBackend(prev);
  }
}

// Odd widths; one pixel; a batch of 17 (one band per sample) with fewer pixels than a tile; M1 = 300 (more
// vectors than one register block holds); the seed's 24/144/20 with tails in every tile.
const SHAPES: ExpandShape[] = [
  { n: 2, h: 5, w: 7, c: 5, m1: 13, m2: 7 },
  { n: 1, h: 1, w: 1, c: 1, m1: 1, m2: 1 },
  { n: 17, h: 2, w: 3, c: 13, m1: 40, m2: 33 },
  { n: 1, h: 7, w: 9, c: 24, m1: 300, m2: 17 },
  { n: 3, h: 9, w: 11, c: 24, m1: 144, m2: 20 },
];

function checkExpand(b: Backend, s: ExpandShape, label: string): void {
  const what = `${label} ${JSON.stringify(s)}`;
  const [x, w1, b1, w2, b2] = [s.n * s.h * s.w * s.c, s.c * s.m1, s.m1, s.m1 * s.m2, s.m2].map(rand);
  const dz = rand(s.n * s.h * s.w * s.m2);
  const s1 = { n: s.n, h: s.h, w: s.w, cin: s.c, cout: s.m1, k: 1 };
  const s2 = { ...s1, cin: s.m1, cout: s.m2 };
  const u = ref.conv2d(x, w1, b1, s1, true);
  close(b.wdsrExpand!(x, w1, b1, w2, b2, s), ref.conv2d(u, w2, b2, s2, false), `z ${what}`);
  const g = b.wdsrExpandGrad!(x, dz, w1, b1, w2, s);
  const du = ref.binary('reluGrad', ref.conv2dGradInput(dz, w2, s2), u);
  const dxWant = ref.conv2dGradInput(du, w1, s1);
  close(g.dx, dxWant, `dx ${what}`);
  const add = rand(x.length);
  close(b.wdsrExpandGrad!(x, dz, w1, b1, w2, s, add).dx, ref.binary('add', dxWant, add), `dx + a residual's gradient ${what}`);
  close(g.dw1, ref.conv2dGradWeight(x, du, s1), `dw1 ${what}`);
  close(g.db1, ref.channelSum(du, null, s.m1), `db1 ${what}`);
  const px = s.h * s.w;
  for (let i = 0; i < s.n; i++) {
    const us = u.subarray(i * px * s.m1, (i + 1) * px * s.m1);
    const dzs = dz.subarray(i * px * s.m2, (i + 1) * px * s.m2);
    close(g.dw2PerSample.subarray(i * s.m1 * s.m2, (i + 1) * s.m1 * s.m2), ref.conv2dGradWeight(us, dzs, { ...s2, n: 1 }), `dw2 of sample ${i} ${what}`);
    close(g.db2PerSample.subarray(i * s.m2, (i + 1) * s.m2), ref.channelSum(dzs, null, s.m2), `db2 of sample ${i} ${what}`);
  }
}

test('the fused expansion kernels match the reference kernels composed', { skip }, () => {
  for (const s of SHAPES) checkExpand(native, s, 'native');
  assert.throws(() => native.wdsrExpand!(rand(10), rand(5 * 13), rand(13), rand(13 * 7), rand(7), SHAPES[0]), /x has 10 values/);
});

test('generated for narrower vectors (AVX2-like, SSE/NEON-like) they match too', { skip }, () => {
  for (const target of [{ vw: 8, nreg: 16 }, { vw: 4, nreg: 16 }] as const) {
    const b = createNativeBackend({ target });
    for (const s of [SHAPES[0], SHAPES[3], SHAPES[4]]) checkExpand(b, s, `vw=${target.vw}`);
  }
});

test('the fused backward is deterministic', { skip }, () => {
  const s = SHAPES[4];
  const args = [s.n * s.h * s.w * s.c, s.n * s.h * s.w * s.m2, s.c * s.m1, s.m1, s.m1 * s.m2].map(rand);
  const run = () => native.wdsrExpandGrad!(args[0], args[1], args[2], args[3], args[4], s);
  assert.deepEqual(run(), run());
});

interface Block {
  x: Tensor;
  /** A residual other than x. */
  other: Tensor;
  w: BlockWeights;
  gates: BlockGates;
}

/** A block with odd widths; `gated`: input, M1 and M2 gates with some channels dead. */
function block(seed: number, s: { n: number; h: number; w: number; c: number; m1: number; m2: number }, gated: boolean, worth: 'straight-through' | 'taylor' = 'straight-through'): Block {
  const r = new Rng(seed);
  const t = (shape: number[], scale = 1) => {
    const v = randTensor(r, shape);
    v.data.forEach((a, i) => (v.data[i] = a * scale));
    return v;
  };
  const w = {
    w1: t([1, 1, s.c, s.m1], 0.7), b1: t([s.m1], 0.3),
    w2: t([1, 1, s.m1, s.m2], 0.4), b2: t([s.m2], 0.3),
    w3: t([3, 3, s.m2, s.c], 0.2), b3: t([s.c], 0.3),
  };
  const mask = (m: number) => Float32Array.from({ length: m }, () => (r.next() < 0.3 ? 0 : 1));
  const gate = (m: number) => ({ gate: t([m]), mask: mask(m), worth });
  return { x: t([s.n, s.h, s.w, s.c]), other: t([s.n, s.h, s.w, s.c]), w, gates: gated ? { c: gate(s.c), m1: gate(s.m1), m2: gate(s.m2) } : {} };
}

const gatesOf = (b: Block) => [b.gates.c, b.gates.m1, b.gates.m2].flatMap((g) => (g ? [g] : []));
const leaves = (b: Block) => [b.x, b.other, ...Object.values(b.w), ...gatesOf(b).map((g) => g.gate)];

/** Output and every leaf's gradient of Σ proj·block(...) on backend `be`. */
function run(be: Backend, b: Block, residual: 'x' | 'other' | 'none'): Float32Array[] {
  return on(be, () => {
    for (const l of leaves(b)) l.grad = null;
    const y = wdsrBlock(b.x, residual === 'x' ? b.x : residual === 'other' ? b.other : null, b.w, b.gates);
    y.backward(Float32Array.from({ length: y.size }, (_, i) => Math.sin(i)));
    return [y.data, ...leaves(b).map((l) => l.grad ?? new Float32Array(l.size))];
  });
}

test('the fused block op computes what the composed ops compute: output and every gradient', { skip }, () => {
  const shapes = [{ n: 3, h: 5, w: 6, c: 5, m1: 13, m2: 7 }, { n: 2, h: 7, w: 9, c: 24, m1: 144, m2: 20 }];
  let seed = 1;
  for (const s of shapes)
    for (const [gated, worth] of [[false, 'straight-through'], [true, 'straight-through'], [true, 'taylor']] as const)
      for (const residual of ['x', 'other', 'none'] as const) {
        const b = block(seed++, s, gated, worth);
        const want = run(ref, b, residual);
        const got = run(native, b, residual);
        const names = ['y', 'x', 'other', ...Object.keys(b.w), ...(gated ? ['gc', 'g1', 'g2'] : [])];
        got.forEach((g, i) => close(g, want[i], `${names[i]} of ${JSON.stringify(s)} gated=${gated} ${worth} residual=${residual}`));
        if (gated) for (const g of gatesOf(b)) assert.ok(g.gate.grad!.some((v) => v !== 0), 'the gate gradients are not all zero');
      }
});

test('the fused path agrees with finite differences, and its gate gradients with the derivative in the mask', { skip }, () => {
  const b = block(42, { n: 2, h: 4, w: 5, c: 5, m1: 13, m2: 7 }, true);
  // Continuous masks: the straight-through gradient of a gate is the derivative of the loss in its mask.
  for (const g of gatesOf(b)) g.mask.forEach((_, i) => (g.mask[i] = 0.5 + 0.1 * i));
  for (const g of gatesOf(b)) Object.assign(g, { gate: new Tensor(g.gate.data, g.gate.shape, false) });
  on(native, () => {
    // ReLU's kinks break finite differences where a value sits near 0; a small h keeps probes off them.
    checkGrad((x, w1, b1, w2, b2, w3, b3) => wdsrBlock(x, x, { w1, b1, w2, b2, w3, b3 }, b.gates), [b.x, ...Object.values(b.w)], { h: 1e-3, tol: 1e-2 });
    for (const g of gatesOf(b)) g.gate = new Tensor(g.gate.data, g.gate.shape, true);
    const proj = Float32Array.from({ length: b.x.size }, (_, i) => Math.cos(i));
    const loss = () => {
      const y = wdsrBlock(b.x, b.x, b.w, b.gates).data;
      return y.reduce((a, v, i) => a + v * proj[i], 0);
    };
    wdsrBlock(b.x, b.x, b.w, b.gates).backward(proj);
    // The input gate acts before the ReLU (a kink within ±h breaks the difference), the others after it
    // (linear): the same small h and tolerance as the other ReLU checks.
    for (const g of gatesOf(b))
      for (let i = 0; i < g.mask.length; i++) {
        const m = g.mask[i];
        g.mask[i] = m + 1e-3;
        const up = loss();
        g.mask[i] = m - 1e-3;
        const down = loss();
        g.mask[i] = m;
        const fd = (up - down) / 2e-3;
        assert.ok(Math.abs(fd - g.gate.grad![i]) <= 1e-2 * Math.max(1, Math.abs(fd)), `gate channel ${i}: ${g.gate.grad![i]} vs finite difference ${fd}`);
      }
  });
});

test('the gated supernet, a block skipped, trains the same fused as composed on the reference backend', { skip }, () => {
  const spec = parseArch('{"arch":"wdsr-b","channels":10,"blocks":[{"m1":13,"m2":9},{"m1":21,"m2":10},{"m1":12,"m2":9}]}', 2) as WdsrSpec;
  for (const worth of ['straight-through', 'taylor'] as const) {
    const grads = (be: Backend) =>
      on(be, () => {
        const net = Supernet.init(spec, 3);
        const r = new Rng(3);
        for (const g of net.widthGates()) g.data.forEach((_, i) => (g.data[i] = r.next()));
        net.gates.blocks[1].skip.data[0] = 0.9;
        net.gates.blocks[1].keep.data[0] = 0.3;
        for (const [name, p] of net.model.params) if (name.endsWith('.b')) p.data.forEach((_, i) => (p.data[i] = r.uniform(-0.1, 0.1)));
        const x = randTensor(new Rng(4), [2, 6, 7, 3], false, 0, 1);
        const target = randTensor(new Rng(5), [2, 12, 14, 3], false, 0, 1);
        const loss = ops.l1Loss(net.forward(x, { widths: true, depth: true }, worth), target);
        loss.backward();
        const tensors = [...net.model.params.values(), ...net.widthGates(), ...net.depthGates()];
        return { loss: loss.data, grads: tensors.map((t) => t.grad ?? new Float32Array(t.size)) };
      });
    const want = grads(ref);
    const got = grads(native);
    close(got.loss, want.loss, `${worth} loss`, 1e-5);
    got.grads.forEach((g, i) => close(g, want.grads[i], `${worth} gradient ${i}`, 1e-3));
  }
});
