// The WebGPU target's f16 storage (precision 'f16'): its shaders are the f32 ones with the element type declared
// f16, targets and adapters without f16 refuse it in one line, and where an adapter has 'shader-f16' Set5
// upscaled in f16 is compared with f32 (PSNR on Y against the HR images, and of f16 against f32). No adapter here has
// 'shader-f16' (Dawn's OpenGL ES backend and chromium's SwiftShader lack it): that test then says skipped, why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { stageShape } from '../src/compiler/stage.js';
import { BUNDLED_DATA_DIR } from '../src/data/datadir.js';
import { listImages, loadPair } from '../src/data/datasets.js';
import { scoreY } from '../src/metrics/score.js';
import { findModel } from '../src/models/zoo.js';
import { getTarget } from '../src/targets/registry.js';
import { createWebGpuTarget } from '../src/targets/webgpu/index.js';
import { nodeHost } from '../src/targets/webgpu/node.js';
import { stageWgsl } from '../src/targets/webgpu/render.js';
import { candidates } from '../src/targets/webgpu/schedule.js';
import { randomModel, WDSR_ODD } from './compiler-support.js';

const gpu = createWebGpuTarget(nodeHost);
const missing = await gpu.unavailable();
const description = await gpu.describe();
const hasF16 = !missing && / shader-f16/.test(description);

test('webgpu: an f16 stage shader is its f32 shader with the element type declared f16', async () => {
  // Loads widen to f32 and stores narrow to the element type in both, so the f32 shader (compiled and run by
  // the shared suite on every adapter) checks all of the f16 one but its two declarations.
  const LIMITS = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28, maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535, maxStorageBuffersPerShaderStage: 8 };
  let shaders = 0;
  for (const scale of [2, 3, 4])
    for (const stage of stagesOf(fuseStages(optimizedGraph(randomModel(WDSR_ODD, scale, 60 + scale)))))
      for (const io of ['u8', 'f32'] as const) {
        const shape = stageShape(stage, io);
        for (const t of candidates(shape, LIMITS, 'f16')) {
          const [half, single] = [stageWgsl(shape, t, 'f16'), stageWgsl(shape, t, 'f32')];
          assert.ok(half.startsWith('enable f16;\nalias elem = f16;\n'), 'the f16 shader enables and declares f16 first');
          assert.equal(half.replace('enable f16;\nalias elem = f16;\n', 'alias elem = f32;\n'), single);
          assert.ok(!/\bf16\b/.test(single), 'no f16 in the f32 shader');
          // Every stored array holds the element type, except the frames' (bytes or f32 as given).
          for (const decl of single.match(/var<(storage|workgroup)[^>]*> \w+: array<\w+/g)!) assert.match(decl, /(in\d|outp): array<(u32|f32)$|array<elem$/, decl);
          shaders++;
        }
      }
  assert.ok(shaders > 100, `${shaders} shaders`);
});

test('webgpu: precision f16 is refused in one line by targets that store f32 and by adapters without shader-f16', async (t) => {
  const m = randomModel('espcn', 2, 61);
  for (const name of ['reference', 'wasm'] as const) {
    const target = await getTarget(name);
    assert.match((await target.unavailable('f16')) ?? '', new RegExp(`^the ${name} target stores f32 only`));
    await assert.rejects(compile(m, { target, precision: 'f16' }), new RegExp(`not available here in f16: the ${name} target stores f32 only`));
  }
  if (missing) return t.skip(`no WebGPU adapter here: ${missing}`);
  if (hasF16) return t.skip(`this adapter has shader-f16 (${description})`);
  const refusal = (await gpu.unavailable('f16')) ?? '';
  t.diagnostic(refusal);
  assert.match(refusal, /^the WebGPU adapter .+ has no 'shader-f16': use precision f32$/);
  assert.ok(description.includes(refusal.replace(/^the WebGPU adapter (.+) has no.*$/, '$1')), 'names the adapter');
  await assert.rejects(compile(m, { target: gpu, precision: 'f16' }), (err: Error) => err.message.endsWith(refusal));
});

test('webgpu: Set5 ×2 in f16 against f32 (PSNR on Y against HR, and between the two)', { skip: missing ? `no WebGPU adapter here: ${missing}` : hasF16 ? false : `the adapter has no 'shader-f16' (${description}); nothing here has it (Dawn's OpenGL ES backend and chromium's SwiftShader lack it), so f16 runs only on a GPU that has it`, timeout: 600_000 }, async (t) => {
  const model = findModel('wdsr-b-x2').model;
  const [single, half] = [await compile(model, { target: gpu, precision: 'f32' }), await compile(model, { target: gpu, precision: 'f16' })];
  let [sum32, sum16] = [0, 0];
  const images = await listImages(BUNDLED_DATA_DIR, 'Set5');
  for (const path of images) {
    const { lr, hr } = await loadPair(path, 2);
    const [a, b] = [await single.runImage(lr), await half.runImage(lr)];
    const [p32, p16] = [scoreY(a, hr, 2).psnr, scoreY(b, hr, 2).psnr];
    const between = scoreY(b, a, 2).psnr;
    t.diagnostic(`${path.split('/').pop()}: f32 ${p32.toFixed(3)} dB, f16 ${p16.toFixed(3)} dB, f16 vs f32 ${between.toFixed(1)} dB`);
    assert.ok(between >= 40, `${path}: f16 output within 40 dB of f32's, got ${between}`);
    [sum32, sum16] = [sum32 + p32, sum16 + p16];
  }
  const [m32, m16] = [sum32 / images.length, sum16 / images.length];
  t.diagnostic(`Set5 mean: f32 ${m32.toFixed(3)} dB, f16 ${m16.toFixed(3)} dB (${description})`);
  assert.ok(Math.abs(m32 - m16) <= 0.05, `mean PSNR f16 ${m16} vs f32 ${m32}`);
  await Promise.all([single.dispose(), half.dispose()]);
});
