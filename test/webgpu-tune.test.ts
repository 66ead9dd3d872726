// The WebGPU target's tuner on this machine's adapter (Dawn's OpenGL ES backend over llvmpipe here): every
// schedule it may choose computes the reference target's output, and its choices are stored per stage shape and
// adapter (in the cache directory from Node), reused, and measured again when a stored one is not a candidate; an
// adapter too slow to search keeps the default. Skipped, with the reason, where no adapter can be had.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { type StageShape, stageShape } from '../src/compiler/stage.js';
import { rgbImage, toFloat } from '../src/image/image.js';
import { getTarget } from '../src/targets/registry.js';
import type { Target } from '../src/targets/target.js';
import type { TuningStore } from '../src/targets/tuning.js';
import type { GpuLimits } from '../src/targets/webgpu/gpu.js';
import { createWebGpuTarget } from '../src/targets/webgpu/index.js';
import { nodeHost } from '../src/targets/webgpu/node.js';
import { candidates, defaultTuning, isGpuCandidate } from '../src/targets/webgpu/schedule.js';
import { Rng } from '../src/util/random.js';
import { memoryStore } from './support/memory-store.js';
import { maxAbsDiff, randomImage, randomModel, tieRule, WDSR_ODD } from './compiler-support.js';

const gpu = await getTarget('webgpu');
const skip = (await gpu.unavailable()) ?? false;
const reference = await getTarget('reference');
const dir = mkdtempSync(join(tmpdir(), 'rtsr-webgpu-tune-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The shared suite's WebGPU tolerance (issue 19): floats within 1e-4 of the reference's. */
const FLOAT_TOLERANCE = 1e-4;

const keyOf = (k: string) => JSON.parse(k) as { shape: StageShape; limits: GpuLimits; adapter: string; precision: string };

test('webgpu: every schedule the tuner may choose computes the reference\'s floats and bytes', { skip, timeout: 600_000 }, async (t) => {
  const m = randomModel(WDSR_ODD, 3, 31);
  // 65×67: a window the tuner schedules (≥ 64×64 pixels), odd in both directions.
  const [h, w] = [65, 67];
  const rng = new Rng(32);
  const x = randomImage(rng, h, w);
  const img = rgbImage(w, h, Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255));
  const ref = await compile(m, { target: reference });
  const [wantFloats, wantBytes, refOfBytes] = [await ref.run(x, h, w), (await ref.runImage(img)).data, await ref.run(toFloat(img), h, w)];
  // Round k stores every stage's k-th candidate (its last once it has no more): the runner takes stored choices
  // as they are, so each candidate of each stage runs in some round.
  let most = 1;
  let worst = 0;
  for (let k = 0; k < most; k++) {
    const chosen = new Set<string>();
    const store: TuningStore = {
      load(key) {
        const { shape, limits } = keyOf(key);
        const all = candidates(shape, limits);
        most = Math.max(most, all.length);
        const c = all[Math.min(k, all.length - 1)];
        chosen.add(JSON.stringify(c));
        return c;
      },
      save: () => assert.fail('a stored candidate is not measured again'),
    };
    const c = await compile(m, { target: createWebGpuTarget({ ...nodeHost, tuningStore: () => store }), tune: true });
    const d = maxAbsDiff(await c.run(x, h, w), wantFloats);
    assert.ok(d <= FLOAT_TOLERANCE, `round ${k} (${[...chosen].join(' ')}): max |webgpu − reference| = ${d}`);
    worst = Math.max(worst, d);
    const got = (await c.runImage(img)).data;
    const equal = tieRule(got, wantBytes, refOfBytes, FLOAT_TOLERANCE * 255, `round ${k} bytes`);
    assert.ok(equal >= 0.999 * got.length, `round ${k}: ${equal} of ${got.length} bytes equal the reference's`);
    await c.dispose();
  }
  t.diagnostic(`${most} rounds cover every candidate of every stage; worst max |webgpu − reference| ${worst.toExponential(2)}`);
});

test('webgpu: tuned schedules are stored per stage shape and adapter (the Node host: in the cache directory), reused, and a bad stored one is measured again', { skip, timeout: 600_000 }, async (t) => {
  const m = randomModel('{"arch":"wdsr-b","channels":5,"blocks":[{"m1":11,"m2":3}]}', 2, 33);
  const [h, w] = [64, 64];
  const x = randomImage(new Rng(34), h, w);
  const want = await (await compile(m, { target: reference })).run(x, h, w);
  const run = async (target: Target) => {
    const c = await compile(m, { target, tune: true, cacheDir: dir });
    try {
      return maxAbsDiff(await c.run(x, h, w), want);
    } finally {
      await c.dispose();
    }
  };
  const withStore = (store: TuningStore) => createWebGpuTarget({ ...nodeHost, tuningStore: () => store });
  const shapes = new Set(stagesOf(fuseStages(optimizedGraph(m))).map((s) => JSON.stringify(stageShape(s, 'f32'))));

  const t0 = performance.now();
  assert.ok((await run(createWebGpuTarget(nodeHost))) <= FLOAT_TOLERANCE, 'tuned schedules compute the reference\'s output');
  t.diagnostic(`tuning ${shapes.size} stage shapes at 64x64 took ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
  const folder = join(dir, 'webgpu-tuning');
  const files = readdirSync(folder).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, shapes.size, 'one file per stage shape');
  const entries = new Map(files.map((f) => Object.values(JSON.parse(readFileSync(join(folder, f), 'utf8')) as { key: string; value: unknown }) as [string, unknown]));
  for (const [k, v] of entries) {
    const key = keyOf(k);
    assert.ok(key.adapter && (await gpu.describe()).includes(`adapter ${key.adapter}`), `keyed by the adapter: ${key.adapter}`);
    assert.ok(isGpuCandidate(v, key.shape, key.limits), `stored ${JSON.stringify(v)} is a candidate`);
    t.diagnostic(`${key.shape.terms.map((x) => `${x.k}x${x.k}·${x.cin}${x.chain.length ? ` after ${x.chain.length} 1x1` : ''}`).join(' + ')} → ${key.shape.cout}: ${JSON.stringify(v)} (default ${JSON.stringify(defaultTuning(key.shape, key.limits))})`);
  }

  const second = memoryStore(new Map(entries));
  assert.ok((await run(withStore(second.store))) <= FLOAT_TOLERANCE);
  assert.deepEqual(second.stats, { loads: shapes.size, saves: 0 }, 'every choice comes from the store');

  // A tile width that is no candidate (not a whole word of bytes), and a stored value of another kind.
  const [bad, other] = entries.keys();
  const third = memoryStore(new Map([...entries, [bad, { ...(entries.get(bad) as object), tw: 5 }], [other, 'x']]));
  assert.ok((await run(withStore(third.store))) <= FLOAT_TOLERANCE);
  assert.equal(third.stats.saves, 2, 'only the bad choices are measured again');
  for (const k of [bad, other]) assert.ok(isGpuCandidate(third.entries.get(k), keyOf(k).shape, keyOf(k).limits));
});

test('webgpu: an adapter too slow to search within the budget keeps (and stores) the default schedule', { skip, timeout: 300_000 }, async () => {
  // Every pipeline takes 2 s to build: a search would take ~2 s per candidate, past the 10 s budget of a stage.
  const { store, entries } = memoryStore();
  const slow = createWebGpuTarget({
    ...nodeHost,
    async adapter() {
      const a = await nodeHost.adapter();
      if (typeof a === 'string') return a;
      return {
        features: a.features,
        limits: a.limits,
        info: a.info,
        async requestDevice(d) {
          const device = await a.requestDevice(d);
          const build = device.createComputePipelineAsync.bind(device);
          device.createComputePipelineAsync = async (desc) => (await new Promise((r) => setTimeout(r, 2000)), build(desc));
          return device;
        },
      };
    },
    tuningStore: () => store,
  });
  const m = randomModel('espcn', 2, 37);
  const [h, w] = [64, 64];
  const t0 = performance.now();
  const c = await compile(m, { target: slow, tune: true });
  const x = randomImage(new Rng(38), h, w);
  const d = maxAbsDiff(await c.run(x, h, w), await (await compile(m, { target: reference })).run(x, h, w));
  await c.dispose();
  assert.ok(d <= FLOAT_TOLERANCE, `max |webgpu − reference| = ${d}`);
  const stages = stagesOf(fuseStages(optimizedGraph(m))).length;
  assert.equal(entries.size, stages, 'a choice per stage shape is stored');
  for (const [k, v] of entries) assert.deepEqual(v, defaultTuning(keyOf(k).shape, keyOf(k).limits), 'the default');
  // One probe pipeline per stage shape, and the programs' own (the default's, built by the probe): no search.
  assert.ok(performance.now() - t0 < 2000 * (2 * stages + 3), `${((performance.now() - t0) / 1e3).toFixed(1)} s`);
});
