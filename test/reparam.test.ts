// Training-time branches (models/reparam.ts) and the pass that folds them (compiler/reparam.ts): for every
// branch kind on every architecture, with random weights, the folded graph computes Model.forward of the
// branched model (float32 rounding only) with exactly the plain model's convs; gradients of a branched conv
// against finite differences; every target and the ONNX export run the folded form.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findToolchain } from '../src/backends/native/compile.js';
import { createNativeBackend } from '../src/backends/native/index.js';
import { referenceBackend } from '../src/backends/reference.js';
import { buildGraph } from '../src/compiler/build.js';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { interpret } from '../src/compiler/interpret.js';
import { type Graph, macsPerPixel } from '../src/compiler/ir.js';
import { foldWeightNorm } from '../src/compiler/passes.js';
import { foldBranches } from '../src/compiler/reparam.js';
import * as ops from '../src/engine/ops.js';
import { Tensor, useBackend } from '../src/engine/tensor.js';
import { exportOnnx, onnxOpCounts } from '../src/export/onnx.js';
import { ortRun, ortSession } from '../src/export/ort.js';
import type { ConvDef } from '../src/models/arch.js';
import { applyConv } from '../src/models/layers.js';
import { decodeModel, encodeModel } from '../src/models/model-file.js';
import { convs, Model } from '../src/models/model.js';
import { parseArch, validateSpec } from '../src/models/registry.js';
import { BRANCH_KINDS, branchConvs, withReparam } from '../src/models/reparam.js';
import { getTarget } from '../src/targets/registry.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import { Rng } from '../src/util/random.js';
import { forward, maxAbsDiff, randomImage, randomModel } from './compiler-support.js';
import { checkGrad, randTensor } from './support/gradcheck.js';

const tc = findToolchain();
const noCc = tc ? false : 'no C compiler with OpenMP';
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-reparam-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

/** Each architecture with widths where an identity branch applies somewhere (cin = cout) and odd elsewhere. */
const ARCHS: [string, Record<string, unknown>, number][] = [
  ['wdsr-b', { channels: 5, blocks: [{ m1: 37, m2: 5 }, { m1: 7, m2: 3 }] }, 2],
  ['espcn', { f1: 6, f2: 6 }, 3],
  ['fsrcnn-d2s', { d: 7, s: 3, m: 2 }, 4],
];
const KINDS: string[][] = [...BRANCH_KINDS.map((k) => [k]), [...BRANCH_KINDS]];

const specText = (arch: string, fields: Record<string, unknown>, branches?: string[], expand = 2) =>
  JSON.stringify({ arch, ...fields, ...(branches ? { reparam: { branches, expand } } : {}) });

/** Within float32 rounding of the output's size. */
function assertClose(got: ArrayLike<number>, want: Float32Array, what: string, tol = 2e-6): void {
  const scale = Math.max(1, ...want.map(Math.abs));
  const d = maxAbsDiff(got, want);
  assert.ok(d <= tol * scale, `${what}: max |Δ| = ${d.toExponential(2)} for outputs up to ${scale.toFixed(2)}`);
}

/** What a target sees of a graph: node kinds, conv shapes, pads, ReLUs and the fused stages. */
function shapes(g: Graph) {
  return {
    nodes: g.nodes.map((n) => (n.op === 'conv' ? { conv: n.name, k: n.k, cin: n.cin, cout: n.cout, pad: n.pad, relu: n.relu } : { op: n.op })),
    stages: stagesOf(fuseStages(g)).map((s) => ({ name: s.name, terms: s.terms.map((t) => [t.k, t.cin, t.cout, t.chain.length]), residual: s.residual !== null, shuffle: s.shuffle })),
    macs: macsPerPixel(g),
  };
}

const isBranch = (n: Graph['nodes'][number]) => n.op === 'conv' && n.branchOf !== undefined;

test('every branch kind on every architecture folds to the plain convs, computing the branched forward', () => {
  const [h, w] = [9, 11];
  const x = randomImage(new Rng(3), h, w);
  let seed = 0;
  for (const [arch, fields, s] of ARCHS) {
    const plain = optimizedGraph(randomModel(specText(arch, fields), s, 1));
    for (const kinds of KINDS) {
      const what = `${arch} ×${s} [${kinds}]`;
      const m = randomModel(specText(arch, fields, kinds), s, seed++);
      const want = forward(m, x, h, w);
      // The training graph carries every branch conv; interpreted as is, it is the forward pass.
      const unfolded = foldWeightNorm(buildGraph(m));
      assert.equal(unfolded.nodes.filter(isBranch).length, branchConvs(convs(m.spec)).length, what);
      assertClose(interpret(unfolded, x, h, w), want, `${what} unfolded`);
      const g = optimizedGraph(m);
      assert.ok(!g.nodes.some(isBranch), `${what}: a branch conv is left`);
      assert.deepEqual(shapes(g), shapes(plain), `${what}: the folded graph is not the plain model's`);
      assertClose(interpret(g, x, h, w), want, `${what} folded`);
      // The branches are not dropped: without them the same convs compute something else (far beyond rounding).
      const mains = new Map([...m.params].filter(([k]) => !k.includes('.rep.')));
      const noBranches = new Model(withReparam(m.spec, undefined), mains);
      assert.ok(maxAbsDiff(forward(noBranches, x, h, w), want) > 1e-3, `${what}: the branches change nothing`);
    }
  }
});

test('the inner width follows expand; a 1×1 conv gets no branches; identity only where cin = cout', () => {
  const spec = parseArch(specText('wdsr-b', { channels: 4, blocks: [{ m1: 8, m2: 5 }] }, ['identity', '1x1-kxk', 'kxk-1x1'], 3), 2);
  const names = branchConvs(convs(spec)).map((c) => `${c.name} k${c.k} ${c.cin}→${c.cout}`);
  // 1×1→k×k widens the inputs, k×k→1×1 the outputs: either costs `expand` times the conv.
  assert.deepEqual(names.filter((n) => n.startsWith('blocks.0.') || n.startsWith('skip.')), [
    'blocks.0.conv.rep.1x1-kxk.a k1 5→15',
    'blocks.0.conv.rep.1x1-kxk.b k3 15→4',
    'blocks.0.conv.rep.kxk-1x1.a k3 5→12',
    'blocks.0.conv.rep.kxk-1x1.b k1 12→4',
    'skip.rep.1x1-kxk.a k1 3→9',
    'skip.rep.1x1-kxk.b k5 9→12',
    'skip.rep.kxk-1x1.a k5 3→36',
    'skip.rep.kxk-1x1.b k1 36→12',
  ]);
  assert.ok(!names.some((n) => /expand|reduce/.test(n)), '1×1 convs have no branches');
  const m = Model.init(spec, 0);
  // Deployed counts: the branches fold away.
  const plain = Model.init(withReparam(spec, undefined), 0);
  assert.equal(m.paramCount, plain.paramCount);
  assert.equal(m.macs(10, 10), plain.macs(10, 10));
  // The main convs start as the plain model's; each branch's last conv at zero.
  for (const [k, p] of plain.params) assert.deepEqual(m.params.get(k)!.data, p.data, k);
  assert.ok(m.params.get('head.rep.1x1-kxk.b.w')!.data.every((v) => v === 0));
  assert.ok(m.params.get('head.rep.1x1-kxk.a.w')!.data.some((v) => v !== 0));
});

test('reparam specs: canonical order, defaults, and errors that name the field', () => {
  const spec = validateSpec({ arch: 'espcn', scale: 2, reparam: { branches: ['kxk-1x1', '1x1'] } });
  assert.deepEqual(spec.reparam, { branches: ['1x1', 'kxk-1x1'], expand: 2 });
  assert.equal('reparam' in validateSpec({ arch: 'espcn', scale: 2 }), false, 'a plain spec keeps its shape');
  const bad: [unknown, RegExp][] = [
    [{ branches: ['3x3'] }, /'reparam' needs 'branches', a non-empty list of branch kinds.*kinds: 1x1, identity, 1x1-kxk, kxk-1x1/],
    [{ branches: [] }, /non-empty list/],
    [{ branches: ['1x1', '1x1'] }, /lists a branch kind twice/],
    [{ branches: ['1x1'], expand: 0 }, /'expand' must be an integer in \[1, 16\]/],
    [{ branches: ['1x1'], width: 2 }, /unknown field 'width'/],
    ['1x1', /must be an object/],
  ];
  for (const [reparam, message] of bad) assert.throws(() => validateSpec({ arch: 'fsrcnn-d2s', scale: 2, reparam }), message);
});

test('a model file keeps the training form and compiles to the folded one', async () => {
  const m = randomModel(specText('fsrcnn-d2s', { d: 6, s: 4, m: 1 }, ['1x1', '1x1-kxk']), 2, 5);
  const bytes = encodeModel(m);
  const joined = new Uint8Array(bytes.reduce((a, b) => a + b.length, 0));
  bytes.reduce((at, b) => (joined.set(b, at), at + b.length), 0);
  const back = decodeModel(joined, 'test').model;
  assert.deepEqual(back.spec, m.spec);
  assert.deepEqual([...back.params.keys()].sort(), [...m.params.keys()].sort());
  const [h, w] = [7, 8];
  const x = randomImage(new Rng(1), h, w);
  assertClose(await (await compile(back, { target: referenceTarget })).run(x, h, w), forward(m, x, h, w), 'reference target');
});

test('the native and wasm targets run the folded form', { skip: noCc }, async () => {
  const m = randomModel(specText('wdsr-b', { channels: 5, blocks: [{ m1: 13, m2: 5 }] }, [...BRANCH_KINDS]), 2, 8);
  const [h, w] = [10, 13];
  const x = randomImage(new Rng(2), h, w);
  const want = forward(m, x, h, w);
  const plainMacs = macsPerPixel(optimizedGraph(Model.init(withReparam(m.spec, undefined), 0)));
  for (const target of [await getTarget('native'), await getTarget('wasm')]) {
    const c = await compile(m, { target, tune: false, cacheDir, threads: 2 });
    try {
      assert.equal(c.macs(1, 1), plainMacs, target.name);
      assertClose(await c.run(x, h, w), want, target.name, 1e-5);
    } finally {
      await c.dispose();
    }
  }
});

test('ONNX export writes the folded graph: the plain model\'s ops, the branched model\'s outputs', async () => {
  const spec = specText('espcn', { f1: 6, f2: 6 }, [...BRANCH_KINDS]);
  const m = randomModel(spec, 2, 4);
  assert.deepEqual(onnxOpCounts(exportOnnx(m)), onnxOpCounts(exportOnnx(randomModel(specText('espcn', { f1: 6, f2: 6 }), 2, 4))));
  const session = await ortSession(exportOnnx(m));
  try {
    const x = randTensor(new Rng(6), [1, 6, 7, 3], false, 0, 1);
    const want = m.forward(x).data;
    assertClose((await ortRun(session, x)).data, want, 'onnxruntime', 1e-5);
  } finally {
    await session.release();
  }
});

test('what cannot fold exactly is refused, naming the branch', () => {
  const m = randomModel(specText('espcn', { f1: 4, f2: 5 }, ['1x1-kxk']), 2, 2);
  const g = foldWeightNorm(buildGraph(m));
  // A ReLU on the main conv before the sum, or a bias inside the 1×1→k×k chain (seen nowhere along the
  // zero-padded border), would make the fold wrong: neither folds.
  const reluFirst: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === 'conv' && n.name === 'conv2' ? { ...n, relu: true } : n)) };
  assert.throws(() => foldBranches(reluFirst), /the training branch conv 'conv2\.rep\.1x1-kxk\.b' \(k3 4→5\) does not fold into conv 'conv2'/);
  const biased: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === 'conv' && n.name === 'conv1.rep.1x1-kxk.a' ? { ...n, b: new Float32Array(n.cout).fill(0.1) } : n)) };
  assert.throws(() => foldBranches(biased), /the training branch conv 'conv1\.rep\.1x1-kxk\.a' \(k1 3→6\) does not fold into conv 'conv1'/);
  assert.throws(() => buildGraph(m, new Map([['conv2', [1, 1, 1, 1, 1]]])), /gate on conv 'conv2', which has training branches/);
  // Plain models' graphs pass through untouched.
  const plain = foldWeightNorm(buildGraph(randomModel('espcn', 2, 2)));
  assert.equal(foldBranches(plain).nodes.length, plain.nodes.length);
  assert.ok(foldBranches(plain).nodes.every((n, i) => n === plain.nodes[i]));
});

/** A branched conv as a function of its input and every parameter, for finite differences. */
function branchedConv(kinds: string[], relu: boolean, cin: number, cout: number) {
  const spec = validateSpec({ arch: 'espcn', scale: 2, f1: cin, f2: cout, reparam: { branches: kinds, expand: 2 } });
  const def = convs(spec).find((c) => c.name === 'conv2')!;
  const wn: ConvDef = { ...def, weightNorm: true };
  const rng = new Rng(cin * 31 + cout);
  const pieces = branchConvs([wn]);
  const names = ['conv2.v', 'conv2.g', 'conv2.b', ...pieces.map((p) => `${p.name}.w`)];
  const shapes = [[3, 3, cin, cout], [cout], [cout], ...pieces.map((p) => [p.k, p.k, p.cin, p.cout])];
  const inputs = [randTensor(rng, [2, 5, 4, cin]), ...shapes.map((s) => randTensor(rng, s))];
  const f = (x: Tensor, ...ps: Tensor[]) => applyConv(new Map(names.map((n, i) => [n, ps[i]])), wn, x, relu);
  return { f, inputs };
}

test('gradients of a branched, weight-normalised conv against finite differences, every kind', () => {
  for (const kinds of KINDS) {
    const { f, inputs } = branchedConv(kinds, false, 4, 4);
    checkGrad(f, inputs, { probes: 12 });
  }
  // With its ReLU after the sum (a small step keeps probes off the kink).
  const { f, inputs } = branchedConv(['1x1', '1x1-kxk'], true, 3, 5);
  checkGrad(f, inputs, { h: 1e-3, tol: 1e-2, probes: 12 });
});

test('training folds the branches into their convs first: the same loss and gradients as the branches run apart', () => {
  // Branches apart is how the export tracer runs them (one conv each, summed); training folds them into the
  // conv's weight (engine/conv-weights.ts), which lets the fused WDSR-B block train a branched block.
  const apart = { ...referenceBackend, branchesApart: true };
  const rng = new Rng(11);
  let seed = 40;
  for (const [arch, fields, s] of ARCHS)
    for (const kinds of KINDS) {
      const what = `${arch} ×${s} [${kinds}]`;
      const spec = specText(arch, fields, kinds);
      const x = randTensor(rng, [2, 6, 5, 3], false, 0, 1);
      const hr = randTensor(rng, [2, 6 * s, 5 * s, 3], false, 0, 1);
      const modelSeed = seed++;
      const run = (be: Parameters<typeof useBackend>[0]) => {
        useBackend(be);
        try {
          const m = randomModel(spec, s, modelSeed);
          const y = m.forward(x);
          const loss = ops.l1Loss(y, hr);
          loss.backward();
          return { y: y.data, grads: new Map([...m.params].map(([k, p]) => [k, p.grad!])) };
        } finally {
          useBackend(referenceBackend);
        }
      };
      const [folded, ref] = [run(referenceBackend), run(apart)];
      assertClose(folded.y, ref.y, `${what} output`);
      for (const [k, g] of ref.grads) assertClose(folded.grads.get(k)!, g, `${what} ∂L/∂${k}`, 1e-5);
    }
});

test('a branched model trains on the native backend as on the reference one (its extra conv shapes included)', { skip: noCc }, () => {
  const spec = parseArch(specText('wdsr-b', { channels: 4, blocks: [{ m1: 9, m2: 4 }] }, [...BRANCH_KINDS]), 2);
  const rng = new Rng(7);
  const x = randTensor(rng, [2, 6, 7, 3], false, 0, 1);
  const hr = randTensor(rng, [2, 12, 14, 3], false, 0, 1);
  const run = (be: Parameters<typeof useBackend>[0]) => {
    useBackend(be);
    try {
      const m = randomModel(JSON.stringify(spec), 2, 3);
      const loss = ops.l1Loss(m.forward(x), hr);
      loss.backward();
      return { loss: loss.data[0], grads: new Map([...m.params].map(([k, p]) => [k, p.grad!])) };
    } finally {
      useBackend(referenceBackend);
    }
  };
  const ref = run(referenceBackend);
  const nat = run(createNativeBackend({ cacheDir }));
  assert.ok(Math.abs(nat.loss - ref.loss) <= 1e-5 * ref.loss);
  for (const [k, g] of ref.grads) {
    assert.ok(nat.grads.get(k), `${k}: no gradient on native`);
    assertClose(nat.grads.get(k)!, g, `∂L/∂${k}`, 1e-4);
  }
  assert.ok([...ref.grads.keys()].some((k) => k.includes('.rep.')) && [...ref.grads].every(([, g]) => g.some((v) => v !== 0)));
});
