// The native backend of compile(): generated stage kernels against Model.forward and the interpreter, the
// uint8 path, tiling, narrower vector targets, the tuning cache and the profiling runnables.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findToolchain } from '../src/backends/native/compile.js';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { interpret } from '../src/compiler/interpret.js';
import { type Graph, INPUT, type Pointwise, type StageNode } from '../src/compiler/ir.js';
import { NativeRunner } from '../src/compiler/native-runner.js';
import { compileParts } from '../src/compiler/profile.js';
import { cachedTuning, tuneAll, tuneStage, tuneStats } from '../src/compiler/tune.js';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { fromFloat, rgbImage, toFloat } from '../src/image/image.js';
import { Model } from '../src/models/model.js';
import { Rng } from '../src/util/random.js';
import { forward, maxAbsDiff, randomImage, randomModel, WDSR_ODD } from './compiler-support.js';

const tc = findToolchain();
const skip = tc ? false : 'no C compiler with OpenMP';
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-compiler-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const native = { backend: 'native', tune: false, cacheDir } as const;

// Heights and widths of 1, below one vector (5), not a multiple of 4 or 8 (17, 33).
const SIZES: [number, number][] = [
  [1, 1],
  [2, 17],
  [13, 5],
  [9, 33],
];

test('compiled models equal Model.forward for every architecture, scale and odd frame size', { skip }, (t) => {
  const rng = new Rng(3);
  let worst = 0;
  for (const [spec, s] of [
    [WDSR_ODD, 2],
    [WDSR_ODD, 3],
    ['espcn', 4],
    ['fsrcnn-d2s', 2],
    ['{"arch":"fsrcnn-d2s","d":7,"s":3,"m":0}', 3],
  ] as const) {
    const m = randomModel(spec, s, 21);
    const c = compile(m, native);
    for (const [h, w] of SIZES) {
      const x = randomImage(rng, h, w);
      const d = maxAbsDiff(c.run(x, h, w), forward(m, x, h, w));
      assert.ok(d <= 1e-4, `${spec} ×${s} at ${w}x${h}: max |native − forward| = ${d}`);
      worst = Math.max(worst, d);
    }
  }
  t.diagnostic(`worst max |native − forward|: ${worst.toExponential(2)}`);
});

test('runImage rounds in the kernel exactly as fromFloat does, and matches the reference backend', { skip }, () => {
  const rng = new Rng(4);
  for (const [spec, s] of [
    [WDSR_ODD, 2],
    ['espcn', 3],
  ] as const) {
    const m = randomModel(spec, s, 5);
    const c = compile(m, native);
    const ref = compile(m, { backend: 'reference' });
    for (const [h, w] of [
      [7, 19],
      [1, 3],
    ]) {
      const img = rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255));
      const got = c.runImage(img);
      assert.deepEqual(got, fromFloat(c.run(toFloat(img), h, w), w * s, h * s), `${spec} ${w}x${h}: native u8 vs fromFloat(native f32)`);
      assert.deepEqual(got, ref.runImage(img), `${spec} ${w}x${h}: native vs reference`);
    }
  }
});

test('tiled runs equal untiled ones at odd sizes (floats within 1e-5, bytes exactly)', { skip }, () => {
  const m = randomModel(WDSR_ODD, 2, 8);
  const whole = compile(m, native);
  const rng = new Rng(9);
  for (const [h, w] of [
    [37, 29],
    [61, 7],
    [5, 140],
  ]) {
    // Half-way between the whole frame and the smallest tile (1 pixel and the 5-pixel halo all round): each
    // thread's scratch is a fixed cost that no tiling removes.
    const tiled = compile(m, { ...native, memoryBudgetBytes: (whole.workingBytes(h, w) + whole.workingBytes(11, 11)) / 2 });
    const x = randomImage(rng, h, w);
    assert.ok(tiled.tiles(h, w).length > 1, `${w}x${h} should be tiled`);
    const d = maxAbsDiff(tiled.run(x, h, w), whole.run(x, h, w));
    assert.ok(d <= 1e-5, `${w}x${h}: max |tiled − untiled| = ${d}`);
    const img = rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255));
    assert.deepEqual(tiled.runImage(img), whole.runImage(img));
  }
});

test('kernels generated for narrower vectors (AVX2-like, SSE/NEON-like) compute the same', { skip }, () => {
  const m = randomModel(WDSR_ODD, 2, 10);
  const graph = fuseStages(optimizedGraph(m));
  const [h, w] = [6, 21];
  const x = randomImage(new Rng(11), h, w);
  const want = forward(m, x, h, w);
  for (const target of [
    { vw: 8, nreg: 16 },
    { vw: 4, nreg: 16 },
  ] as const) {
    const runner = new NativeRunner(graph, { tc: { ...tc!, target }, cacheDir, threads: 2, tune: false });
    const out = new Float32Array(want.length);
    runner.runWindow(x, 'f32', w, { x: 0, y: 0, w, h }, { x: 0, y: 0, w, h }, out);
    assert.ok(maxAbsDiff(out, want) <= 1e-4, `vw ${target.vw}`);
  }
});

test('a hand-built stage graph: 1×1 final conv after a 3-layer chain, two terms, pads ≠ 0, ReLU then residual', { skip }, () => {
  const rng = new Rng(12);
  const r = (n: number) => rng.fill(new Float32Array(n), () => rng.uniform(-0.5, 0.5));
  const pw = (cin: number, cout: number, relu: boolean): Pointwise => ({ cin, cout, w: r(cin * cout), b: r(cout), relu });
  const stage = (y: number, terms: StageNode['terms'], cout: number, extra: Partial<StageNode> = {}): StageNode => ({
    op: 'stage', name: `s${y}`, y, terms, b: r(cout), relu: false, residual: null, shuffle: 1, ...extra,
  });
  const term = (x: number, chain: Pointwise[], k: number, cin: number, cout: number, pad: number) => ({ x, chain, k, cin, cout, w: r(k * k * cin * cout), pad });
  const g: Graph = {
    scale: 2,
    output: 3,
    nodes: [
      stage(1, [term(INPUT, [], 3, 3, 6, 0.25)], 6, { relu: true }),
      stage(2, [term(1, [pw(6, 13, true), pw(13, 5, false), pw(5, 9, true)], 1, 9, 6, 0), term(1, [], 5, 6, 6, 0)], 6, { relu: true, residual: 1 }),
      stage(3, [term(2, [pw(6, 4, false)], 3, 4, 12, 0.1), term(INPUT, [], 3, 3, 12, -0.3)], 12, { shuffle: 2 }),
    ],
  };
  const runner = new NativeRunner(g, { tc: tc!, cacheDir, threads: 2, tune: false });
  for (const [h, w] of [
    [5, 18],
    [11, 3],
  ]) {
    const x = randomImage(rng, h, w);
    const out = new Float32Array(h * w * 12);
    runner.runWindow(x, 'f32', w, { x: 0, y: 0, w, h }, { x: 0, y: 0, w, h }, out);
    const d = maxAbsDiff(out, interpret(g, x, h, w));
    assert.ok(d <= 1e-5, `${w}x${h}: max |native − interpreter| = ${d}`);
  }
});

test('what does not fuse is refused by name on native and still runs on reference', { skip }, () => {
  class Clamped extends Model {
    override forward(x: Tensor): Tensor {
      return ops.relu(super.forward(x));
    }
  }
  const m = randomModel('espcn', 2, 1);
  const clamped = new Clamped(m.spec, m.params);
  assert.throws(() => compile(clamped, native), /native backend: depthToSpace → v\d+ does not fuse into a stage/);
  const x = randomImage(new Rng(1), 4, 5);
  assert.ok(maxAbsDiff(compile(clamped, { backend: 'reference' }).run(x, 4, 5), forward(clamped, x, 4, 5)) <= 1e-5);
  assert.throws(() => compile(m, { backend: 'gpu' as 'native' }), /unknown backend 'gpu'/);
});

test('tuning is measured once, then read from the disk cache; tuned kernels give bit-identical output', { skip }, () => {
  // No blocks: a head and a tail stage, one tuning round each, so the test compiles little.
  const m = randomModel('{"arch":"wdsr-b","channels":6,"blocks":[]}', 2, 3);
  const head = stagesOf(fuseStages(optimizedGraph(m)))[0];
  const env = { tc: tc!, cacheDir };
  const before = { ...tuneStats };
  const tuned = tuneStage(head, 'f32', 24, 150, env);
  assert.equal(tuneStats.measured, before.measured + 1);
  assert.deepEqual(tuneStage(head, 'f32', 24, 150, env), tuned);
  assert.equal(tuneStats.hits, before.hits + 1);
  // A narrow frame is not worth tuning: the default, with neither a lookup nor a measurement.
  tuneStage(head, 'f32', 24, 20, env);
  assert.equal(tuneStats.hits + tuneStats.measured, before.hits + before.measured + 2);
  // A torn cache file is measured again and rewritten.
  const files = readdirSync(join(cacheDir, 'tuning'));
  assert.equal(files.length, 1);
  writeFileSync(join(cacheDir, 'tuning', files[0]), '{"key":');
  tuneStage(head, 'f32', 24, 150, env);
  assert.equal(tuneStats.measured, before.measured + 2);
  assert.ok(existsSync(join(cacheDir, 'tuning', files[0])));

  const [h, w] = [9, 150];
  const x = randomImage(new Rng(2), h, w);
  const a = compile(m, { ...native, tune: true }).run(x, h, w);
  const b = compile(m, native).run(x, h, w);
  assert.deepEqual(a, b);
});

test('tuneAll splits untuned shapes between this thread and a worker, both into the cache', { skip }, () => {
  const heads = [5, 7, 9].map((c) => stagesOf(fuseStages(optimizedGraph(randomModel(`{"arch":"wdsr-b","channels":${c},"blocks":[]}`, 2, c))))[0]);
  const env = { tc: tc!, cacheDir };
  assert.ok(heads.every((s) => cachedTuning(s, 'f32', 150, env) === null));
  const before = { ...tuneStats };
  tuneAll([...heads, heads[0]], 'f32', 24, 150, env, 2);
  assert.equal(tuneStats.measured, before.measured + 2, 'this thread tunes every other distinct shape');
  assert.ok(heads.every((s) => cachedTuning(s, 'f32', 150, env) !== null), 'the worker tuned the rest');
  tuneAll(heads, 'f32', 24, 150, env, 2);
  assert.equal(tuneStats.measured, before.measured + 2, 'nothing left to tune');
});

test('profiling runnables run the deployed stage of each part and report its MACs', { skip }, () => {
  const [h, w] = [7, 30];
  const parts = compileParts(
    [
      { kind: 'head', c: 5 },
      { kind: 'block', c: 5, m1: 37, m2: 11 },
      { kind: 'tail', c: 5 },
    ],
    { scale: 2, h, w, tune: false, cacheDir },
  );
  assert.deepEqual(
    parts.map((p) => p.macs / (h * w)),
    [9 * 3 * 5, 5 * 37 + 37 * 11 + 9 * 11 * 5, 9 * 5 * 12 + 25 * 3 * 12],
  );
  for (const p of parts) {
    const t0 = performance.now();
    p.run();
    assert.ok(performance.now() - t0 >= 0);
  }
  // The parts add up to the model: the same MACs as a compiled one-block model.
  const model = compile(Model.init({ arch: 'wdsr-b', scale: 2, channels: 5, blocks: [{ m1: 37, m2: 11 }] }, 0), native);
  assert.equal(parts.reduce((a, p) => a + p.macs, 0), model.macs(h, w));
});
