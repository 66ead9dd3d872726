// The WebGPU target beyond the shared suite (targets.test.ts): frames cut into tiles because the device's
// buffer limits say so (not the memory budget), schedules squeezed by small workgroup limits, the stage bench
// the profiler uses, and the reasons it gives where it cannot run. Here it runs on Dawn's OpenGL ES backend over
// Mesa's llvmpipe (the Node host's fallback); where no adapter can be had the tests say skipped, with the reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../src/compiler/compile.js';
import { partStage } from '../src/compiler/parts.js';
import { rgbImage } from '../src/image/image.js';
import { getTarget } from '../src/targets/registry.js';
import { createWebGpuTarget } from '../src/targets/webgpu/index.js';
import { nodeHost } from '../src/targets/webgpu/node.js';
import { Rng } from '../src/util/random.js';
import { maxAbsDiff, randomImage, randomModel, WDSR_ODD } from './compiler-support.js';

const gpu = await getTarget('webgpu');
const missing = await gpu.unavailable();
const skip = missing ?? false;
const reference = await getTarget('reference');

test('webgpu: frames past the device buffer limit run in tiles equal to the reference; small workgroup limits still fit', { skip }, async (t) => {
  // A device with 64 KiB buffers, 2 KiB of workgroup memory and 32 threads a workgroup: the final stage's
  // channels split into groups, tiles of 4×2 pixels.
  const small = createWebGpuTarget({ ...nodeHost, caps: { maxStorageBufferBindingSize: 2 ** 16, maxComputeWorkgroupStorageSize: 2048, maxComputeInvocationsPerWorkgroup: 32 } });
  const rng = new Rng(5);
  for (const scale of [2, 3, 4]) {
    const m = randomModel(WDSR_ODD, scale, 40 + scale);
    const c = await compile(m, { target: small, tune: false });
    const whole = await compile(m, { target: gpu, tune: false });
    const ref = await compile(m, { target: reference });
    const [h, w] = [37, 41];
    const tiles = c.tiles(h, w);
    assert.ok(tiles.length > 1, `×${scale}: a ${w}x${h} frame needs tiles on a device with 64 KiB buffers`);
    for (const { win } of tiles) assert.ok(Number.isFinite(c.workingBytes(win.h, win.w)), `×${scale}: window ${win.w}x${win.h} passes the limits`);
    assert.equal(c.workingBytes(h, w), Infinity);
    const x = randomImage(rng, h, w);
    const got = await c.run(x, h, w);
    assert.equal(maxAbsDiff(got, await whole.run(x, h, w)), 0, `×${scale}: tiled floats vs untiled on the full device`);
    const d = maxAbsDiff(got, await ref.run(x, h, w));
    assert.ok(d <= 1e-4, `×${scale}: max |tiled webgpu − reference| = ${d}`);
    const img = rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255));
    assert.deepEqual(await c.runImage(img), await whole.runImage(img), `×${scale}: tiled bytes vs untiled`);
    t.diagnostic(`×${scale}: ${tiles.length} tiles, max |webgpu − reference| ${d.toExponential(2)}`);
    await Promise.all([c.dispose(), whole.dispose()]);
  }
});

test('webgpu: the stage bench runs and times the head, a block and the tail', { skip }, async (t) => {
  const parts = [{ kind: 'head', c: 8 } as const, { kind: 'block', c: 8, m1: 30, m2: 7 } as const, { kind: 'tail', c: 8 } as const];
  const bench = await gpu.benchStages!(
    parts.map((p) => partStage(p, 2)),
    { io: 'u8', h: 24, w: 20, threads: 1, tune: false },
  );
  for (let i = 0; i < parts.length; i++) {
    await bench.run(i);
    const ms = await bench.time!(i);
    assert.ok(Number.isFinite(ms) && ms >= 0, `${parts[i].kind}: ${ms} ms`);
    t.diagnostic(`${parts[i].kind} at 20x24 on this adapter: ${ms.toFixed(3)} ms`);
  }
  await bench.dispose();
});

test('webgpu: says why it cannot run', async () => {
  const none = createWebGpuTarget({ adapter: async () => 'no adapter in this test', runtime: () => 'test host' });
  assert.equal(await none.unavailable(), 'WebGPU unavailable: no adapter in this test');
  await assert.rejects(compile(randomModel('espcn', 2, 1), { target: none }), /not available here: WebGPU unavailable: no adapter in this test/);
  const saved = process.env.RTSR_WEBGPU_MODULE;
  process.env.RTSR_WEBGPU_MODULE = '/nonexistent/webgpu/index.js';
  try {
    assert.match((await createWebGpuTarget(nodeHost).unavailable()) ?? '', /^WebGPU unavailable: the optional package 'webgpu' .* npm install webgpu$/);
  } finally {
    if (saved === undefined) delete process.env.RTSR_WEBGPU_MODULE;
    else process.env.RTSR_WEBGPU_MODULE = saved;
  }
});
