// The suite every registered compile target runs (src/targets/registry.ts): outputs against the reference
// target's for every architecture at ×2, ×3 and ×4, odd frame sizes (some narrower than a vector), tiled and
// untiled, on one and two threads. Floats agree within 1e-5. Bytes: a target's uint8 output is exactly its own
// float output rounded as fromFloat rounds, and differs from the reference's only where the true value lies on a
// rounding tie (x.5 within float error): sums in another order (and fused multiply-adds) move such a value by an
// ulp to either side, so bit-exactness across summation orders is not a property any fast kernel has. A target
// that does not run on this machine is reported as skipped, by name and reason.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type CompiledModel } from '../src/compiler/compile.js';
import { fromFloat, rgbImage, type RgbImage, toFloat } from '../src/image/image.js';
import { getTarget, TARGET_NAMES } from '../src/targets/registry.js';
import { Rng } from '../src/util/random.js';
import { maxAbsDiff, randomImage, randomModel, WDSR_ODD } from './compiler-support.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'rtsr-targets-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const reference = await getTarget('reference');

const MODELS = [WDSR_ODD, 'espcn', 'fsrcnn-d2s'].flatMap((spec) => [2, 3, 4].map((scale) => ({ spec, scale })));
// 1×1, narrower than any vector (3 wide), widths that are multiples of neither 4 nor 8, a tall strip.
const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [13, 5],
  [9, 33],
  [29, 7],
];

const bytes = (rng: Rng, h: number, w: number) => rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255));

/** Asserts the byte rule above for one image. */
async function sameBytes(c: CompiledModel, ref: CompiledModel, img: RgbImage, what: string): Promise<void> {
  const { width: w, height: h } = img;
  const s = c.scale;
  const got = await c.runImage(img);
  assert.deepEqual(got, fromFloat(await c.run(toFloat(img), h, w), w * s, h * s), `${what}: uint8 output vs its own float output`);
  const want = (await ref.runImage(img)).data;
  const exact = await ref.run(toFloat(img), h, w);
  for (let i = 0; i < want.length; i++) {
    if (got.data[i] === want[i]) continue;
    const v = exact[i] * 255;
    assert.ok(Math.abs(got.data[i] - want[i]) === 1 && Math.abs(v - Math.floor(v) - 0.5) < 1e-5 * 255, `${what}: byte ${i} is ${got.data[i]}, the reference's ${want[i]} (value ${v})`);
  }
}

for (const name of TARGET_NAMES.filter((n) => n !== 'reference')) {
  const target = await getTarget(name);
  const missing = await target.unavailable();
  const skip = missing ? `the ${name} target does not run here: ${missing}` : false;

  test(`${name}: equals the reference target for every architecture, scale and odd frame size, on 1 and 2 threads`, { skip }, async (t) => {
    const rng = new Rng(3);
    let worst = 0;
    for (const { spec, scale } of MODELS) {
      const m = randomModel(spec, scale, 21 + scale);
      const ref = await compile(m, { target: reference });
      for (const threads of [1, 2]) {
        const c = await compile(m, { target, threads, tune: false, cacheDir });
        for (const [h, w] of SIZES) {
          const x = randomImage(rng, h, w);
          const d = maxAbsDiff(await c.run(x, h, w), await ref.run(x, h, w));
          assert.ok(d <= 1e-5, `${spec} ×${scale} at ${w}x${h}, ${threads} threads: max |${name} − reference| = ${d}`);
          worst = Math.max(worst, d);
          await sameBytes(c, ref, bytes(rng, h, w), `${spec} ×${scale} at ${w}x${h}, ${threads} threads`);
        }
        await c.dispose();
      }
    }
    t.diagnostic(`worst max |${name} − reference|: ${worst.toExponential(2)}`);
  });

  test(`${name}: tiled runs equal untiled ones (floats within 1e-5, bytes exactly)`, { skip }, async () => {
    const m = randomModel(WDSR_ODD, 3, 8);
    const whole = await compile(m, { target, threads: 2, tune: false, cacheDir });
    const rng = new Rng(9);
    const tiledFor = async (h: number, w: number): Promise<CompiledModel> =>
      // Half-way between the whole frame and the smallest tile (1 pixel and the 5-pixel halo all round): each
      // thread's scratch is a fixed cost that no tiling removes.
      compile(m, { target, threads: 2, tune: false, cacheDir, memoryBudgetBytes: (whole.workingBytes(h, w) + whole.workingBytes(11, 11)) / 2 });
    for (const [h, w] of [
      [37, 29],
      [61, 7],
      [5, 140],
    ]) {
      const tiled = await tiledFor(h, w);
      assert.ok(tiled.tiles(h, w).length > 1, `${w}x${h} should be tiled`);
      const x = randomImage(rng, h, w);
      const d = maxAbsDiff(await tiled.run(x, h, w), await whole.run(x, h, w));
      assert.ok(d <= 1e-5, `${w}x${h}: max |tiled − untiled| = ${d}`);
      const img = bytes(rng, h, w);
      assert.deepEqual(await tiled.runImage(img), await whole.runImage(img), `${w}x${h}: uint8 tiled vs untiled`);
      await tiled.dispose();
    }
    await whole.dispose();
  });
}
