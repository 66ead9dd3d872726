#!/usr/bin/env node
// Kernel micro-benchmark of the native backend, through the Backend API (output allocation included):
// GFLOP/s of the three conv kernels per shape and GB/s of the memory-bound kernels.
// Build first (`npx tsc -p .`), then: `node scripts/bench-kernels.mjs [--quick]`.
// Each figure is "best/median" over repetitions of a ≥ 20 ms loop: the machines are shared, and another
// process on one core halves the median while the best still shows what the kernel can do.
import { createNativeBackend, compileStats } from '../dist/src/backends/native/index.js';

const quick = process.argv.includes('--quick');
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

const shapes = CONVS.map(([n, h, w, cin, cout, k]) => ({ n, h, w, cin, cout, k }));
const t0 = performance.now();
B.precompile([...shapes.map((shape) => ({ op: 'conv', shape })), { op: 'channels', c: 32 }, { op: 'shuffle', c: 3, s: 2 }]);
console.log(`precompile: ${(performance.now() - t0).toFixed(0)} ms (${compileStats.compiles} compiles)`);

console.log('GFLOP/s best/median: shape          conv2d  gradInput  gradWeight');
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
console.log(`\nmemory-bound kernels on ${N} floats:    best ms   median ms   GB/s (best)`);
for (const [name, arrays, f] of MEM) {
  const t = time(f);
  const n = name.startsWith('depthToSpace') ? 16 * 48 * 48 * 12 : N;
  console.log(`${name.padEnd(36)} ${t.best.toFixed(3).padStart(8)} ${t.median.toFixed(3).padStart(10)} ${((arrays * 4 * n) / (t.best * 1e6)).toFixed(1).padStart(10)}`);
}
