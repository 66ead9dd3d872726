// What is particular to the native target (test/targets.test.ts runs the suite every target runs): kernels
// for narrower vector targets, a hand-built stage graph against the interpreter, the tuning cache and the
// profiling runnables.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findToolchain } from '../src/backends/native/compile.js';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { interpret } from '../src/compiler/interpret.js';
import { type Graph, INPUT, type Pointwise, type StageNode } from '../src/compiler/ir.js';
import { compileParts } from '../src/compiler/parts.js';
import { nativeTarget } from '../src/targets/native/index.js';
import { NativeRunner } from '../src/targets/native/runner.js';
import { groupSegments, pipelineRows } from '../src/targets/native/segment.js';
import { cutStats } from '../src/targets/native/cut.js';
import { planStages } from '../src/compiler/plan.js';
import { cachedTuning, defaultNativeTuning, isNativeTuning, tuneAll, tuneStage, tuneStats } from '../src/targets/native/tune.js';
import { SegmentKernels } from '../src/targets/native/kernels.js';
import type { NativeTuning } from '../src/targets/native/render.js';
import { blockFor, packStage, stageKernelName, stageShape } from '../src/compiler/stage.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { Rng } from '../src/util/random.js';
import { rgbImage, toFloat } from '../src/image/image.js';
import { forward, maxAbsDiff, randomImage, randomModel, WDSR_ODD } from './compiler-support.js';

const tc = findToolchain();
const skip = tc ? false : 'no C compiler with OpenMP';
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-compiler-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const native = { target: nativeTarget, tune: false, cacheDir } as const;

test('kernels generated for narrower vectors (AVX2-like, SSE/NEON-like) compute the same', { skip }, async () => {
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
    await runner.runWindow(x, 'f32', w, { x: 0, y: 0, w, h }, { x: 0, y: 0, w, h }, out);
    assert.ok(maxAbsDiff(out, want) <= 1e-4, `vw ${target.vw}`);
  }
});

/** A hand-built stage graph: 1×1 final conv after a 3-layer chain, two terms reading one value (one of them
 *  chain-less, 5×5) and that value as the residual, pads ≠ 0, ReLU then residual, and a raw-input term in the
 *  shuffling tail. */
function handBuilt(rng: Rng): Graph {
  const r = (n: number) => rng.fill(new Float32Array(n), () => rng.uniform(-0.5, 0.5));
  const pw = (cin: number, cout: number, relu: boolean): Pointwise => ({ cin, cout, w: r(cin * cout), b: r(cout), relu });
  const stage = (y: number, terms: StageNode['terms'], cout: number, extra: Partial<StageNode> = {}): StageNode => ({
    op: 'stage', name: `s${y}`, y, terms, b: r(cout), relu: false, residual: null, shuffle: 1, ...extra,
  });
  const term = (x: number, chain: Pointwise[], k: number, cin: number, cout: number, pad: number) => ({ x, chain, k, cin, cout, w: r(k * k * cin * cout), pad });
  return {
    scale: 2,
    output: 3,
    nodes: [
      stage(1, [term(INPUT, [], 3, 3, 6, 0.25)], 6, { relu: true }),
      stage(2, [term(1, [pw(6, 13, true), pw(13, 5, false), pw(5, 9, true)], 1, 9, 6, 0), term(1, [], 5, 6, 6, 0)], 6, { relu: true, residual: 1 }),
      stage(3, [term(2, [pw(6, 4, false)], 3, 4, 12, 0.1), term(INPUT, [], 3, 3, 12, -0.3)], 12, { shuffle: 2 }),
    ],
  };
}

test('a hand-built stage graph: 1×1 final conv after a 3-layer chain, two terms, pads ≠ 0, ReLU then residual', { skip }, async () => {
  const rng = new Rng(12);
  const g = handBuilt(rng);
  const runner = new NativeRunner(g, { tc: tc!, cacheDir, threads: 2, tune: false });
  for (const [h, w] of [
    [5, 18],
    [11, 3],
  ]) {
    const x = randomImage(rng, h, w);
    const out = new Float32Array(h * w * 12);
    await runner.runWindow(x, 'f32', w, { x: 0, y: 0, w, h }, { x: 0, y: 0, w, h }, out);
    const d = maxAbsDiff(out, interpret(g, x, h, w));
    assert.ok(d <= 1e-5, `${w}x${h}: max |native − interpreter| = ${d}`);
  }
});

test('pipeline rows: each stage starts its lead behind a band and keeps the fewest rows its readers need', () => {
  // WDSR-B: head, three blocks (chain + 3×3, residual), tail (3×3 on the trunk, 5×5 on the raw input).
  const wdsr = stagesOf(fuseStages(optimizedGraph(randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":8,"m2":4},{"m1":8,"m2":4},{"m1":8,"m2":4}]}', 2, 1))));
  assert.deepEqual(pipelineRows(wdsr), { first: [-4, -3, -2, -1, 0], ring: [2, 2, 2, 1, 1] });
  // Two readers of one value at different radii, and that value as a residual.
  assert.deepEqual(pipelineRows(stagesOf(handBuilt(new Rng(1)))), { first: [-3, -1, 0], ring: [3, 1, 1] });
});

test('pipelined segments compute bit-identical floats and bytes to every stage alone, on 1 and 2 threads', { skip }, async () => {
  const rng = new Rng(13);
  const graphs = [...[WDSR_ODD, 'espcn', 'fsrcnn-d2s'].map((a) => fuseStages(optimizedGraph(randomModel(a, 2, 7)))), handBuilt(rng)];
  for (const g of graphs) {
    const w = 40;
    assert.equal(groupSegments(planStages(g), w, tc!.target.vw, Infinity).length, 1, 'one segment when the budget allows');
    for (const threads of [1, 2])
      for (const h of [13, 64]) {
        const x = randomImage(rng, h, w);
        const bytes = Uint8Array.from(x, (v) => Math.round(v * 255));
        const whole = { x: 0, y: 0, w, h };
        const run = async (segmentBytes: number) => {
          const r = new NativeRunner(g, { tc: tc!, cacheDir, threads, tune: false, segmentBytes });
          const f = new Float32Array(h * w * 12);
          const u = new Uint8Array(h * w * 12);
          await r.runWindow(x, 'f32', w, whole, whole, f);
          await r.runWindow(bytes, 'u8', w, whole, whole, u);
          return { f, u };
        };
        assert.deepEqual(await run(Infinity), await run(0), `${threads} threads, ${w}x${h}`);
      }
  }
});

test('a pipeline gone up a band computes what it computes going down', { skip }, () => {
  // One thread given three bands goes down the first and the third and up the second (as does a second thread
  // of a pair, which starts at the bottom of their two bands, when it is not too late to take a row).
  const rng = new Rng(14);
  for (const g of [fuseStages(optimizedGraph(randomModel(WDSR_ODD, 2, 7))), handBuilt(rng)]) {
    const stages = stagesOf(g);
    const tuning = defaultNativeTuning(tc!.target);
    const kernels = new SegmentKernels([stages.map((node) => ({ node, shape: stageShape(node, 'f32'), tuning, kernel: stageKernelName(stageShape(node, 'f32'), tuning) }))], tc!, cacheDir);
    const [h, w] = [40, 37];
    const x = randomImage(rng, h, w);
    const run = (bandsOf: number) => {
      const out = new Float32Array(h * w * 12);
      // The whole graph as one segment reads nothing but the frame: one argument per term reading it.
      const inputs = stages.flatMap((s) => s.terms.filter((t) => t.x === INPUT).map(() => x));
      kernels.run(0, { inputs, out, blob: Float32Array.from(stages.flatMap((s) => [...packStage(s)])), h, w, x: 0, y: 0, frameWidth: w, keep: { y0: 0, y1: h, x0: 0, x1: w }, threads: 1, bandsOf });
      return out;
    };
    assert.deepEqual(run(3), run(1));
  }
});

test('what does not fuse is refused by name on native and still runs on reference', { skip }, async () => {
  class Clamped extends Model {
    override forward(x: Tensor): Tensor {
      return ops.relu(super.forward(x));
    }
  }
  const m = randomModel('espcn', 2, 1);
  const clamped = new Clamped(m.spec, m.params);
  await assert.rejects(compile(clamped, native), /compiler: depthToSpace → v\d+ does not fuse into a stage/);
  const x = randomImage(new Rng(1), 4, 5);
  assert.ok(maxAbsDiff(await (await compile(clamped, { target: referenceTarget })).run(x, 4, 5), forward(clamped, x, 4, 5)) <= 1e-5);
});

test('tuning is measured once, then read from the disk cache; tuned kernels give bit-identical output', { skip }, async () => {
  // No blocks: a head and a tail stage, one tuning round each, so the test compiles little.
  const m = randomModel('{"arch":"wdsr-b","channels":6,"blocks":[]}', 2, 3);
  const head = stagesOf(fuseStages(optimizedGraph(m)))[0];
  const env = { tc: tc!, cacheDir };
  const before = { ...tuneStats };
  const tuned = await tuneStage(head, 'f32', 24, 150, env);
  assert.equal(tuneStats.measured, before.measured + 1);
  assert.deepEqual(await tuneStage(head, 'f32', 24, 150, env), tuned);
  assert.equal(tuneStats.hits, before.hits + 1);
  // A narrow frame is not worth tuning: the default, with neither a lookup nor a measurement.
  await tuneStage(head, 'f32', 24, 20, env);
  assert.equal(tuneStats.hits + tuneStats.measured, before.hits + before.measured + 2);
  // A torn cache file is measured again and rewritten.
  const files = readdirSync(join(cacheDir, 'tuning'));
  assert.equal(files.length, 1);
  writeFileSync(join(cacheDir, 'tuning', files[0]), '{"key":');
  await tuneStage(head, 'f32', 24, 150, env);
  assert.equal(tuneStats.measured, before.measured + 2);
  assert.ok(existsSync(join(cacheDir, 'tuning', files[0])));
  // Edited values are checked against the candidate space, never trusted: tp 64→24 once gave a wrong image with
  // exit 0, tp 3 or ob 0 NaN, tp 0 or cpb 0 a hang. Each is measured again instead.
  const file = join(cacheDir, 'tuning', files[0]);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.ok(isNativeTuning(saved.tuning, tc!.target));
  for (const edit of [{ tp: 24 }, { tp: 3 }, { tp: 0 }, { ob: 0 }, { cpb: 0 }, { order: 'yx' }, { extra: 1 }, { lanes: 3 }, { pvw: 128 }, { inline: 1 }]) {
    writeFileSync(file, JSON.stringify({ ...saved, tuning: { ...saved.tuning, ...edit } }));
    assert.equal(cachedTuning(head, 'f32', 150, env), null, JSON.stringify(edit));
  }
  await tuneStage(head, 'f32', 24, 150, env);
  assert.ok(isNativeTuning(JSON.parse(readFileSync(file, 'utf8')).tuning, tc!.target), 'rewritten with a measured choice');

  const [h, w] = [9, 150];
  const x = randomImage(new Rng(2), h, w);
  const a = await (await compile(m, { ...native, tune: true })).run(x, h, w);
  const b = await (await compile(m, native)).run(x, h, w);
  assert.deepEqual(a, b);
});

test('every tuning the native tuner may choose computes the same floats and bytes', { skip }, async () => {
  const t = tc!.target;
  const base = defaultNativeTuning(t);
  const pbs = [2, 3, 4].filter((p) => blockFor(t, p) >= 2);
  const grid: NativeTuning[] = [
    base,
    ...pbs.flatMap((pb) => (['xo', 'ox'] as const).map((order) => ({ ...base, pb, ob: blockFor(t, pb), order }))),
    ...pbs.map((cpb) => ({ ...base, cpb, cob: blockFor(t, cpb) })),
    ...[2, 4, 8].map((v) => ({ ...base, tp: v * t.vw })),
    ...[8, 16].filter((lanes) => lanes < t.vw).map((lanes) => ({ ...base, lanes })),
    ...(t.vw === 16 ? [{ ...base, pvw: 512 as const }, { ...base, lanes: 8, pb: 4, ob: blockFor(t, 4), pvw: 512 as const }] : []),
    { ...base, inline: false },
  ];
  assert.ok(grid.every((g) => isNativeTuning(g, t)));
  const [head, block, tail] = stagesOf(fuseStages(optimizedGraph(randomModel('{"arch":"wdsr-b","channels":5,"blocks":[{"m1":37,"m2":11}]}', 2, 4))));
  const [h, w] = [9, 150];
  for (const io of ['f32', 'u8'] as const)
    for (const stage of [head, block, tail]) {
      const shape = stageShape(stage, io);
      const kernels = new SegmentKernels(grid.map((tuning) => [{ node: stage, shape, tuning, kernel: stageKernelName(shape, tuning) }]), tc!, cacheDir);
      for (const threads of [1, 2]) {
        const call = kernels.syntheticCall(stage, io, h, w, threads);
        const outs = grid.map((_, i) => {
          const out = call.out instanceof Uint8Array ? new Uint8Array(call.out.length) : new Float32Array(call.out.length);
          kernels.run(i, { ...call, out });
          return out;
        });
        outs.forEach((o, i) => assert.deepEqual(o, outs[0], `${io} ${stage.name}, ${threads} threads: ${JSON.stringify(grid[i])}`));
      }
    }
});

test('a uint8 frame is read as toFloat reads it: the head on bytes computes what it computes on their floats', { skip }, () => {
  const [head] = stagesOf(fuseStages(optimizedGraph(randomModel('{"arch":"wdsr-b","channels":5,"blocks":[]}', 2, 5))));
  const tuning = defaultNativeTuning(tc!.target);
  const seg = (io: 'f32' | 'u8') => [{ node: head, shape: stageShape(head, io), tuning, kernel: stageKernelName(stageShape(head, io), tuning) }];
  const kernels = new SegmentKernels([seg('u8'), seg('f32')], tc!, cacheDir);
  const [h, w] = [4, 64];
  const bytes = Uint8Array.from({ length: h * w * 3 }, (_, i) => i & 255);
  const call = kernels.syntheticCall(head, 'f32', h, w, 1);
  const out = () => new Float32Array((call.out as Float32Array).length);
  const [a, b] = [out(), out()];
  kernels.run(0, { ...call, inputs: [bytes], out: a });
  kernels.run(1, { ...call, inputs: [toFloat(rgbImage(w, h, bytes))], out: b });
  assert.deepEqual(a, b);
});

test('the cut into segments is measured once per plan and width class, then read from the cache; any cut gives the same bits', { skip }, async () => {
  const m = randomModel('{"arch":"wdsr-b","channels":8,"blocks":[]}', 2, 3);
  const [h, w] = [9, 150];
  const x = randomImage(new Rng(6), h, w);
  const before = { ...cutStats };
  const a = await (await compile(m, { ...native, tune: true })).run(x, h, w);
  assert.equal(cutStats.measured, before.measured + 1, 'head and tail: alone or as one pipeline');
  const b = await (await compile(m, { ...native, tune: true })).run(x, h, w);
  assert.equal(cutStats.hits, before.hits + 1);
  assert.deepEqual(a, b);
  assert.deepEqual(a, await (await compile(m, native)).run(x, h, w));
});

test('tuneAll splits untuned shapes between this thread and a worker, both into the cache', { skip }, async () => {
  const heads = [5, 7, 9].map((c) => stagesOf(fuseStages(optimizedGraph(randomModel(`{"arch":"wdsr-b","channels":${c},"blocks":[]}`, 2, c))))[0]);
  const env = { tc: tc!, cacheDir };
  assert.ok(heads.every((s) => cachedTuning(s, 'f32', 150, env) === null));
  const before = { ...tuneStats };
  await tuneAll([...heads, heads[0]], 'f32', 24, 150, env, 2);
  assert.equal(tuneStats.measured, before.measured + 2, 'this thread tunes every other distinct shape');
  assert.ok(heads.every((s) => cachedTuning(s, 'f32', 150, env) !== null), 'the worker tuned the rest');
  await tuneAll(heads, 'f32', 24, 150, env, 2);
  assert.equal(tuneStats.measured, before.measured + 2, 'nothing left to tune');
});

test('profiling runnables run the deployed stage of each part and report its MACs', { skip }, async () => {
  const [h, w] = [7, 30];
  const parts = await compileParts(
    [
      { kind: 'head', c: 5 },
      { kind: 'block', c: 5, m1: 37, m2: 11 },
      { kind: 'tail', c: 5 },
    ],
    { target: nativeTarget, scale: 2, h, w, tune: false, cacheDir },
  );
  assert.deepEqual(
    parts.map((p) => p.macs / (h * w)),
    [9 * 3 * 5, 5 * 37 + 37 * 11 + 9 * 11 * 5, 9 * 5 * 12 + 25 * 3 * 12],
  );
  for (const p of parts) {
    const t0 = performance.now();
    await p.run();
    assert.ok(performance.now() - t0 >= 0);
  }
  // The parts add up to the model: the same MACs as a compiled one-block model.
  const model = await compile(Model.init({ arch: 'wdsr-b', scale: 2, channels: 5, blocks: [{ m1: 37, m2: 11 }] }, 0), native);
  assert.equal(parts.reduce((a, p) => a + p.macs, 0), model.macs(h, w));
});
