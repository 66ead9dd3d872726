// The wasm target's tuner and its stores, the profiler's stage bench, a worker's failure, and that everything but
// the Node host is free of `node:*` (a browser bundle imports index.js).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, optimizedGraph } from '../src/compiler/compile.js';
import { fuseStages, stagesOf } from '../src/compiler/fuse.js';
import { isTuningCandidate } from '../src/compiler/stage.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import { LIMITS } from '../src/targets/wasm/abi.js';
import type { TuningStore } from '../src/targets/tuning.js';
import { createWasmTarget } from '../src/targets/wasm/index.js';
import { Func, ModuleBuilder } from '../src/targets/wasm/encode.js';
import { nodeHost } from '../src/targets/wasm/node.js';
import { MAX_PAGES, Runtime } from '../src/targets/wasm/runtime.js';
import { Rng } from '../src/util/random.js';
import { memoryStore } from './support/memory-store.js';
import { maxAbsDiff, randomImage, randomModel } from './compiler-support.js';

const WDSR = '{"arch":"wdsr-b","channels":5,"blocks":[{"m1":11,"m2":3},{"m1":7,"m2":5}]}';
const dir = mkdtempSync(join(tmpdir(), 'rtsr-wasm-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('tuned kernels compute the same; choices are stored, reused from a store, and a bad stored one is measured again', async () => {
  const m = randomModel(WDSR, 2, 21);
  // 33 pixels are 9 vectors: a width class the tuner measures (8 rows: the tuner's smallest call).
  const [h, w] = [8, 33];
  const x = randomImage(new Rng(22), h, w);
  const want = await (await compile(m, { target: referenceTarget })).run(x, h, w);
  const run = async (store: TuningStore) => {
    const c = await compile(m, { target: createWasmTarget({ ...nodeHost, tuningStore: () => store }), threads: 1, tune: true });
    try {
      return await c.run(x, h, w);
    } finally {
      await c.dispose();
    }
  };

  const first = memoryStore();
  assert.ok(maxAbsDiff(await run(first.store), want) <= 1e-5, 'tuned kernels equal the reference');
  const shapes = new Set(stagesOf(fuseStages(optimizedGraph(m))).map((s) => JSON.stringify(s.terms.map((t) => [t.k, t.cin, t.chain.length]))));
  assert.equal(first.stats.saves, shapes.size, 'one choice per stage shape');
  for (const v of first.entries.values()) assert.ok(isTuningCandidate(v, LIMITS), `stored ${JSON.stringify(v)}`);

  const second = memoryStore(new Map(first.entries));
  assert.ok(maxAbsDiff(await run(second.store), want) <= 1e-5);
  assert.deepEqual(second.stats, { loads: shapes.size, saves: 0 }, 'every choice comes from the store');

  const [bad] = first.entries.keys();
  const third = memoryStore(new Map([...first.entries, [bad, { ...(first.entries.get(bad) as object), ob: 99 }]]));
  assert.ok(maxAbsDiff(await run(third.store), want) <= 1e-5);
  assert.equal(third.stats.saves, 1, 'only the bad choice is measured again');
  assert.ok(isTuningCandidate(third.entries.get(bad), LIMITS));
});

test('the Node store keeps a value per key in a JSON file and ignores files of other keys or torn ones', () => {
  const store = nodeHost.tuningStore!(dir);
  assert.equal(store.load('a'), undefined);
  store.save('a', { ob: 6 });
  store.save('b', [1, 2]);
  assert.deepEqual(store.load('a'), { ob: 6 });
  assert.deepEqual(store.load('b'), [1, 2]);
  const files = readdirSync(join(dir, 'wasm-tuning')).map((f) => join(dir, 'wasm-tuning', f));
  assert.equal(files.length, 2);
  const [fa, fb] = files.sort((p, q) => readFileSync(p, 'utf8').length - readFileSync(q, 'utf8').length);
  writeFileSync(fb, readFileSync(fa));
  writeFileSync(fa, '{"key": "a", "val');
  assert.equal(store.load('a'), undefined, 'torn');
  assert.equal(store.load('b'), undefined, 'another key');
});

test('benchStages runs every stage of a model on synthetic inputs, on 2 threads', async () => {
  const target = createWasmTarget(nodeHost);
  const stages = stagesOf(fuseStages(optimizedGraph(randomModel(WDSR, 3, 23))));
  const bench = await target.benchStages!(stages, { io: 'u8', h: 11, w: 19, threads: 2, tune: false });
  try {
    for (let i = 0; i < stages.length; i++) await bench.run(i);
  } finally {
    await bench.dispose();
  }
});

test('a kernel that traps on a worker fails the run (it does not hang), and the runtime refuses further runs', async () => {
  // (args, y0, y1, scratch): on a worker (scratch ≠ 0) it raises the flag at `args`, then traps; thread 0 waits
  // for the flag in every band, so a worker surely takes a band however late it wakes (a loaded machine).
  const f = new Func(['i32', 'i32', 'i32', 'i32'], []);
  f.get(3).if(() => f.get(0).i32(1).mem('i32.atomic.store').op('unreachable'));
  f.loop((top) => f.get(0).mem('i32.atomic.load').op('i32.eqz').brIf(top));
  const rt = new Runtime(nodeHost, 2);
  try {
    const mb = new ModuleBuilder({ min: 1, max: MAX_PAGES, shared: true });
    mb.add(f, 'stage');
    const m = await rt.load(await WebAssembly.compile(mb.encode()), ['stage']);
    const flag = rt.alloc(4);
    // (The worker's own console, on stderr, shows the trap.)
    await assert.rejects(rt.run(m, 0, flag, 0, 64, 0, 64), /a worker failed/);
    await assert.rejects(rt.run(m, 0, flag, 0, 64, 0, 64), /a worker failed/);
  } finally {
    await rt.dispose();
  }
});

test('the target outside node.ts and its worker entry imports no node:* module (a browser bundles index.js)', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../src/targets/wasm/index.js');
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, a, b] of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = a ?? b;
      assert.ok(spec.startsWith('.'), `${file} imports '${spec}'`);
      const next = resolve(dirname(file), spec);
      assert.ok(existsSync(next), `${next} exists`);
      visit(next);
    }
  };
  visit(root);
  assert.ok([...seen].some((f) => f.endsWith('render.js')) && ![...seen].some((f) => f.endsWith('node.js')), 'the walk reached the renderer and not the host');
});
