#!/usr/bin/env node
// The native target's pipelined segments against stage-at-a-time execution, as shares of the FMA ceiling, in
// the same interleaved rounds (best round of each; the machines are shared):
//  1. the memory hypothesis: one block stage alone on a whole 640×360 frame (its input and output stream through
//     memory) and on 24 rows (they stay in L2), per thread count;
//  2. whole models run with segments cut at each scratch budget the cut tuner tries (cut.ts: 0 = every stage
//     alone, as before segments; 1, 2, 4, 8 × this CPU's L2; one pipeline), and as tuned.
// Build first (`npm run build`), then:
//   node scripts/bench-segments.mjs [model=wdsr-b-x2 | --arch SPEC] [threads=1,2] [rounds=15]
import { measureCeiling } from '../dist/src/bench/ceiling.js';
import { findToolchain } from '../dist/src/backends/native/compile.js';
import { parseArchArg } from '../dist/src/cli/arch-arg.js';
import { compile, optimizedGraph } from '../dist/src/compiler/compile.js';
import { fuseStages } from '../dist/src/compiler/fuse.js';
import { planStages } from '../dist/src/compiler/plan.js';
import { CUT_BUDGETS, cutPlan, l2Bytes } from '../dist/src/targets/native/cut.js';
import { macsPerPixel } from '../dist/src/compiler/ir.js';
import { stageMacsPerPixel } from '../dist/src/compiler/ir.js';
import { partStage } from '../dist/src/compiler/parts.js';
import { stageKernelName, stageShape } from '../dist/src/compiler/stage.js';
import { Model } from '../dist/src/models/model.js';
import { findModel } from '../dist/src/models/zoo.js';
import { SegmentKernels } from '../dist/src/targets/native/kernels.js';
import { tuneStage } from '../dist/src/targets/native/tune.js';
import { getTarget } from '../dist/src/targets/registry.js';
import { defaultCacheDir } from '../dist/src/backends/native/compile.js';

const args = process.argv.slice(2);
const arch = args[0] === '--arch' ? args.splice(0, 2)[1] : null;
const [name = 'wdsr-b-x2', threadList = '1,2', roundsArg = '15'] = arch ? ['', ...args] : args;
const model = arch ? Model.init(parseArchArg(arch, 2), 0) : findModel(name).model;
const threads = threadList.split(',').map(Number);
const rounds = Number(roundsArg);
const [h, w] = [360, 640];
const tc = findToolchain();
const env = { tc, cacheDir: defaultCacheDir() };

// 1. One block stage (the model's first block's widths) alone, whole frame and 24 rows.
const spec = model.spec;
const block = partStage({ kind: 'block', c: spec.channels, m1: spec.blocks[0].m1, m2: spec.blocks[0].m2 }, 2);
const shape = stageShape(block, 'f32');
const tuning = await tuneStage(block, 'f32', h, w, env);
const kernels = new SegmentKernels([[{ node: block, shape, tuning, kernel: stageKernelName(shape, tuning) }]], tc, env.cacheDir);
const blockRuns = threads.flatMap((t) =>
  [h, 24].map((rows) => ({ what: `block stage alone, ${rows} rows`, threads: t, macs: stageMacsPerPixel(block) * rows * w, call: kernels.syntheticCall(block, 'f32', rows, w, t), reps: Math.round(h / rows), best: Infinity })),
);

// 2. Whole models at each budget that cuts them differently (set before the first frame cuts them), and tuned.
const x = Float32Array.from({ length: h * w * 3 }, (_, i) => ((i * 7919) % 256) / 255);
const target = await getTarget('native');
const plan = planStages(fuseStages(optimizedGraph(model)));
const cuts = new Map();
for (const b of CUT_BUDGETS) {
  const groups = cutPlan(plan, w, tc.target.vw, b);
  if (!cuts.has(JSON.stringify(groups))) cuts.set(JSON.stringify(groups), [`${b} × L2: ${JSON.stringify(groups)}`, b * l2Bytes()]);
}
const modelRuns = [];
for (const t of threads)
  for (const [what, segmentBytes] of [...cuts.values(), ['tuned', undefined]]) {
    const c = await compile(model, { target, threads: t });
    if (segmentBytes !== undefined) c.runner.opts = { ...c.runner.opts, segmentBytes };
    await c.run(x, h, w);
    modelRuns.push({ what: `${arch ?? name}, ${what}`, threads: t, macs: macsPerPixel(c.graph) * h * w, c, best: Infinity });
  }

const ceiling = new Map(threads.map((t) => [t, 0]));
for (let r = 0; r < rounds; r++) {
  for (const b of blockRuns) {
    const t0 = performance.now();
    for (let i = 0; i < b.reps; i++) kernels.run(0, b.call);
    b.best = Math.min(b.best, (performance.now() - t0) / b.reps);
  }
  for (const m of modelRuns) {
    const t0 = performance.now();
    await m.c.run(x, h, w);
    m.best = Math.min(m.best, performance.now() - t0);
  }
  for (const t of threads) ceiling.set(t, Math.max(ceiling.get(t), measureCeiling(t, 0.05).gflops));
}
console.log(`640x360, best of ${rounds} interleaved rounds; ceiling: ${threads.map((t) => `${ceiling.get(t).toFixed(1)} GFLOP/s at ${t} thread${t > 1 ? 's' : ''}`).join(', ')}`);
for (const r of [...blockRuns, ...modelRuns].sort((a, b) => a.threads - b.threads)) {
  const gflops = (2 * r.macs) / (r.best * 1e6);
  console.log(`${r.what.padEnd(60)} ${r.threads} thr ${r.best.toFixed(2).padStart(8)} ms ${gflops.toFixed(1).padStart(7)} GFLOP/s ${((100 * gflops) / ceiling.get(r.threads)).toFixed(1).padStart(5)} %`);
}
for (const m of modelRuns) await m.c.dispose();
