#!/usr/bin/env node
// Where a training step's time goes: every backend call of `rtsr bench train`'s step (or of a model
// architecture's step, batch 16 of 48², L1, Adam) timed one by one on the native backend, summed per call kind
// and shape, per step; the rest of the step is JavaScript (autograd, allocation, garbage collection).
// Build first (`npm run build`), then, with nothing else running:
//   node scripts/profile-train-step.mjs wdsr-b | conv5x32 | supernet
//   node scripts/profile-train-step.mjs --arch SPEC [--scale S]   (e.g. a reparam spec: its step against the plain one's)
// The convs' blocking is tuned on this machine as in training; --untuned keeps the defaults; --lanes8 generates
// every kernel at 8 lanes with 32 registers (what narrower vectors do to each kernel on an AVX-512 machine).
import { selectBackend } from '../dist/src/backends/index.js';
import { createNativeBackend } from '../dist/src/backends/native/index.js';
import { timeOurs } from '../dist/src/bench/train-bench.js';
import { BENCH_NETS } from '../dist/src/bench/train-nets.js';
import { parseArchArg } from '../dist/src/cli/arch-arg.js';
import * as ops from '../dist/src/engine/ops.js';
import { Adam } from '../dist/src/engine/optim.js';
import { Tensor, useBackend } from '../dist/src/engine/tensor.js';
import { Model } from '../dist/src/models/model.js';

const [first = 'wdsr-b', spec] = process.argv.slice(2);
const at = process.argv.indexOf('--scale');
const scale = at > 0 ? Number(process.argv[at + 1]) : 2;
const [STEPS, WARMUP] = [20, 3];
const tune = !process.argv.includes('--untuned');
const be = process.argv.includes('--lanes8') ? createNativeBackend({ tune, target: { vw: 8, nreg: 32 } }) : await selectBackend('native', { tune });
const spent = new Map();
const optionsOf = (args) => args.find((a) => a && typeof a === 'object' && !ArrayBuffer.isView(a));
const shapeOf = (args) => {
  const s = optionsOf(args);
  return s ? Object.entries(s).filter(([k]) => k !== 'n' && k !== 'step').map(([k, v]) => `${k}${v}`).join(' ') : '';
};
// The sums start after the warm-up steps (compiling, tuning, first touches): at the first call past the last
// Adam update of the last warm-up step.
let warm = false;
let warmNext = false;
const timed = Object.fromEntries(
  Object.entries(be).map(([k, f]) => [
    k,
    typeof f !== 'function'
      ? f
      : (...args) => {
          if (warmNext && k !== 'adamStep') [warm, warmNext] = [true, false];
          const t0 = performance.now();
          const r = f.apply(be, args);
          const key = `${k} ${shapeOf(args)}`;
          if (warm) spent.set(key, (spent.get(key) ?? 0) + performance.now() - t0);
          if (k === 'adamStep' && optionsOf(args).step === WARMUP) warmNext = true;
          return r;
        },
  ]),
);
useBackend(timed);

let median;
if (first === '--arch') {
  const m = Model.init(parseArchArg(spec, scale), 0);
  const opt = new Adam([...m.params.values()]);
  const rnd = (shape) => new Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => ((i * 7919) % 256) / 255), shape);
  const [x, hr] = [rnd([16, 48, 48, 3]), rnd([16, 48 * scale, 48 * scale, 3])];
  const times = [];
  for (let i = 0; i < WARMUP + STEPS; i++) {
    const t0 = performance.now();
    opt.zeroGrad();
    ops.l1Loss(m.forward(x), hr).backward(undefined, { release: true });
    opt.step(1e-4);
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  median = times.sort((a, b) => a - b)[times.length >> 1];
} else {
  if (!BENCH_NETS[first]) throw new Error(`usage: node scripts/profile-train-step.mjs ${Object.keys(BENCH_NETS).join('|')} | --arch SPEC`);
  median = timeOurs(BENCH_NETS[first], STEPS, WARMUP);
}
const perStep = [...spent].map(([k, ms]) => [k, ms / STEPS]).sort((a, b) => b[1] - a[1]);
const inCalls = perStep.reduce((a, [, ms]) => a + ms, 0);
console.log(`${first === '--arch' ? spec : first}: median step ${median.toFixed(1)} ms; backend calls ${inCalls.toFixed(1)} ms a step (mean over the steps after warm-up)`);
for (const [k, ms] of perStep.filter(([, ms]) => ms >= 0.05)) console.log(`${ms.toFixed(2).padStart(8)} ms  ${k}`);
