// The FMA ceiling every benchmark prints: measured through the native toolchain, above what our kernels reach in
// the same run, in `rtsr bench ceiling`, `rtsr bench train` and (test/compiler-bench.test.ts) `rtsr bench`; and
// said plainly where there is no C compiler.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findToolchain } from '../src/backends/native/compile.js';
import { aroundCeiling, ceilingLine, measureCeiling } from '../src/bench/ceiling.js';
import { compile } from '../src/compiler/compile.js';
import { Model } from '../src/models/model.js';
import { nativeTarget } from '../src/targets/native/index.js';
import { Rng } from '../src/util/random.js';
import { randomImage } from './compiler-support.js';

const skip = findToolchain() ? false : 'no C compiler with OpenMP';
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'rtsr-ceiling-test-'));
after(() => rmSync(cache, { recursive: true, force: true }));
const rtsr = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [MAIN, 'bench', ...args], { env: { ...process.env, RTSR_CACHE_DIR: cache, ...env }, encoding: 'utf8' });

test('the ceiling is positive at every vector width and above what a compiled model reaches around it', { skip }, async () => {
  const model = Model.init({ arch: 'wdsr-b', scale: 2, channels: 16, blocks: [{ m1: 64, m2: 16 }] }, 0);
  const [h, w] = [48, 256];
  const x = randomImage(new Rng(3), h, w);
  const c = await compile(model, { target: nativeTarget, threads: 1, cacheDir: cache });
  await c.run(x, h, w);
  const { value: ms, ceiling } = await aroundCeiling(1, async () => {
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await c.run(x, h, w);
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  });
  const ours = (2 * model.macs(h, w)) / (ms * 1e6);
  assert.ok(ceiling.gflops! > 0 && ceiling.note === null && ceiling.widths.length >= 1);
  assert.equal(ceiling.gflops, Math.max(...ceiling.widths.map((x) => x.gflops)));
  assert.ok(ours < ceiling.gflops!, `ours ${ours.toFixed(1)} GFLOP/s, ceiling ${ceiling.gflops!.toFixed(1)}`);
  assert.match(ceilingLine(ceiling, ours), /^ceiling \(1 thread, measured in this run\): [\d.]+ GFLOP\/s FP32 FMA \(\d+-float vectors\) → [\d.]+ GFLOP\/s is [\d.]+ % of it$/);
  const two = measureCeiling(2, 0.1);
  assert.ok(two.threads === 2 && two.gflops! > 0);
});

test('rtsr bench ceiling --json, and bench train --json carries the ceiling beside its GFLOP/s and names the machine', { skip }, () => {
  const c = rtsr(['ceiling', '--threads', '1', '--seconds', '0.1', '--json']);
  assert.equal(c.status, 0, c.stderr);
  const j = JSON.parse(c.stdout);
  assert.deepEqual(Object.keys(j), ['threads', 'ceiling_gflops', 'lanes', 'widths', 'note']);
  assert.ok(j.threads === 1 && j.ceiling_gflops > 0 && j.note === null);
  const t = rtsr(['train', '--no-torch', '--steps', '1', '--warmup', '0', '--json'], { OMP_NUM_THREADS: '1' });
  assert.equal(t.status, 0, t.stderr);
  const r = JSON.parse(t.stdout);
  assert.ok(r.ceiling_gflops > 0 && Math.abs(r.share_of_ceiling - r.gflops / r.ceiling_gflops) < 1e-9, t.stdout);
  // The figures name the machine they were measured on, as node reads it.
  assert.ok(r.machine.startsWith(cpus()[0].model.trim()) && r.machine.endsWith(`, ${cpus().length} cores`), r.machine);
  const line = rtsr(['train', '--no-torch', '--steps', '1', '--warmup', '0'], { OMP_NUM_THREADS: '1' });
  assert.match(line.stdout, /\nceiling \(1 thread, measured in this run\): [\d.]+ GFLOP\/s FP32 FMA \(\d+-float vectors\) → [\d.]+ GFLOP\/s is [\d.]+ % of it\nmachine: .+, \d+ cores\n$/);
});

test('bench train --rounds N: each round, then the medians over them', { skip }, () => {
  const t = rtsr(['train', '--no-torch', '--steps', '1', '--warmup', '0', '--rounds', '3', '--json'], { OMP_NUM_THREADS: '1' });
  assert.equal(t.status, 0, t.stderr);
  const r = JSON.parse(t.stdout);
  assert.equal(r.rounds.length, 3);
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  assert.equal(r.ms_per_step, mid(r.rounds.map((x: { ms_per_step: number }) => x.ms_per_step)));
  assert.equal(r.ceiling_gflops, mid(r.rounds.map((x: { ceiling_gflops: number }) => x.ceiling_gflops)));
  for (const x of r.rounds) assert.ok(Math.abs(x.share_of_ceiling - r.gflops * (r.ms_per_step / x.ms_per_step) / x.ceiling_gflops) < 1e-9, t.stdout);
  const text = rtsr(['train', '--no-torch', '--steps', '1', '--warmup', '0', '--rounds', '2'], { OMP_NUM_THREADS: '1' });
  assert.match(text.stdout, /^round 1: ours [\d.]+ ms; [\d.]+ % of [\d.]+ GFLOP\/s\nround 2: .+\nmedian of 2 rounds, conv5x32 \(batch 16 × 48×48, native, 1 thread\): /);
});

test('without a C compiler the ceiling line says it was not measured, and why', () => {
  // No compiler on PATH (and no CC): the toolchain probe finds none.
  const env = { PATH: '/nonexistent', CC: '' };
  const c = rtsr(['ceiling', '--json'], env);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).ceiling_gflops, null);
  const r = rtsr(['--arch', 'espcn', '--input', '9x7', '--target', 'reference', '--warmup', '0', '--repeats', '1'], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\nceiling \(\d+ threads?\): not measured \(no C compiler with OpenMP found, so no FMA loop to measure it with\)\n$/);
});
