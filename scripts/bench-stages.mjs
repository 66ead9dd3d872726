#!/usr/bin/env node
// Where a compiled model's time goes on the native target, as shares of the FMA ceiling: each segment of a real
// frame (its kernel call timed in place; with --each-stage every stage runs alone, as before segments), the
// frame as a whole, and the ceiling, per thread count, all in the same interleaved rounds. On a shared machine
// each figure is its best round.
// Build first (`npm run build`), then:
//   node scripts/bench-stages.mjs [--each-stage] [model=wdsr-b-x2 | --arch SPEC] [threads=1,2] [input=640x360] [rounds=15]
import { measureCeiling } from '../dist/src/bench/ceiling.js';
import { parseArchArg } from '../dist/src/cli/arch-arg.js';
import { compile } from '../dist/src/compiler/compile.js';
import { stagesOf } from '../dist/src/compiler/fuse.js';
import { stageMacsPerPixel } from '../dist/src/compiler/ir.js';
import { Model } from '../dist/src/models/model.js';
import { findModel } from '../dist/src/models/zoo.js';
import { SegmentKernels } from '../dist/src/targets/native/kernels.js';
import { getTarget } from '../dist/src/targets/registry.js';

const args = process.argv.slice(2);
const eachStage = args[0] === '--each-stage' && Boolean(args.shift());
const arch = args[0] === '--arch' ? args.splice(0, 2)[1] : null;
const [name = 'wdsr-b-x2', threadList = '1,2', input = '640x360', roundsArg = '15'] = arch ? ['', ...args] : args;
const model = arch ? Model.init(parseArchArg(arch, 2), 0) : findModel(name).model;
const [w, h] = input.split('x').map(Number);
const rounds = Number(roundsArg);

// Every segment call of a frame, in order: the runner's own calls, timed where they happen.
let calls = [];
const runSegment = SegmentKernels.prototype.run;
SegmentKernels.prototype.run = function (i, c) {
  const t0 = performance.now();
  runSegment.call(this, i, c);
  calls.push(performance.now() - t0);
};

const target = await getTarget('native');
const x = Float32Array.from({ length: h * w * 3 }, (_, i) => ((i * 7919) % 256) / 255);
const runs = [];
for (const threads of threadList.split(',').map(Number)) {
  const c = await compile(model, { target, threads });
  if (eachStage) c.runner.opts = { ...c.runner.opts, segmentBytes: 0 };
  await c.run(x, h, w);
  const stages = stagesOf(c.graph);
  const segments = (await c.runner.kernelsFor('f32', h, w)).groups.map((g) => g.map((i) => stages[i]));
  runs.push({ threads, c, segments, frame: Infinity, segment: segments.map(() => Infinity), ceiling: 0 });
}
for (let r = 0; r < rounds; r++)
  for (const run of runs) {
    calls = [];
    const t0 = performance.now();
    await run.c.run(x, h, w);
    run.frame = Math.min(run.frame, performance.now() - t0);
    calls.forEach((ms, i) => (run.segment[i] = Math.min(run.segment[i], ms)));
    run.ceiling = Math.max(run.ceiling, measureCeiling(run.threads, 0.05).gflops);
  }
const gf = (macs, ms) => (2 * macs) / (ms * 1e6);
const describe = (s) => s.terms.map((t) => `${t.chain.map((p) => `${p.cin}→${p.cout} `).join('')}${t.k}×${t.k} ${t.cin}→${t.cout}`).join(' + ');
for (const run of runs) {
  const macs = run.segments.map((seg) => seg.reduce((a, s) => a + stageMacsPerPixel(s) * h * w, 0));
  const total = macs.reduce((a, b) => a + b, 0);
  const line = (what, m, ms) => `${what.padEnd(44)} ${(m / 1e9).toFixed(2).padStart(6)} GMAC ${ms.toFixed(2).padStart(8)} ms ${gf(m, ms).toFixed(1).padStart(7)} GFLOP/s ${((100 * gf(m, ms)) / run.ceiling).toFixed(1).padStart(5)} %`;
  console.log(`${arch ?? name} ${w}x${h}, ${run.threads} thread(s): ceiling ${run.ceiling.toFixed(1)} GFLOP/s (best of ${rounds} rounds)`);
  run.segments.forEach((seg, i) => console.log(line(`  segment ${i}: ${seg.length === 1 ? describe(seg[0]) : `${seg.length} stages`}`, macs[i], run.segment[i])));
  console.log(line('  Σ segments', total, run.segment.reduce((a, b) => a + b, 0)));
  console.log(line('  frame (run())', total, run.frame));
}
for (const run of runs) await run.c.dispose();
