// The wasm target against the reference target: every architecture at ×2, ×3 and ×4, odd frame sizes (one
// narrower than a vector), tiled and untiled, on one thread and two; floats within 1e-5. Bytes: the kernel rounds
// its own floats exactly as fromFloat does, and equals the reference except where the reference's value lies
// within the float tolerance of a rounding tie (the reference sums in double, the kernels in float: native's
// bytes differ there too). Where a C compiler exists, floats and bytes equal native's bit for bit: the same
// schedule and order of additions, with relaxed_madd fused where gcc contracts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { findToolchain } from '../src/backends/native/compile.js';
import { compile, type CompiledModel, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages } from '../src/compiler/fuse.js';
import { clampByte, fromFloat, rgbImage, type RgbImage, toFloat } from '../src/image/image.js';
import type { Model } from '../src/models/model.js';
import { nativeTarget } from '../src/targets/native/index.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import type { Target } from '../src/targets/target.js';
import { createWasmTarget } from '../src/targets/wasm/index.js';
import { nodeHost, wasmTarget } from '../src/targets/wasm/node.js';
import { WasmRunner } from '../src/targets/wasm/runner.js';
import { Runtime } from '../src/targets/wasm/runtime.js';
import { Rng } from '../src/util/random.js';
import { maxAbsDiff, randomImage, randomModel } from './compiler-support.js';

const WDSR = '{"arch":"wdsr-b","channels":5,"blocks":[{"m1":11,"m2":3},{"m1":7,"m2":5}]}';
const SIZES: [number, number][] = [
  [7, 13],
  [1, 3],
  [29, 37],
];
const TOL = 1e-5;
const hasNative = findToolchain() !== null;

const open: CompiledModel[] = [];
after(() => Promise.all(open.map((c) => c.dispose())));
const compiled = async (m: Model, target: Target, extra: { threads?: number; memoryBudgetBytes?: number } = {}) => {
  const c = await compile(m, { target, tune: false, ...extra });
  open.push(c);
  return c;
};
const randomBytes = (rng: Rng, h: number, w: number): RgbImage => rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255));

/** Bytes equal to the reference's, except next to a tie: there the reference's float (×255) lies within the
 *  float tolerance of k + 0.5 and the byte is k or k + 1. Returns how many bytes sat at such a tie. */
function assertBytesMatch(got: Uint8Array, refFloat: Float32Array, label: string): number {
  let ties = 0;
  for (let i = 0; i < got.length; i++) {
    const t = refFloat[i] * 255;
    const want = clampByte(t);
    if (got[i] === want) continue;
    const k = Math.floor(t);
    assert.ok(Math.abs(t - (k + 0.5)) <= 255 * TOL && (got[i] === k || got[i] === k + 1), `${label}: byte ${i} is ${got[i]}, the reference's ${want} (${t}·255) is no tie`);
    ties++;
  }
  return ties;
}

interface Case {
  readonly h: number;
  readonly w: number;
  readonly x: Float32Array;
  readonly img: RgbImage;
  /** The reference's outputs for x and for img as floats. */
  readonly refX: Float32Array;
  readonly refImg: Float32Array;
}

/** A float and a byte frame of every size, with the reference's outputs (computed once: it is the slow part). */
async function cases(ref: CompiledModel, seed: number): Promise<Case[]> {
  const rng = new Rng(seed);
  const out: Case[] = [];
  for (const [h, w] of SIZES) {
    const [x, img] = [randomImage(rng, h, w), randomBytes(rng, h, w)];
    out.push({ h, w, x, img, refX: await ref.run(x, h, w), refImg: await ref.run(toFloat(img), h, w) });
  }
  return out;
}

/** Runs `c` on every case against the reference (and native, where given); returns the worst float error and
 *  the bytes at ties. */
async function compare(label: string, c: CompiledModel, all: readonly Case[], native?: CompiledModel): Promise<{ worst: number; ties: number }> {
  let [worst, ties] = [0, 0];
  for (const { h, w, x, img, refX, refImg } of all) {
    const at = `${label} at ${w}x${h}`;
    const got = await c.run(x, h, w);
    const d = maxAbsDiff(got, refX);
    assert.ok(d <= TOL, `${at}: max |wasm − reference| = ${d}`);
    worst = Math.max(worst, d);
    const bytes = await c.runImage(img);
    assert.deepEqual(bytes, fromFloat(await c.run(toFloat(img), h, w), w * c.scale, h * c.scale), `${at}: uint8 vs fromFloat(wasm f32)`);
    ties += assertBytesMatch(bytes.data, refImg, `${at}: uint8`);
    if (native) {
      assert.deepEqual(got, await native.run(x, h, w), `${at}: floats vs native`);
      assert.deepEqual(bytes, await native.runImage(img), `${at}: uint8 vs native`);
    }
  }
  return { worst, ties };
}

test('wasm equals the reference target for every architecture and scale, on 1 and 2 threads', async (t) => {
  let [worst, ties] = [0, 0];
  for (const spec of [WDSR, 'espcn', '{"arch":"fsrcnn-d2s","d":12,"s":5,"m":2}'])
    for (const s of [2, 3, 4]) {
      const m = randomModel(spec, s, 7 * s);
      const all = await cases(await compiled(m, referenceTarget), s);
      for (const threads of [1, 2]) {
        const r = await compare(`${spec} ×${s} ${threads} thread(s)`, await compiled(m, wasmTarget, { threads }), all);
        worst = Math.max(worst, r.worst);
        ties += r.ties;
      }
    }
  t.diagnostic(`worst max |wasm − reference|: ${worst.toExponential(2)}; bytes at a tie: ${ties}`);
});

// One model: each native one costs a C compile on a cold cache.
test('wasm computes the floats and bytes of native bit for bit', { skip: hasNative ? false : 'no C compiler' }, async () => {
  const m = randomModel(WDSR, 4, 28);
  const all = await cases(await compiled(m, referenceTarget), 4);
  assert.equal(new Set(all[2].img.data).size, 256, 'the widest frame holds every byte value (the uint8 input path converts four at a step)');
  const native = await compiled(m, nativeTarget, { threads: 1 });
  for (const threads of [1, 2]) await compare(`${threads} thread(s)`, await compiled(m, wasmTarget, { threads }), all, native);
});

test('tiled runs equal the reference (several tiles, 1 and 2 threads)', async () => {
  const m = randomModel(WDSR, 3, 11);
  const all = await cases(await compiled(m, referenceTarget), 12);
  for (const threads of [1, 2]) {
    const whole = await compiled(m, wasmTarget, { threads });
    const [h, w] = [29, 37];
    const tiled = await compiled(m, wasmTarget, { threads, memoryBudgetBytes: (whole.workingBytes(h, w) + whole.workingBytes(9, 9)) / 2 });
    assert.ok(tiled.tiles(h, w).length > 1, 'the frame is tiled');
    await compare(`tiled, ${threads} thread(s)`, tiled, all);
  }
});

test('without workers (no shared memory) a model runs on one thread, and the non-FMA code computes the same', async () => {
  const single = createWasmTarget({ engine: nodeHost.engine, cores: 4, canBlock: true });
  assert.equal(single.defaultThreads(), 1);
  assert.match(await single.describe(), /no threads/);
  const m = randomModel(WDSR, 2, 13);
  const all = await cases(await compiled(m, referenceTarget), 14);
  await compare('no workers', await compiled(m, single, { threads: 2 }), all);

  // The same stages with a separate multiply and add instead of relaxed_madd.
  const graph = fuseStages(optimizedGraph(m));
  const runner = new WasmRunner(graph, new Runtime(nodeHost, 1), { host: nodeHost, relaxed: false, tune: false });
  try {
    const { h, w, x, refX } = all[2];
    const out = new Float32Array(h * w * 3 * 4);
    await runner.runWindow(x, 'f32', w, { x: 0, y: 0, w, h }, { x: 0, y: 0, w, h }, out);
    const d = maxAbsDiff(out, refX);
    assert.ok(d <= TOL, `mul + add: max |wasm − reference| = ${d}`);
  } finally {
    await runner.dispose();
  }
});
