// `rtsr bench --model|--arch … --input WxH [--compare onnxruntime] [--json]`: the inference benchmark's output
// contract (one model, or several side by side against a budget), and that `rtsr bench train` still answers as before.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../src/bench/infer-bench.js';
import { findModel } from '../src/models/zoo.js';
import { getTarget } from '../src/targets/registry.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'rtsr-bench-test-'));
after(() => rmSync(cache, { recursive: true, force: true }));
const rtsr = (...args: string[]) =>
  spawnSync(process.execPath, [MAIN, 'bench', ...args], { env: { ...process.env, RTSR_CACHE_DIR: cache }, encoding: 'utf8' });
const ARCH = '{"arch":"wdsr-b","channels":6,"blocks":[{"m1":13,"m2":5}]}';

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('bench --compare onnxruntime --json prints one object with the agreed fields', () => {
  const r = rtsr('--arch', ARCH, '--input', '23x11', '--compare', 'onnxruntime', '--json', '--warmup', '1', '--repeats', '3');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ['model', 'target', 'threads', 'input', 'ms', 'gflops', 'onnxruntime', 'onnxruntime_ms', 'speedup', 'max_abs_diff', 'alongside', 'alongside_ms', 'ratio_to_alongside', 'ceiling_gflops', 'share_of_ceiling']);
  assert.equal(j.onnxruntime, 'onnxruntime');
  assert.equal(j.alongside, null);
  assert.equal(j.model, ARCH);
  assert.equal(j.target, 'native');
  assert.equal(j.input, '23x11');
  assert.ok(j.ms > 0 && j.onnxruntime_ms > 0 && j.gflops > 0);
  assert.ok(Math.abs(j.speedup - j.onnxruntime_ms / j.ms) < 1e-9);
  assert.ok(j.max_abs_diff <= 1e-4, `max_abs_diff ${j.max_abs_diff}`);
  assert.ok(j.ceiling_gflops > 0 && Math.abs(j.share_of_ceiling - j.gflops / j.ceiling_gflops) < 1e-9);
});

test('bench --compare onnxruntime-web times its wasm backend on the same weights and threads', () => {
  const r = rtsr('--arch', ARCH, '--input', '23x11', '--compare', 'onnxruntime-web', '--threads', '1', '--json', '--warmup', '0', '--repeats', '2');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.onnxruntime, 'onnxruntime-web');
  assert.equal(j.threads, 1);
  assert.ok(j.onnxruntime_ms > 0 && Math.abs(j.speedup - j.onnxruntime_ms / j.ms) < 1e-9);
  assert.ok(j.max_abs_diff <= 1e-4, `max_abs_diff ${j.max_abs_diff}`);
});

test('bench --target webgpu --compare onnxruntime-webgpu: the same adapter on a GPU, else says plainly why not', async (t) => {
  const webgpu = await getTarget('webgpu');
  const missing = await webgpu.unavailable();
  if (missing) return t.skip(`the webgpu target does not run here: ${missing}`);
  const r = rtsr('--arch', ARCH, '--input', '23x11', '--target', 'webgpu', '--compare', 'onnxruntime-webgpu', '--json', '--warmup', '0', '--repeats', '2');
  if (r.status === 0) {
    const j = JSON.parse(r.stdout);
    assert.equal(j.onnxruntime, 'onnxruntime-webgpu');
    assert.ok(j.max_abs_diff <= 1e-3, `max_abs_diff ${j.max_abs_diff}`);
  } else {
    assert.match(r.stderr, /rtsr: onnxruntime-webgpu cannot load the model \(it needs a WebGPU adapter in core mode, i\.e\. a GPU\)/);
    t.diagnostic('no GPU here: onnxruntime-web\'s WebGPU EP refused, as expected on a software adapter');
  }
});

test('bench without --compare prints ours only; usage errors exit with status 2; bench train still parses', () => {
  const r = rtsr('--arch', 'espcn', '--input', '9x7', '--warmup', '0', '--repeats', '1', '--target', 'reference');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^espcn ×2, 9x7 → 18x14, reference \(\d+ threads?\): [\d.]+ ms\/frame, [\d.]+ GFLOP\/s\nceiling \(\d+ threads?, measured in this run\): [\d.]+ GFLOP\/s FP32 FMA \(\d+-float vectors\) → [\d.]+ GFLOP\/s is [\d.]+ % of it\n$/);
  for (const [args, message] of [
    [['--arch', 'espcn'], /usage: rtsr bench --model/],
    [['--arch', 'espcn', '--input', '9x7', '--compare', 'tflite'], /--compare must be onnxruntime, onnxruntime-web or onnxruntime-webgpu, not 'tflite'/],
    [['--arch', 'espcn', '--input', '9by7'], /--input must be WIDTHxHEIGHT/],
    [['train', '--net', 'nope'], /--net must be conv5x32, wdsr-b or supernet, not 'nope'/],
  ] as const) {
    const e = rtsr(...args);
    assert.equal(e.status, 2, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, message);
  }
});

test('bench with several models or architectures times each and lists its stored metrics against the budget', () => {
  const r = rtsr('--model', 'wdsr-b-x2', '--model', 'espcn-x2', '--input', '16x9', '--budget-ms', '1000', '--warmup', '0', '--repeats', '3', '--json');
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { model: string; ms: number; gflops: number; meets_budget: boolean; metrics: Record<string, { psnr: number }>; ceiling_gflops: number; share_of_ceiling: number }[];
  assert.deepEqual(rows.map((x) => x.model), ['wdsr-b-x2', 'espcn-x2']);
  for (const row of rows) {
    assert.ok(row.ms > 0 && row.ms < 1000 && row.meets_budget, JSON.stringify(row));
    assert.ok(row.ceiling_gflops > 0 && Math.abs(row.share_of_ceiling - row.gflops / row.ceiling_gflops) < 1e-9, JSON.stringify(row));
    assert.equal(row.metrics.Set5.psnr, findModel(row.model).info.metrics!.Set5.psnr);
  }
  const mixed = rtsr('--model', 'wdsr-b-x2', '--arch', ARCH, '--input', '16x9', '--warmup', '0', '--repeats', '1', '--json');
  assert.equal(mixed.status, 0, mixed.stderr);
  const [trained, untrained] = JSON.parse(mixed.stdout) as { model: string; ms: number; meets_budget: null; metrics: object; arch: object }[];
  assert.equal(trained.model, 'wdsr-b-x2');
  assert.equal(untrained.model, ARCH);
  assert.deepEqual(untrained.arch, { ...JSON.parse(ARCH), scale: 2 });
  assert.deepEqual(untrained.metrics, {});
  assert.ok(untrained.ms > 0 && untrained.meets_budget === null);
  const tight = rtsr('--model', 'wdsr-b-x2', '--input', '16x9', '--budget-ms', '0.000001', '--warmup', '0', '--repeats', '1');
  assert.equal(tight.status, 0, tight.stderr);
  assert.match(tight.stdout, /\| wdsr-b-x2 \| [\d.]+ \| \d+ \| \d+ % \| no \|/);
  assert.match(tight.stdout, /\nceiling \(\d+ threads?, measured in this run\): [\d.]+ GFLOP\/s FP32 FMA/);
  const e = rtsr('--model', 'wdsr-b-x2', '--model', 'espcn-x2', '--input', '16x9', '--compare', 'onnxruntime');
  assert.equal(e.status, 2);
  assert.match(e.stderr, /give a single --model/);
});
