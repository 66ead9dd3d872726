#!/usr/bin/env node
// Two or more tunings of one stage of a model against each other, as the tuner times candidates but on a whole
// 640×360 frame: each alone (a segment of one stage) on one thread, interleaved rounds, each one's fastest run,
// and the FMA ceiling in the same rounds. For a hypothesis about the code (inlining, vector width, blocking)
// on this machine. Build first (`npm run build`), then:
//   node scripts/bench-tunings.mjs [model=wdsr-b-x2] STAGE TUNING_JSON TUNING_JSON…
// e.g. the tail's conv inlined or called:
//   node scripts/bench-tunings.mjs wdsr-b-x2 4 '{"inline":true}' '{"inline":false}'
// (each JSON is applied over the default tuning; the stage index counts the fused plan's stages from 0).
import { measureCeiling } from '../dist/src/bench/ceiling.js';
import { findToolchain } from '../dist/src/backends/native/compile.js';
import { optimizedGraph } from '../dist/src/compiler/compile.js';
import { fuseStages, stagesOf } from '../dist/src/compiler/fuse.js';
import { stageMacsPerPixel } from '../dist/src/compiler/ir.js';
import { stageKernelName, stageShape } from '../dist/src/compiler/stage.js';
import { findModel } from '../dist/src/models/zoo.js';
import { SegmentKernels } from '../dist/src/targets/native/kernels.js';
import { defaultNativeTuning, isNativeTuning } from '../dist/src/targets/native/tune.js';
import { fastestRuns } from '../dist/src/util/fastest.js';

const [name, stageArg, ...tuningArgs] = process.argv.slice(2);
if (tuningArgs.length < 2) throw new Error('usage: node scripts/bench-tunings.mjs MODEL STAGE TUNING_JSON TUNING_JSON…');
const tc = findToolchain();
const stage = stagesOf(fuseStages(optimizedGraph(findModel(name).model)))[Number(stageArg)];
const shape = stageShape(stage, 'f32');
const tunings = tuningArgs.map((j) => ({ ...defaultNativeTuning(tc.target), ...JSON.parse(j) }));
for (const t of tunings) if (!isNativeTuning(t, tc.target)) throw new Error(`not a tuning the tuner may choose: ${JSON.stringify(t)}`);
const kernels = new SegmentKernels(tunings.map((tuning) => [{ node: stage, shape, tuning, kernel: stageKernelName(shape, tuning) }]), tc, process.env.RTSR_CACHE_DIR ?? '/tmp/rtsr-bench-tunings');
const [h, w] = [360, 640];
const call = kernels.syntheticCall(stage, 'f32', h, w, 1);
tunings.forEach((_, i) => kernels.run(i, call));
let ceiling = 0;
const best = tunings.map(() => Infinity);
for (let r = 0; r < 5; r++) {
  fastestRuns(tunings.length, 3, (i) => kernels.run(i, call)).forEach((ms, i) => (best[i] = Math.min(best[i], ms)));
  ceiling = Math.max(ceiling, measureCeiling(1, 0.03).gflops);
}
console.log(`${name} stage ${stageArg} at 640x360, 1 thread, fastest of 15 interleaved runs; ceiling ${ceiling.toFixed(1)} GFLOP/s (same rounds)`);
tunings.forEach((t, i) => {
  const gflops = (2 * stageMacsPerPixel(stage) * h * w) / (best[i] * 1e6);
  console.log(`  ${tuningArgs[i].padEnd(40)} ${best[i].toFixed(2).padStart(7)} ms ${gflops.toFixed(1).padStart(7)} GFLOP/s ${((100 * gflops) / ceiling).toFixed(1).padStart(5)} %`);
});
