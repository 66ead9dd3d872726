// Issue 19's GPU measurement in one go: wdsr-b-x2, searched-x2-33ms and wdsr-b-16x24 (untrained weights: time
// does not depend on them) at 640×360 → 1280×720 on the WebGPU target, against onnxruntime-web's WebGPU
// execution provider on the same adapter (both through Dawn). Per model: our wall time per uint8 frame
// (upload, every stage in one submit, readback: runImage as `rtsr upscale` runs it), our GPU time (Σ of each
// stage's device time from the stage bench: timestamps where the adapter has them), onnxruntime's wall time per
// float frame (session.run with its CPU↔GPU copies) and our float path's wall time beside it, and the largest
// difference of the two float outputs. Prints a Markdown table and writes the figures as JSON to $OUT (default
// webgpu-gpu-bench.json). Run from the repository root after `npm run build`, or from the folder that
// scripts/webgpu-gpu-bench.sh packs. Env: FRAMES (timed frames, default 30), SIZE (default 640x360).
import { writeFileSync } from 'node:fs';
import { compile, optimizedGraph } from '../dist/src/compiler/compile.js';
import { fuseStages, stagesOf } from '../dist/src/compiler/fuse.js';
import { rgbImage } from '../dist/src/image/image.js';
import { Model } from '../dist/src/models/model.js';
import { parseArch } from '../dist/src/models/registry.js';
import { findModel } from '../dist/src/models/zoo.js';
import { exportOnnx } from '../dist/src/export/onnx.js';
import { getTarget } from '../dist/src/targets/registry.js';
import { Rng } from '../dist/src/util/random.js';

const FRAMES = Number(process.env.FRAMES ?? 30);
const [W, H] = (process.env.SIZE ?? '640x360').split('x').map(Number);
const MODELS = [
  ['wdsr-b-x2', () => findModel('wdsr-b-x2').model],
  ['searched-x2-33ms', () => findModel('searched-x2-33ms').model],
  ['wdsr-b-16x24', () => Model.init(parseArch('wdsr-b-16x24', 2), 0)],
];

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function timed(fn) {
  for (let i = 0; i < 3; i++) await fn();
  const ms = [];
  let out;
  for (let i = 0; i < FRAMES; i++) {
    const t0 = performance.now();
    out = await fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), out };
}

const target = await getTarget('webgpu');
const missing = await target.unavailable();
if (missing) throw new Error(missing);
const describe = await target.describe();
console.log(`rtsr webgpu target: ${describe}`);

// onnxruntime-web's WebGPU EP in Node: its browser build, given Dawn's navigator.gpu; it asks Dawn for the
// default adapter itself, which is the one ours runs on (Dawn's first backend that has one).
async function ortWebGpu() {
  const { create, globals } = await import(process.env.RTSR_WEBGPU_MODULE ?? 'webgpu');
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL('../node_modules/onnxruntime-web/dist/', import.meta.url).href;
  return ort;
}
let ort = null;
let ortMissing = null;
try {
  ort = await ortWebGpu();
} catch (err) {
  ortMissing = `onnxruntime-web's WebGPU EP does not load here: ${err.message.split('\n')[0]}`;
}

const rng = new Rng(0);
const frame = rgbImage(W, H, Uint8Array.from({ length: W * H * 3 }, () => rng.nextU32() & 255));
const x = Float32Array.from(frame.data, (v) => v / 255);
const rows = [];
for (const [name, load] of MODELS) {
  const model = load();
  const c = await compile(model, { target });
  const wallU8 = (await timed(() => c.runImage(frame))).ms;
  const ours = await timed(() => c.run(x, H, W));
  await c.dispose();
  const stages = stagesOf(fuseStages(optimizedGraph(model)));
  const bench = await target.benchStages(stages, { io: 'u8', h: H, w: W, threads: 1, tune: true });
  let gpuMs = 0;
  for (let i = 0; i < stages.length; i++) gpuMs += await bench.time(i);
  await bench.dispose();
  const row = { model: name, gmacs: model.macs(H, W) / 1e9, stages: stages.length, wall_u8_ms: wallU8, wall_f32_ms: ours.ms, gpu_ms: gpuMs, ort_ms: null, ort_note: ortMissing, max_abs_diff: null };
  if (ort) {
    try {
      const session = await ort.InferenceSession.create(exportOnnx(model), { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
      const nchw = new Float32Array(x.length);
      for (let i = 0; i < H * W; i++) for (let ch = 0; ch < 3; ch++) nchw[ch * H * W + i] = x[i * 3 + ch];
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', nchw, [1, 3, H, W]) };
      const t = await timed(async () => (await session.run(feeds))[session.outputNames[0]].data);
      const s = model.scale;
      let d = 0;
      for (let i = 0; i < H * s * W * s; i++) for (let ch = 0; ch < 3; ch++) d = Math.max(d, Math.abs(t.out[ch * H * s * W * s + i] - ours.out[i * 3 + ch]));
      Object.assign(row, { ort_ms: t.ms, max_abs_diff: d, ort_note: null });
      await session.release();
    } catch (err) {
      row.ort_note = `onnxruntime-web's WebGPU EP failed: ${err.message.split('\n')[0]}`;
    }
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}

const f = (v, d = 2) => (v === null ? '—' : v.toFixed(d));
console.log(`\n${W}x${H} → ×2, ${FRAMES} timed frames (median), ${describe}\n`);
console.log('| model | GMAC | stages | ours GPU ms | ours wall ms (u8) | ours wall ms (f32) | onnxruntime-web WebGPU wall ms (f32) | speedup (wall, f32) | max abs diff |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.model} | ${f(r.gmacs)} | ${r.stages} | ${f(r.gpu_ms)} | ${f(r.wall_u8_ms)} | ${f(r.wall_f32_ms)} | ${f(r.ort_ms)} | ${r.ort_ms === null ? '—' : f(r.ort_ms / r.wall_f32_ms) + '×'} | ${r.max_abs_diff === null ? '—' : r.max_abs_diff.toExponential(1)} |`);
for (const r of rows) if (r.ort_note) console.log(`${r.model}: ${r.ort_note}`);
writeFileSync(process.env.OUT ?? 'webgpu-gpu-bench.json', JSON.stringify({ adapter: describe, size: `${W}x${H}`, frames: FRAMES, rows }, null, 1) + '\n');
