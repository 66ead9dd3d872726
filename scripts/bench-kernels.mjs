#!/usr/bin/env node
// Kernel micro-benchmark of the native backend, through the Backend API (output allocation included):
// GFLOP/s of the three conv kernels per shape and GB/s of the memory-bound kernels.
// Build first (`npx tsc -p .`), then: `node scripts/bench-kernels.mjs [--quick] [--fused]` (--fused: only the
// fused WDSR-B expansion's section).
// Each figure is "best/median" over repetitions of a ≥ 20 ms loop: the machines are shared, and another
// process on one core halves the median while the best still shows what the kernel can do.
import { createNativeBackend, compileStats } from '../dist/src/backends/native/index.js';

const quick = process.argv.includes('--quick');
const fusedOnly = process.argv.includes('--fused');
const B = createNativeBackend();
const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

function time(f) {
  f();
  let reps = 1;
  for (let t0 = performance.now(); performance.now() - t0 < 20; reps++) f();
  const runs = [];
  for (let r = 0; r < (quick ? 5 : 15); r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    runs.push((performance.now() - t0) / reps);
  }
  runs.sort((a, b) => a - b);
  return { best: runs[0], median: runs[runs.length >> 1] };
}

const CONVS = [
  [16, 48, 48, 32, 32, 3],
  [16, 48, 48, 3, 32, 3],
  [16, 48, 48, 32, 12, 3],
  [16, 48, 48, 3, 24, 3],
  [16, 48, 48, 20, 24, 3],
  [16, 48, 48, 24, 12, 3],
  [16, 48, 48, 24, 144, 1],
  [16, 48, 48, 144, 20, 1],
  [16, 48, 48, 3, 12, 5],
  [1, 360, 640, 32, 32, 3],
  [1, 360, 640, 24, 144, 1],
];

const shapes = (fusedOnly ? [] : CONVS).map(([n, h, w, cin, cout, k]) => ({ n, h, w, cin, cout, k }));
const t0 = performance.now();
B.precompile([...shapes.map((shape) => ({ op: 'conv', shape })), { op: 'channels', c: 32 }, { op: 'shuffle', c: 3, s: 2 }, ...(fusedOnly ? [24, 144, 20].map((c) => ({ op: 'channels', c })) : [])]);
console.log(`precompile: ${(performance.now() - t0).toFixed(0)} ms (${compileStats.compiles} compiles)`);

if (!fusedOnly) console.log('GFLOP/s best/median: shape          conv2d  gradInput  gradWeight');
for (const s of shapes) {
  const x = rnd(s.n * s.h * s.w * s.cin), dy = rnd(s.n * s.h * s.w * s.cout);
  const w = rnd(s.k * s.k * s.cin * s.cout), b = rnd(s.cout);
  const gflop = (2 * s.n * s.h * s.w * s.cin * s.cout * s.k * s.k) / 1e9;
  const rate = (f) => {
    const t = time(f);
    return `${(gflop / t.best * 1e3).toFixed(0)}/${(gflop / t.median * 1e3).toFixed(0)}`.padStart(10);
  };
  const name = `${s.n}×${s.h}×${s.w} ${s.cin}→${s.cout} k${s.k}`.padEnd(32);
  console.log(`${name} ${rate(() => B.conv2d(x, w, b, s, true))}  ${rate(() => B.conv2dGradInput(dy, w, s))}  ${rate(() => B.conv2dGradWeight(x, dy, s))}`);
}

const N = 16 * 48 * 48 * 32;
const a = rnd(N), c = rnd(N), g = rnd(32), m = new Float32Array(N), v = new Float32Array(N);
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
const MEM = [
  ['relu', 2, () => B.unary('relu', a)],
  ['add', 3, () => B.binary('add', a, c)],
  ['reluGrad', 3, () => B.binary('reluGrad', a, c)],
  ['affine', 2, () => B.affine(a, 0.5, 1)],
  ['mulChannels c32', 2, () => B.mulChannels(a, g, 32)],
  ['channelSum c32 (a·b)', 2, () => B.channelSum(a, c, 32)],
  ['sum', 1, () => B.sum(a)],
  ['distance p=1', 2, () => B.distance(a, c, 1)],
  ['accumulate', 3, () => B.accumulate(m, a)],
  ['adamStep', 7, () => B.adamStep(m, a, v, c, adam)],
  ['depthToSpace c3 s2', 2, () => B.depthToSpace(a.subarray(0, 16 * 48 * 48 * 12), 16, 48, 48, 3, 2)],
];
if (!fusedOnly) console.log(`\nmemory-bound kernels on ${N} floats:    best ms   median ms   GB/s (best)`);
for (const [name, arrays, f] of fusedOnly ? [] : MEM) {
  const t = time(f);
  const n = name.startsWith('depthToSpace') ? 16 * 48 * 48 * 12 : N;
  console.log(`${name.padEnd(36)} ${t.best.toFixed(3).padStart(8)} ${t.median.toFixed(3).padStart(10)} ${((arrays * 4 * n) / (t.best * 1e6)).toFixed(1).padStart(10)}`);
}

// The fused WDSR-B expansion (24→144 ReLU →20, 16×48×48) at the tile sizes training's tuner tries
// (backends/native/tune.ts), beside the unfused kernels it replaces. GFLOP/s count the chain's nominal FLOPs:
// forward 2·px·(C·M1 + M1·M2), backward twice that (the recomputed expansion not counted: a lower rate).
{
  const { loadModule, findToolchain } = await import('../dist/src/backends/native/compile.js');
  const { moduleSource } = await import('../dist/src/backends/native/glue.js');
  const { wdsrForward, wdsrBackward } = await import('../dist/src/backends/native/codegen-wdsr.js');
  const tc = findToolchain();
  const [n, h, w, C, M1, M2] = [16, 48, 48, 24, 144, 20];
  const px = n * h * w;
  const x = rnd(px * C), dz = rnd(px * M2), w1 = rnd(C * M1), b1 = rnd(M1), w2 = rnd(M1 * M2), b2 = rnd(M2);
  const gflop = (2 * px * (C * M1 + M1 * M2)) / 1e9;
  const rate = (f, k = 1) => {
    const t = time(f);
    return `${((k * gflop) / t.best * 1e3).toFixed(0)}/${((k * gflop) / t.median * 1e3).toFixed(0)}`.padStart(10);
  };
  console.log(`\nfused expansion ${n}×${h}×${w} ${C}→${M1}→${M2}, GFLOP/s best/median:   forward   backward`);
  const s1 = { n, h, w, cin: C, cout: M1, k: 1 }, s2 = { n, h, w, cin: M1, cout: M2, k: 1 };
  const u = B.conv2d(x, w1, b1, s1, true);
  console.log(`${'unfused kernels'.padEnd(40)} ${rate(() => B.conv2d(B.conv2d(x, w1, b1, s1, true), w2, b2, s2, false))} ${rate(() => {
    const du = B.binary('reluGrad', B.conv2dGradInput(dz, w2, s2), u);
    B.conv2dGradWeight(u, dz, s2); B.channelSum(dz, null, M2);
    B.conv2dGradInput(du, w1, s1); B.conv2dGradWeight(x, du, s1); B.channelSum(du, null, M1);
  }, 2)}`);
  const { WDSR_TILES } = await import('../dist/src/backends/native/tune.js');
  for (const T of WDSR_TILES) {
    const g = { c: C, m1: M1, m2: M2 };
    const mod = loadModule(moduleSource(tc.target, [wdsrForward('f', g, tc.target, T), wdsrBackward('b', g, tc.target, T)]), tc);
    const z = new Float32Array(px * M2), dx = new Float32Array(px * C), dw1 = new Float32Array(C * M1), db1 = new Float32Array(M1);
    const dw2 = new Float32Array(n * M1 * M2), db2 = new Float32Array(n * M2);
    const fwd = () => mod.call(0, x, w1, b1, w2, b2, z, px);
    const bwd = () => mod.call(1, x, dz, w1, b1, w2, dx, dw1, db1, dw2, db2, null, n, h * w);
    console.log(`${`fused, tile ${T}`.padEnd(40)} ${rate(fwd)} ${rate(bwd, 2)}`);
  }
}

// Pixel-packed lanes against the padded layout, per conv whose channels leave lanes empty (`--packing`).
if (process.argv.includes('--packing')) {
  const { loadModule, findToolchain } = await import('../dist/src/backends/native/compile.js');
  const { moduleSource } = await import('../dist/src/backends/native/glue.js');
  const { convForward, convGradWeight } = await import('../dist/src/backends/native/codegen-conv.js');
  const { gradWeightCandidates } = await import('../dist/src/backends/native/conv-blocking.js');
  const tc = findToolchain();
  console.log('\npadded → packed, GFLOP/s best/median:       conv2d               gradInput            gradWeight');
  for (const s of CONVS.map(([n, h, w, cin, cout, k]) => ({ n, h, w, cin, cout, k })).filter((s) => s.cout % tc.target.vw || s.cin % tc.target.vw)) {
    const g = { h: s.h, w: s.w, cin: s.cin, cout: s.cout, k: s.k };
    // Each layout at its default blocking (the first of its candidates).
    const fb = (p) => ({ packing: p, pixels: null }), gb = (p) => gradWeightCandidates(g, tc.target).find((b) => b.packing === p) ?? gradWeightCandidates(g, tc.target)[0];
    const mod = (p) => loadModule(moduleSource(tc.target, [convForward('f', g, tc.target, false, fb(p)), convForward('i', g, tc.target, true, fb(p)), convGradWeight('w', g, tc.target, gb(p))]), tc);
    const [a, b] = [mod(false), mod(true)];
    const x = rnd(s.n * s.h * s.w * s.cin), dy = rnd(s.n * s.h * s.w * s.cout), wt = rnd(s.k * s.k * s.cin * s.cout), bias = rnd(s.cout);
    const y = new Float32Array(s.n * s.h * s.w * s.cout), dx = new Float32Array(x.length), dw = new Float32Array(wt.length);
    const gflop = (2 * s.n * s.h * s.w * s.cin * s.cout * s.k * s.k) / 1e9;
    const r = (f) => { const t = time(f); return `${(gflop / t.best * 1e3).toFixed(0)}/${(gflop / t.median * 1e3).toFixed(0)}`; };
    const cell = (call) => `${r(() => call(a))} → ${r(() => call(b))}`.padEnd(21);
    const fwd = (m) => m.call(0, x, wt, bias, y, null, s.n, 1), gin = (m) => m.call(1, dy, wt, null, dx, null, s.n, 0), gw = (m) => m.call(2, x, dy, dw, s.n);
    console.log(`${`${s.n}×${s.h}×${s.w} ${s.cin}→${s.cout} k${s.k}`.padEnd(40)} ${cell(fwd)} ${cell(gin)} ${cell(gw)}`);
  }
}
