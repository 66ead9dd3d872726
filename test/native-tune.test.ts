// The training kernels' tuner (src/backends/native/tune.ts): every blocking it may choose (direct or Winograd)
// computes the reference backend's convolution (and the fused WDSR-B expansion, composed of reference convs),
// its choice is one of its candidates, cached on disk and reused, and a cache entry it could not have written is
// measured again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConvShape, ExpandShape } from '../src/backends/backend.js';
import { referenceBackend as ref } from '../src/backends/reference.js';
import { compileStats, createNativeBackend, findCompiler } from '../src/backends/native/index.js';
import { loadKernels, loadModule } from '../src/backends/native/compile.js';
import { convForward, convGradWeight } from '../src/backends/native/codegen-conv.js';
import { wdsrBackward, wdsrForward } from '../src/backends/native/codegen-wdsr.js';
import { gradWeightRows } from '../src/backends/native/conv-blocking.js';
import { moduleSource, type Target } from '../src/backends/native/glue.js';
import { convCandidates, defaultConvTuning, MIN_TUNED_MACS, trainTuneStats, tuneConv, tuneWdsr, WDSR_TILES } from '../src/backends/native/tune.js';
import { Rng } from '../src/util/random.js';
import { close } from './support/close.js';

const tc = findCompiler();
const skip = tc ? false : 'no C compiler with OpenMP';
const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-tune-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const rng = new Rng(20261204);
const rand = (n: number) => rng.fill(new Float32Array(n), () => rng.uniform(-1, 1));

// Padded and pixel-packed layouts (cout 24 from 20 packs with 16 lanes), remainder blocks of channels and pixels,
// k 1, 3, 5, rows narrower than a register block.
const SHAPES: ConvShape[] = [
  { n: 2, h: 9, w: 48, cin: 32, cout: 32, k: 3 },
  { n: 2, h: 11, w: 29, cin: 20, cout: 24, k: 3 },
  { n: 1, h: 7, w: 13, cin: 32, cout: 12, k: 3 },
  { n: 3, h: 5, w: 7, cin: 13, cout: 20, k: 5 },
  { n: 1, h: 13, w: 17, cin: 24, cout: 144, k: 1 },
  { n: 2, h: 6, w: 5, cin: 3, cout: 24, k: 3 },
];

test('every blocking the tuner may choose computes the reference convolution', { skip }, () => {
  // AVX-512's shape even where the CPU lacks it (gcc splits the vectors): its candidates include 8-lane ones.
  const targets = [...new Map([tc!.target, { vw: 16, nreg: 32 }, { vw: 8, nreg: 16 }].map((t) => [JSON.stringify(t), t as Target])).values()];
  for (const t of targets)
    for (const s of SHAPES) {
      const g = { h: s.h, w: s.w, cin: s.cin, cout: s.cout, k: s.k };
      const c = convCandidates(g, t);
      const gws = c.gw.flatMap((b) => gradWeightRows(g).map((rows) => ({ ...b, rows })));
      assert.ok(c.fwd.length + c.gin.length + gws.length > 3, `more than one candidate for ${JSON.stringify(g)}`);
      const narrow = (bs: readonly { lanes?: number }[], co: number) => bs.some((b) => b.lanes === 8) === (t.vw === 16 && co % 16 !== 0);
      assert.ok(narrow(c.fwd, s.cout) && narrow(c.gin, s.cin) && narrow(c.gw, s.cout), `8-lane candidates where 16 lanes idle, for ${JSON.stringify(g)}`);
      const winograd = (bs: readonly { winograd?: number }[]) => [2, 4].every((m) => bs.some((b) => b.winograd === m));
      assert.equal(winograd(c.fwd) && winograd(c.gin) && winograd(c.gw), s.k === 3, `Winograd's F(2×2) and F(4×4) exactly for 3×3 convs, ${JSON.stringify(g)}`);
      const kernel = loadKernels(
        t,
        [
          ...c.fwd.map((b, i) => convForward(`f${i}`, g, t, false, b)),
          ...c.gin.map((b, i) => convForward(`i${i}`, g, t, true, b)),
          ...gws.map((b, i) => convGradWeight(`w${i}`, g, t, b)),
        ],
        tc!,
        cacheDir,
      );
      const px = s.n * s.h * s.w;
      const x = rand(px * s.cin), w = rand(s.k * s.k * s.cin * s.cout), bias = rand(s.cout), dy = rand(px * s.cout), res = rand(px * s.cout);
      const want = {
        y: ref.conv2d(x, w, bias, s, true).map((v, i) => v + res[i]),
        dx: ref.conv2dGradInput(dy, w, s),
        dw: ref.conv2dGradWeight(x, dy, s),
      };
      const what = (kind: string, b: object) => `${kind} ${JSON.stringify(b)} of ${JSON.stringify(s)} on ${t.vw} lanes`;
      c.fwd.forEach((b, i) => {
        const y = new Float32Array(px * s.cout);
        kernel[i](x, w, bias, y, res, s.n, 1);
        close(y, want.y, what('conv2d', b));
      });
      c.gin.forEach((b, i) => {
        const dx = new Float32Array(px * s.cin);
        kernel[c.fwd.length + i](dy, w, null, dx, null, s.n, 0);
        close(dx, want.dx, what('gradInput', b));
      });
      gws.forEach((b, i) => {
        const dw = new Float32Array(w.length);
        kernel[c.fwd.length + c.gin.length + i](x, dy, dw, s.n);
        close(dw, want.dw, what('gradWeight', b));
      });
    }
});

/** The fused expansion's outputs and gradients from reference convs: z, dx, dw1, db1, and dw2 summed over samples. */
function expansionWant(s: ExpandShape, x: Float32Array, w1: Float32Array, b1: Float32Array, w2: Float32Array, b2: Float32Array, dz: Float32Array) {
  const s1 = { n: s.n, h: s.h, w: s.w, cin: s.c, cout: s.m1, k: 1 };
  const s2 = { ...s1, cin: s.m1, cout: s.m2 };
  const u = ref.conv2d(x, w1, b1, s1, true);
  const du = ref.binary('reluGrad', ref.conv2dGradInput(dz, w2, s2), u);
  return {
    z: ref.conv2d(u, w2, b2, s2, false),
    dx: ref.conv2dGradInput(du, w1, s1),
    dw1: ref.conv2dGradWeight(x, du, s1),
    db1: ref.channelSum(du, null, s.m1),
    dw2: ref.conv2dGradWeight(u, dz, s2),
  };
}

/** Sums per-sample slices of `len` values. */
const perSampleSum = (a: Float32Array, n: number, len: number) => {
  const out = new Float32Array(len);
  for (let i = 0; i < n; i++) for (let j = 0; j < len; j++) out[j] += a[i * len + j];
  return out;
};

test('every tile the tuner may choose computes the fused WDSR-B expansion', { skip }, () => {
  // Pixel-packed dx (C 24), tails in every tile, a batch with fewer pixels than a tile.
  const shapes: ExpandShape[] = [
    { n: 3, h: 9, w: 11, c: 24, m1: 144, m2: 20 },
    { n: 5, h: 2, w: 3, c: 13, m1: 40, m2: 33 },
  ];
  const targets: Target[] = [tc!.target, { vw: 8, nreg: 16 }];
  for (const t of targets)
    for (const s of shapes) {
      const g = { c: s.c, m1: s.m1, m2: s.m2 };
      const mod = loadModule(moduleSource(t, WDSR_TILES.flatMap((T, i) => [wdsrForward(`f${i}`, g, t, T), wdsrBackward(`b${i}`, g, t, T)])), tc!, cacheDir);
      const px = s.n * s.h * s.w;
      const [x, w1, b1, w2, b2, dz] = [px * s.c, s.c * s.m1, s.m1, s.m1 * s.m2, s.m2, px * s.m2].map(rand);
      const want = expansionWant(s, x, w1, b1, w2, b2, dz);
      WDSR_TILES.forEach((T, i) => {
        const what = `tile ${T} ${JSON.stringify(s)} at ${t.vw} lanes`;
        const z = new Float32Array(px * s.m2);
        mod.call(2 * i, x, w1, b1, w2, b2, z, px);
        close(z, want.z, `z ${what}`);
        const dx = new Float32Array(px * s.c), dw1 = new Float32Array(w1.length), db1 = new Float32Array(s.m1);
        const dw2 = new Float32Array(s.n * w2.length), db2 = new Float32Array(s.n * s.m2);
        mod.call(2 * i + 1, x, dz, w1, b1, w2, dx, dw1, db1, dw2, db2, null, s.n, s.h * s.w);
        close(dx, want.dx, `dx ${what}`);
        close(dw1, want.dw1, `dw1 ${what}`);
        close(db1, want.db1, `db1 ${what}`);
        close(perSampleSum(dw2, s.n, w2.length), want.dw2, `dw2 ${what}`);
      });
    }
});

test('the tuner chooses among its candidates, caches the choice with its measurements, and reuses it', { skip }, () => {
  const dir = join(cacheDir, 'choices');
  const env = { tc: tc!, target: tc!.target, cacheDir: dir };
  const g = { h: 24, w: 24, cin: 32, cout: 24, k: 3 };
  const n = Math.ceil(MIN_TUNED_MACS / (g.h * g.w * g.cin * g.cout * g.k * g.k));
  const before = { ...trainTuneStats, compiles: compileStats.compiles };
  const choice = tuneConv(g, n, env);
  const c = convCandidates(g, env.target);
  const has = (list: readonly object[], b: object) => list.some((x) => JSON.stringify(x) === JSON.stringify(b));
  assert.ok(has(c.fwd, choice.fwd) && has(c.gin, choice.gin), JSON.stringify(choice));
  assert.ok(has(c.gw.flatMap((b) => gradWeightRows(g).map((rows) => ({ ...b, rows }))), choice.gw), JSON.stringify(choice.gw));
  assert.equal(trainTuneStats.measured, before.measured + 1);
  const widths = new Set([...c.fwd, ...c.gin, ...c.gw].map((b) => b.lanes ?? env.target.vw)).size;
  // Winograd's weight gradient has no rows per tile to try after it.
  const heights = choice.gw.winograd ? [] : gradWeightRows(g);
  assert.equal(compileStats.compiles - before.compiles, widths + (heights.length ? 1 : 0), 'a module of candidates per vector width, one of the tile heights');

  const files = readdirSync(join(dir, 'tuning'));
  assert.equal(files.length, 1);
  const path = join(dir, 'tuning', files[0]);
  const saved = JSON.parse(readFileSync(path, 'utf8')) as { key: { trainConv: unknown }; tuning: unknown; measured: { kind: string; ms: number }[] };
  assert.deepEqual(saved.key.trainConv, g);
  assert.deepEqual(saved.tuning, choice);
  assert.equal(saved.measured.filter((m) => m.kind === 'gw').length, c.gw.length + heights.length);
  assert.ok(saved.measured.every((m) => m.ms > 0 && Number.isFinite(m.ms)), 'every candidate was timed');

  // Reused: no compile, no timing.
  const compiles = compileStats.compiles;
  assert.deepEqual(tuneConv(g, n, env), choice);
  assert.equal(trainTuneStats.hits, before.hits + 1);
  assert.equal(compileStats.compiles, compiles);

  // A choice no tuner of today's space could make (edited, or from an older generator) is measured again.
  writeFileSync(path, JSON.stringify({ ...saved, tuning: { ...choice, gw: { ...choice.gw, taps: 99 } } }));
  const again = tuneConv(g, n, env);
  assert.equal(trainTuneStats.measured, before.measured + 2);
  assert.ok(has(c.fwd, again.fwd));
  assert.notEqual((JSON.parse(readFileSync(path, 'utf8')) as { tuning: { gw: { taps: number } } }).tuning.gw.taps, 99);
});

test('the fused block tiles are tuned once per geometry and cached', { skip }, () => {
  const env = { tc: tc!, target: tc!.target, cacheDir: join(cacheDir, 'wdsr') };
  const g = { c: 24, m1: 144, m2: 20 };
  const hw = 48 * 48;
  const n = Math.ceil(MIN_TUNED_MACS / (hw * (g.c * g.m1 + g.m1 * g.m2)));
  const before = { ...trainTuneStats };
  const choice = tuneWdsr(g, n, hw, env);
  assert.ok(WDSR_TILES.includes(choice.fwd) && WDSR_TILES.includes(choice.bwd), JSON.stringify(choice));
  assert.equal(trainTuneStats.measured, before.measured + 1);
  const [file] = readdirSync(join(env.cacheDir, 'tuning'));
  const saved = JSON.parse(readFileSync(join(env.cacheDir, 'tuning', file), 'utf8')) as { tuning: unknown; measured: { ms: number }[] };
  assert.deepEqual(saved.tuning, choice);
  assert.equal(saved.measured.length, 2 * WDSR_TILES.length);
  assert.deepEqual(tuneWdsr(g, n, hw, env), choice);
  assert.equal(trainTuneStats.hits, before.hits + 1);
  assert.deepEqual(tuneWdsr(g, 1, 64, env), { fwd: WDSR_TILES[0], bwd: WDSR_TILES[0] }, 'small work: the default tile');
});

test('small convs keep the default blocking without compiling or timing anything', { skip }, () => {
  const g = { h: 8, w: 8, cin: 8, cout: 8, k: 3 };
  const before = { ...trainTuneStats, compiles: compileStats.compiles };
  assert.deepEqual(tuneConv(g, 1, { tc: tc!, target: tc!.target, cacheDir: join(cacheDir, 'small') }), defaultConvTuning(g, tc!.target));
  assert.deepEqual({ ...trainTuneStats, compiles: compileStats.compiles }, before);
});

test('a tuning backend computes what the reference does', { skip }, () => {
  const b = createNativeBackend({ tune: true, cacheDir: join(cacheDir, 'backend') });
  const s = { n: 12, h: 24, w: 24, cin: 32, cout: 32, k: 3 };
  assert.ok(s.n * s.h * s.w * s.cin * s.cout * s.k * s.k >= MIN_TUNED_MACS, 'large enough to be tuned');
  const measured = trainTuneStats.measured;
  const x = rand(s.n * s.h * s.w * s.cin), w = rand(9 * s.cin * s.cout), bias = rand(s.cout), dy = rand(s.n * s.h * s.w * s.cout);
  close(b.conv2d(x, w, bias, s, true), ref.conv2d(x, w, bias, s, true), 'conv2d');
  assert.equal(trainTuneStats.measured, measured + 1, 'tuned at the first call');
  close(b.conv2dGradInput(dy, w, s), ref.conv2dGradInput(dy, w, s), 'gradInput');
  close(b.conv2dGradWeight(x, dy, s), ref.conv2dGradWeight(x, dy, s), 'gradWeight');
  assert.equal(trainTuneStats.measured, measured + 1, 'once per geometry');

  const e = { n: 4, h: 48, w: 48, c: 24, m1: 144, m2: 20 };
  const px = e.n * e.h * e.w;
  assert.ok(px * (e.c * e.m1 + e.m1 * e.m2) >= MIN_TUNED_MACS, 'the expansion too');
  const [ex, w1, b1, w2, b2, dz] = [px * e.c, e.c * e.m1, e.m1, e.m1 * e.m2, e.m2, px * e.m2].map(rand);
  const want = expansionWant(e, ex, w1, b1, w2, b2, dz);
  close(b.wdsrExpand!(ex, w1, b1, w2, b2, e), want.z, 'fused z');
  const got = b.wdsrExpandGrad!(ex, dz, w1, b1, w2, e);
  close(got.dx, want.dx, 'fused dx');
  close(perSampleSum(got.dw2PerSample, e.n, w2.length), want.dw2, 'fused dw2');
  assert.equal(trainTuneStats.measured, measured + 2, 'the fused block tuned at its first call');
});
