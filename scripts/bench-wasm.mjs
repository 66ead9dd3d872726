#!/usr/bin/env node
// The wasm target against native on a zoo model at 640×360, uint8 in and out, as runImage runs it (tuned, tuning
// cached under the rtsr cache dir). Build first (`npx tsc -p .`), then:
//   node scripts/bench-wasm.mjs [model=wdsr-b-x2] [targets=wasm,native] [threads=1,2]
// Each figure is the best and the median of 8 frames after a first one: on a shared machine the best shows what
// the code can do, the median what it did.
import { compile } from '../dist/src/compiler/compile.js';
import { rgbImage } from '../dist/src/image/image.js';
import { findModel } from '../dist/src/models/zoo.js';
import { getTarget } from '../dist/src/targets/registry.js';

const [name = 'wdsr-b-x2', targets = 'wasm,native', threadList = '1,2'] = process.argv.slice(2);
const { model } = findModel(name);
const [h, w] = [360, 640];
const img = rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 7919) & 255));
for (const threads of threadList.split(',').map(Number))
  for (const t of targets.split(',')) {
    const target = await getTarget(t);
    const t0 = performance.now();
    const c = await compile(model, { target, threads });
    await c.runImage(img);
    const first = performance.now() - t0;
    const times = [];
    for (let i = 0; i < 8; i++) {
      const t1 = performance.now();
      await c.runImage(img);
      times.push(performance.now() - t1);
    }
    times.sort((a, b) => a - b);
    console.log(`${name} ${w}x${h} ${t} ${threads} thread(s): best ${times[0].toFixed(1)} ms, median ${times[4].toFixed(1)} ms (compile, tune and first frame ${first.toFixed(0)} ms)`);
    await c.dispose();
  }
