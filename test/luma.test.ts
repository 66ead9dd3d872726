// WDSR-B's luminance body (models/wdsr.ts `luma`): its fixed luma conv composes into the head and its tail's
// s² outputs are repeated over R, G and B by the sum with the skip, so the compiled network has the RGB
// network's convs but a tail of a third the outputs, and computes Model.forward of the luma one; the body
// moves R, G and B alike (Y only, Cb and Cr untouched); every target and the ONNX export run the compiled form
// (targets.test.ts runs every target on a luma network too).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findToolchain } from '../src/backends/native/compile.js';
import { buildGraph } from '../src/compiler/build.js';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { interpret } from '../src/compiler/interpret.js';
import { type Graph, macsPerPixel } from '../src/compiler/ir.js';
import { fuseStages } from '../src/compiler/fuse.js';
import { foldWeightNorm } from '../src/compiler/passes.js';
import { foldBranches } from '../src/compiler/reparam.js';
import { exportOnnx, onnxOpCounts } from '../src/export/onnx.js';
import { ortRun, ortSession } from '../src/export/ort.js';
import { Tensor } from '../src/engine/tensor.js';
import { convWeight, setConvWeight } from '../src/models/layers.js';
import { convs, Model } from '../src/models/model.js';
import { validateSpec } from '../src/models/registry.js';
import { BRANCH_KINDS } from '../src/models/reparam.js';
import { getTarget } from '../src/targets/registry.js';
import { Rng } from '../src/util/random.js';
import { forward, maxAbsDiff, randomImage, randomModel } from './compiler-support.js';
import { randTensor } from './support/gradcheck.js';

const tc = findToolchain();
const noCc = tc ? false : 'no C compiler with OpenMP';
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-luma-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

const FIELDS = { channels: 5, blocks: [{ m1: 37, m2: 5 }, { m1: 7, m2: 3 }] };
const spec = (extra: Record<string, unknown> = {}) => JSON.stringify({ arch: 'wdsr-b', ...FIELDS, ...extra });

function assertClose(got: ArrayLike<number>, want: Float32Array, what: string, tol = 2e-6): void {
  const scale = Math.max(1, ...want.map(Math.abs));
  const d = maxAbsDiff(got, want);
  assert.ok(d <= tol * scale, `${what}: max |Δ| = ${d.toExponential(2)} for outputs up to ${scale.toFixed(2)}`);
}

const convShapes = (g: Graph) => g.nodes.map((n) => (n.op === 'conv' ? `${n.name} k${n.k} ${n.cin}→${n.cout} pad ${n.pad}${n.relu ? ' relu' : ''}` : n.op));

test('a luma body compiles to the RGB network\'s convs with an s²-output tail repeated over R, G and B, and computes its own forward, with and without branches', () => {
  const [h, w] = [9, 11];
  const x = randomImage(new Rng(3), h, w);
  for (const s of [2, 3, 4]) {
    const plainModel = randomModel(spec(), s, 1);
    // The RGB network's convs, its tail with s² outputs instead of 3s²; the sum after it repeats them.
    const rgb = convShapes(optimizedGraph(plainModel)).map((c) => c.replace(`tail k3 5→${3 * s * s} `, `tail k3 5→${s * s} `));
    const tailSaved = 3 * 3 * 5 * 2 * s * s;
    for (const reparam of [undefined, { branches: [...BRANCH_KINDS], expand: 2 }]) {
      const what = `×${s}${reparam ? ' branched' : ''}`;
      const m = randomModel(spec({ luma: true, ...(reparam ? { reparam } : {}) }), s, s);
      const want = forward(m, x, h, w);
      const unfolded = foldWeightNorm(buildGraph(m));
      assert.deepEqual(unfolded.nodes.filter((n) => n.op === 'conv' && n.fixed).map((n) => n.op === 'conv' && `${n.name} ${n.cin}→${n.cout}`), ['head.luma 3→1', `tail.rgb ${s * s}→${3 * s * s}`], what);
      assertClose(interpret(unfolded, x, h, w), want, `${what} unfolded`);
      const g = optimizedGraph(m);
      assert.deepEqual(convShapes(g), rgb, `${what}: the compiled graph is not the RGB network's with an s²-output tail`);
      assertClose(interpret(g, x, h, w), want, `${what} compiled`);
      assert.equal(m.macs(h, w), macsPerPixel(g) * h * w, `${what}: MACs are the deployed network's`);
      assert.equal(m.macs(h, w), plainModel.macs(h, w) - tailSaved * h * w, `${what}: the tail's MACs are a third of the RGB tail's`);
      assert.equal(m.paramCount, plainModel.paramCount - tailSaved - 2 * s * s, `${what}: parameters are the deployed network's`);
      // Fused, the tail is a stage of its own and the skip's stage repeats it as its residual.
      const last = fuseStages(g).nodes.at(-1)!;
      assert.ok(last.op === 'stage' && last.residualChannels === s * s && last.shuffle === s, `${what}: the final stage ${last.op === 'stage' ? last.name : last.op} repeats no s²-channel residual`);
      assertClose(interpret(fuseStages(g), x, h, w), want, `${what} fused`);
    }
  }
});

test('the luma body moves R, G and B alike: Y changes, Cb and Cr are the skip\'s', () => {
  const [h, w] = [6, 7];
  const x = randomImage(new Rng(5), h, w);
  const m = randomModel(spec({ luma: true }), 3, 9);
  // Without the tail (zero gains and bias), only the skip is left.
  const params = new Map(m.params);
  for (const k of ['tail.g', 'tail.b']) params.set(k, randTensor(new Rng(1), [...m.params.get(k)!.shape], true, 0, 0));
  const skipOnly = forward(new Model(m.spec, params), x, h, w);
  const full = forward(m, x, h, w);
  let moved = 0;
  for (let i = 0; i < full.length; i += 3) {
    const d = [0, 1, 2].map((c) => full[i + c] - skipOnly[i + c]);
    assert.ok(Math.abs(d[0] - d[1]) < 1e-6 && Math.abs(d[0] - d[2]) < 1e-6, `pixel ${i / 3}: the body moves R, G, B by ${d}`);
    moved = Math.max(moved, Math.abs(d[0]));
  }
  assert.ok(moved > 1e-3, 'the body moves nothing');
});

test('a plain network\'s luminance body computes on grey images what it computes with its tail\'s colours averaged', () => {
  const [h, w] = [7, 8];
  const rng = new Rng(4);
  const grey = new Float32Array(h * w * 3);
  for (let i = 0; i < h * w; i++) grey.fill(rng.next(), 3 * i, 3 * i + 3);
  for (const s of [2, 3]) {
    const m = randomModel(spec(), s, 10 + s);
    const body = m.luma();
    assert.equal(body.spec.arch === 'wdsr-b' && body.spec.luma, true);
    // The plain network with each sub-pixel's tail weights and bias replaced by their mean over R, G and B.
    const n = s * s;
    const tail = convs(m.spec).find((c) => c.name === 'tail')!;
    const wt = convWeight(m.params, tail).data;
    const avg = (a: Float32Array, i: number) => {
      const [at, p] = [i - (i % (3 * n)), i % n];
      return (a[at + p] + a[at + n + p] + a[at + 2 * n + p]) / 3;
    };
    const averaged = new Map(m.params);
    setConvWeight(averaged, tail, Float32Array.from(wt, (_, i) => avg(wt, i)));
    const bt = m.params.get('tail.b')!.data;
    averaged.set('tail.b', new Tensor(Float32Array.from(bt, (_, i) => avg(bt, i)), [3 * n], true));
    assertClose(forward(body, grey, h, w), forward(new Model(m.spec, averaged), grey, h, w), `×${s} grey`, 1e-5);
    // On colour the two differ: the body sees Y only.
    const x = randomImage(new Rng(s), h, w);
    assert.ok(maxAbsDiff(forward(body, x, h, w), forward(new Model(m.spec, averaged), x, h, w)) > 1e-3, `×${s} colour`);
    assert.equal(body.luma(), body, 'a luminance body is its own');
  }
  assert.throws(() => randomModel('espcn', 2, 1).luma(), /espcn has no luminance body \(wdsr-b has\)/);
  const branched = randomModel(spec({ reparam: { branches: ['1x1'], expand: 2 } }), 2, 1);
  assert.throws(() => branched.luma(), /has training branches: a luminance body is made from the plain network/);
});

test('luma specs: the field is a boolean; a fixed conv that cannot compose is refused by name', () => {
  assert.equal(validateSpec({ arch: 'wdsr-b', scale: 2, ...FIELDS, luma: true }).arch, 'wdsr-b');
  assert.equal('luma' in validateSpec({ arch: 'wdsr-b', scale: 2, ...FIELDS, luma: false }), false, 'false is the plain spec');
  assert.throws(() => validateSpec({ arch: 'wdsr-b', scale: 2, ...FIELDS, luma: 'yes' }), /wdsr-b spec: 'luma' must be true or false, got "yes"/);
  // A ReLU on the luma conv would put a non-linearity between it and the head.
  const g = foldWeightNorm(buildGraph(randomModel(spec({ luma: true }), 2, 2)));
  const relu: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === 'conv' && n.name === 'head.luma' ? { ...n, relu: true } : n)) };
  assert.throws(() => foldBranches(relu), /the fixed conv conv 'head\.luma' \(k1 3→1\) does not compose into conv 'head'/);
});

test('the native and wasm targets and the ONNX export run the compiled form', { skip: noCc }, async () => {
  const m = randomModel(spec({ luma: true, reparam: { branches: ['1x1', '1x1-kxk'], expand: 2 } }), 2, 8);
  const [h, w] = [10, 13];
  const x = randomImage(new Rng(2), h, w);
  const want = forward(m, x, h, w);
  for (const target of [await getTarget('native'), await getTarget('wasm')]) {
    const c = await compile(m, { target, tune: false, cacheDir, threads: 2 });
    try {
      assertClose(await c.run(x, h, w), want, target.name, 1e-5);
    } finally {
      await c.dispose();
    }
  }
  // The RGB network's nodes and one Concat: the tail's 4 outputs three times side by side, for the sum.
  assert.deepEqual(onnxOpCounts(exportOnnx(m)), { ...onnxOpCounts(exportOnnx(randomModel(spec(), 2, 8))), Concat: 1 });
  const session = await ortSession(exportOnnx(m));
  const xt = randTensor(new Rng(6), [1, h, w, 3], false, 0, 1);
  try {
    assertClose((await ortRun(session, xt)).data, m.forward(xt).data, 'onnxruntime', 1e-5);
  } finally {
    await session.release();
  }
});
