// The compiler's graph passes against the unfused reference (Model.forward and the interpreter on explicit
// gate nodes), fusion's structure, tiling, and the reference backend of compile(). No C compiler needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGraph, wdsrGates, type WdsrGates } from '../src/compiler/build.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { interpret } from '../src/compiler/interpret.js';
import { type ConvNode, type Graph, INPUT } from '../src/compiler/ir.js';
import { foldAffine, foldGates, foldWeightNorm, fuseRelu } from '../src/compiler/passes.js';
import { eliminateDead, pruneChannels } from '../src/compiler/prune.js';
import { planTiles, receptiveRadius } from '../src/compiler/tiles.js';
import { Tensor } from '../src/engine/tensor.js';
import { fromFloat, rgbImage, toFloat } from '../src/image/image.js';
import { Model } from '../src/models/model.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { Rng } from '../src/util/random.js';
import { forward, maxAbsDiff, randomImage, randomModel, WDSR_ODD } from './compiler-support.js';

const convsOf = (g: Graph) => g.nodes.filter((n): n is ConvNode => n.op === 'conv');

test('every pass keeps Model.forward, for every architecture and scale', () => {
  const rng = new Rng(1);
  const cases: [string, number][] = [
    [WDSR_ODD, 2],
    [WDSR_ODD, 3],
    ['espcn', 3],
    ['fsrcnn-d2s', 2],
    ['{"arch":"fsrcnn-d2s","d":7,"s":3,"m":0}', 4],
  ];
  for (const [spec, s] of cases) {
    const m = randomModel(spec, s, 7);
    const [h, w] = [9, 11];
    const x = randomImage(rng, h, w);
    const want = forward(m, x, h, w);
    let g = buildGraph(m);
    const passes: [string, (g: Graph) => Graph, (g: Graph) => boolean][] = [
      ['foldWeightNorm', foldWeightNorm, (g) => convsOf(g).every((c) => c.g === null)],
      ['foldGates', foldGates, (g) => g.nodes.every((n) => n.op !== 'gate')],
      ['fuseRelu', fuseRelu, (g) => g.nodes.every((n) => n.op !== 'relu')],
      ['foldAffine', foldAffine, (g) => g.nodes.every((n) => n.op !== 'affine')],
      ['pruneChannels', pruneChannels, () => true],
      ['eliminateDead', eliminateDead, () => true],
      ['fuseStages', fuseStages, (g) => stagesOf(g).length > 0],
    ];
    for (const [name, pass, done] of passes) {
      g = pass(g);
      assert.ok(done(g), `${spec} ×${s}: ${name} left work undone`);
      const d = maxAbsDiff(interpret(g, x, h, w), want);
      assert.ok(d <= 1e-5, `${spec} ×${s} after ${name}: max |graph − forward| = ${d}`);
    }
  }
});

test('the −0.5 input shift becomes a 0.5 pad of the raw input: exact at the borders, unlike a bias-only fold', () => {
  const m = randomModel(WDSR_ODD, 2, 3);
  const [h, w] = [16, 17];
  const x = randomImage(new Rng(2), h, w);
  const want = forward(m, x, h, w);
  const g = foldAffine(fuseRelu(foldWeightNorm(buildGraph(m))));
  const readers = convsOf(g).filter((c) => c.x === INPUT);
  assert.deepEqual(readers.map((c) => [c.name, c.pad]), [['head', 0.5], ['skip', 0.5]]);
  assert.ok(maxAbsDiff(interpret(g, x, h, w), want) <= 1e-5);
  // The same fold with zero padding is right inside the image and wrong along its border.
  const naive: Graph = { ...g, nodes: g.nodes.map((n) => (n.op === 'conv' && n.x === INPUT ? { ...n, pad: 0 } : n)) };
  const got = interpret(naive, x, h, w);
  const s = 2;
  const at = (y: number, xx: number) => (y * w * s + xx) * 3;
  const interior = at(8 * s, 8 * s); // ≥ 8 pixels from every border; the receptive radius is 5
  assert.ok(Math.abs(got[interior] - want[interior]) <= 1e-5, 'interior should agree');
  assert.ok(maxAbsDiff(got, want) > 1e-3, 'a bias-only fold should be visibly wrong at the border');
});

/** A WDSR-B model whose parameters realise non-negative gates: a gate γ on a conv's output (after its ReLU)
 *  equals scaling that conv's weight-norm gain and bias by γ. An oracle independent of the gate passes. */
function gatedByParams(m: Model, gates: WdsrGates): Model {
  const params = new Map([...m.params].map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape)]));
  const scale = (conv: string, f: (o: number) => number) => {
    for (const p of ['g', 'b']) params.get(`${conv}.${p}`)!.data.forEach((v, o, a) => (a[o] = v * f(o)));
  };
  const spec = m.spec as WdsrSpec;
  if (gates.c) scale('head', (o) => gates.c![o]);
  spec.blocks.forEach((_, i) => {
    const b = gates.blocks?.[i] ?? {};
    if (b.m1) scale(`blocks.${i}.expand`, (o) => b.m1![o]);
    if (b.m2) scale(`blocks.${i}.reduce`, (o) => b.m2![o]);
    scale(`blocks.${i}.conv`, (o) => (gates.c ? gates.c[o] : 1) * (b.keep ?? 1));
  });
  return new Model(m.spec, params);
}

function sampleGates(rng: Rng): WdsrGates {
  const gains = (n: number, zeros: number[]) => Array.from({ length: n }, (_, i) => (zeros.includes(i) ? 0 : rng.uniform(0.5, 1.5)));
  return {
    c: gains(5, [1]),
    blocks: [
      { m1: gains(37, [0, 3, 4, 17, 36]), m2: gains(11, [2, 10]) },
      { keep: 0 },
      { m1: gains(13, [5]), keep: 0.7 },
    ],
  };
}

test('gates fold, zero channels go, a skipped block disappears; the result is the gated network', async () => {
  const m = randomModel(WDSR_ODD, 2, 11);
  const gates = sampleGates(new Rng(4));
  const [h, w] = [8, 9];
  const x = randomImage(new Rng(5), h, w);
  const want = forward(gatedByParams(m, gates), x, h, w);
  const explicit = foldWeightNorm(buildGraph(m, wdsrGates(m.spec as WdsrSpec, gates)));
  // c on the head and the 3 block outputs, m1 and m2 of block 0, m1 of block 2.
  assert.equal(explicit.nodes.filter((n) => n.op === 'gate').length, 7);
  assert.ok(maxAbsDiff(interpret(explicit, x, h, w), want) <= 1e-5, 'explicit gate nodes');

  const g = optimizedGraph(m, wdsrGates(m.spec as WdsrSpec, gates));
  assert.ok(maxAbsDiff(interpret(g, x, h, w), want) <= 1e-5, 'folded and pruned');
  const widths = Object.fromEntries(convsOf(g).map((c) => [c.name, [c.cin, c.cout]]));
  assert.deepEqual(widths, {
    head: [3, 4],
    'blocks.0.expand': [4, 32],
    'blocks.0.reduce': [32, 9],
    'blocks.0.conv': [9, 4],
    'blocks.2.expand': [4, 12],
    'blocks.2.reduce': [12, 6],
    'blocks.2.conv': [6, 4],
    tail: [4, 12],
    skip: [3, 12],
  });
  const d = maxAbsDiff(await (await compile(m, { target: referenceTarget, gates: wdsrGates(m.spec as WdsrSpec, gates) })).run(x, h, w), want);
  assert.ok(d <= 1e-5, `compile(reference) with gates: ${d}`);
});

test('a negative gate after a ReLU folds into the next conv instead (exact); unknown gate names are refused', () => {
  const m = randomModel(WDSR_ODD, 2, 12);
  const spec = m.spec as WdsrSpec;
  const m1 = Array.from({ length: 37 }, (_, i) => (i % 3 === 0 ? -0.7 : i % 3 === 1 ? 0 : 1.3));
  const gates = wdsrGates(spec, { blocks: [{ m1 }] });
  const [h, w] = [5, 6];
  const x = randomImage(new Rng(6), h, w);
  const want = interpret(foldWeightNorm(buildGraph(m, gates)), x, h, w);
  const g = optimizedGraph(m, gates);
  assert.ok(maxAbsDiff(interpret(g, x, h, w), want) <= 1e-5);
  const expand = convsOf(g).find((c) => c.name === 'blocks.0.expand')!;
  assert.equal(expand.cout, 25, 'the zero-gated third of M1 is pruned');
  assert.throws(() => buildGraph(m, new Map([['blocks.9.expand', [1]]])), /gates name convs the model does not have: blocks\.9\.expand/);
  assert.throws(() => wdsrGates(spec, { c: [1, 1] }), /'head' needs 5 values, got 2/);
});

test('fusion: WDSR-B blocks become one stage each (chain + residual), tail and skip one shuffling stage', () => {
  const summary = (spec: string) =>
    stagesOf(fuseStages(optimizedGraph(randomModel(spec, 2, 1)))).map((s) => ({
      terms: s.terms.map((t) => `${t.x === INPUT ? 'raw' : 'planar'} chain${t.chain.length} k${t.k} pad${t.pad}`),
      residual: s.residual !== null,
      shuffle: s.shuffle,
    }));
  const block = { terms: ['planar chain2 k3 pad0'], residual: true, shuffle: 1 };
  assert.deepEqual(summary(WDSR_ODD), [
    { terms: ['raw chain0 k3 pad0.5'], residual: false, shuffle: 1 },
    block,
    block,
    block,
    { terms: ['planar chain0 k3 pad0', 'raw chain0 k5 pad0.5'], residual: false, shuffle: 2 },
  ]);
  assert.deepEqual(
    summary('espcn').map((s) => s.terms[0]),
    ['raw chain0 k5 pad0', 'planar chain0 k3 pad0', 'planar chain0 k3 pad0'],
  );
  assert.deepEqual(
    summary('{"arch":"fsrcnn-d2s","d":7,"s":3,"m":0}').map((s) => s.terms[0]),
    ['raw chain0 k5 pad0', 'planar chain2 k3 pad0'],
  );
});

test('tiles cover the frame exactly once, windows carry the receptive-field halo, the budget holds', () => {
  assert.equal(receptiveRadius(optimizedGraph(randomModel(WDSR_ODD, 2, 1))), 5);
  assert.equal(receptiveRadius(fuseStages(optimizedGraph(randomModel('espcn', 2, 1)))), 4);
  const bytes = (h: number, w: number) => h * w * 100;
  for (const [h, w, budget] of [
    [37, 53, 1e9],
    [37, 53, 60_000],
    [37, 53, 9_000],
    [5, 200, 30_000],
  ]) {
    const tiles = planTiles(h, w, 3, budget, bytes);
    const seen = new Uint8Array(h * w);
    for (const { win, keep } of tiles) {
      assert.ok(bytes(win.h, win.w) <= budget, `window ${win.w}x${win.h} over budget ${budget}`);
      assert.equal(win.x, Math.max(0, keep.x - 3));
      assert.equal(win.y, Math.max(0, keep.y - 3));
      assert.equal(win.x + win.w, Math.min(w, keep.x + keep.w + 3));
      assert.equal(win.y + win.h, Math.min(h, keep.y + keep.h + 3));
      for (let y = keep.y; y < keep.y + keep.h; y++) for (let x = keep.x; x < keep.x + keep.w; x++) seen[y * w + x]++;
    }
    assert.ok(seen.every((v) => v === 1), `${w}x${h} at ${budget}: not an exact cover`);
    if (budget === 1e9) assert.equal(tiles.length, 1);
    else assert.ok(tiles.length > 1);
  }
  assert.throws(() => planTiles(10, 10, 3, 100, bytes), /memory budget of 100 bytes is too small/);
});

test('compile(reference): run equals Model.forward, tiled equals untiled, runImage rounds like fromFloat', async () => {
  const m = randomModel(WDSR_ODD, 3, 5);
  const [h, w] = [13, 17];
  const x = randomImage(new Rng(8), h, w);
  const whole = await compile(m, { target: referenceTarget });
  const tiled = await compile(m, { target: referenceTarget, memoryBudgetBytes: 150_000 });
  assert.equal(whole.tiles(h, w).length, 1);
  assert.ok(tiled.tiles(h, w).length > 2);
  const y = await whole.run(x, h, w);
  assert.ok(maxAbsDiff(y, forward(m, x, h, w)) <= 1e-5);
  assert.ok(maxAbsDiff(await tiled.run(x, h, w), y) <= 1e-5);
  const img = rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 97) & 255));
  assert.deepEqual(await tiled.runImage(img), fromFloat(await whole.run(toFloat(img), h, w), w * 3, h * 3));
  await assert.rejects(whole.run(x, h, w + 1), /a 18x13 RGB frame needs 702 floats, got 663/);
  // Into a caller's array (a frame loop's): the same array back, every element written.
  const into = new Float32Array(y.length).fill(NaN);
  assert.equal(await tiled.run(x, h, w, into), into);
  assert.ok(maxAbsDiff(into, y) <= 1e-5);
  await assert.rejects(whole.run(x, h, w, new Float32Array(5)), /the output of a 17x13 frame is 5967 floats, got an array of 5/);
});
