#!/usr/bin/env node
// This checkout's native target against another checkout's (say, an earlier commit's) in one process: the same
// model, frame and threads, rounds alternating between the two with bench's idle gap, and the FMA ceiling in the
// same rounds; each figure is its median round, as `rtsr bench` reports. For before/after figures that share a
// machine's state, where two separate runs on a shared machine do not.
// Build both first, e.g.: git archive BASE | tar -x -C /tmp/base && cd /tmp/base && ln -s $PWD/node_modules && npx tsc -p .
//   node scripts/bench-versus.mjs OTHER_ROOT [model=wdsr-b-x2 | --arch SPEC] [threads=1] [rounds=15]
// (OTHER_ROOT's kernels go to its own cache folder, RTSR_CACHE_DIR + '-other', so neither reuses the other's.)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { measureCeiling } from '../dist/src/bench/ceiling.js';
import { idle, median } from '../dist/src/bench/infer-bench.js';
import { defaultCacheDir } from '../dist/src/backends/native/compile.js';
import { parseArchArg } from '../dist/src/cli/arch-arg.js';
import { compile } from '../dist/src/compiler/compile.js';
import { Model } from '../dist/src/models/model.js';
import { findModel } from '../dist/src/models/zoo.js';
import { getTarget } from '../dist/src/targets/registry.js';

const [other, ...args] = process.argv.slice(2);
if (!other) throw new Error('usage: node scripts/bench-versus.mjs OTHER_ROOT [model | --arch SPEC] [threads] [rounds]');
const arch = args[0] === '--arch' ? args.splice(0, 2)[1] : null;
const [name = 'wdsr-b-x2', threadsArg = '1', roundsArg = '15'] = arch ? ['', ...args] : args;
const threads = Number(threadsArg);
const rounds = Number(roundsArg);
const [h, w] = [360, 640];
const model = arch ? Model.init(parseArchArg(arch, 2), 0) : findModel(name).model;
const x = Float32Array.from({ length: h * w * 3 }, (_, i) => ((i * 7919) % 256) / 255);

const theirs = async (path) => import(pathToFileURL(join(other, 'dist', 'src', path)).href);
const them = {
  compile: (await theirs('compiler/compile.js')).compile,
  target: await (await theirs('targets/registry.js')).getTarget('native'),
  Model: (await theirs('models/model.js')).Model,
};
// The other checkout's own Model class, with the same spec and parameters.
const theirModel = new them.Model(model.spec, model.params);
const contenders = [
  ['this checkout', await compile(model, { target: await getTarget('native'), threads })],
  [other, await them.compile(theirModel, { target: them.target, threads, cacheDir: `${defaultCacheDir()}-other` })],
];
const times = contenders.map(() => []);
let ceiling = 0;
for (const [, c] of contenders) for (let i = 0; i < 3; i++) await c.run(x, h, w);
for (let r = 0; r < rounds; r++) {
  for (const [i, [, c]] of contenders.entries()) {
    await idle();
    const t0 = performance.now();
    await c.run(x, h, w);
    times[i].push(performance.now() - t0);
  }
  ceiling = Math.max(ceiling, measureCeiling(threads, 0.03).gflops);
}
const gflops = (ms) => (2 * model.macs(h, w)) / (ms * 1e6);
console.log(`${arch ?? name} 640x360, ${threads} thread${threads > 1 ? 's' : ''}, median of ${rounds} alternating rounds; ceiling ${ceiling.toFixed(1)} GFLOP/s (same rounds)`);
for (const [i, [who]] of contenders.entries()) {
  const ms = median(times[i]);
  console.log(`  ${who}: ${ms.toFixed(1)} ms/frame, ${gflops(ms).toFixed(1)} GFLOP/s, ${((100 * gflops(ms)) / ceiling).toFixed(1)} % of the ceiling`);
}
console.log(`  ratio (this / other): ${(median(times[0]) / median(times[1])).toFixed(3)}`);
for (const [, c] of contenders) await c.dispose();
