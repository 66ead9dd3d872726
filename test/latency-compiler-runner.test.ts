// The profiler's runner on a compiled target is the inference compiler's: parts and whole networks run the deployed
// kernels (functional checks only; speed is measured by `rtsr profile`, never asserted in tests). Parts are timed
// by a target's device clock where it has one; `rtsr profile` and `speed-model` run end to end on WebGPU (skipped,
// saying why, where no adapter can be had).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageNode } from '../src/compiler/ir.js';
import { timeRound } from '../src/latency/measure.js';
import { readProfile } from '../src/latency/profile-file.js';
import { getTarget } from '../src/targets/registry.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import type { Target } from '../src/targets/target.js';
import { createRunner, type Part } from '../src/latency/runner.js';
import { Rng } from '../src/util/random.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const webgpuSkip = (await (await getTarget('webgpu')).unavailable()) ?? false;

test('native profiles run through the compiler: every part kind prepares and runs; unprepared parts are refused', async () => {
  const runner = await createRunner({ target: await getTarget('native'), scale: 2, h: 9, w: 13 });
  assert.equal(runner.info.runner, 'compiler-fused');
  const parts: Part[] = [
    { kind: 'head', c: 5 },
    { kind: 'block', c: 5, m1: 37, m2: 11 },
    { kind: 'tail', c: 5 },
    { kind: 'model', c: 5, blocks: [{ m1: 37, m2: 11 }, { m1: 7, m2: 3 }] },
  ];
  await runner.prepare(parts);
  for (const p of parts) await runner.run(p);
  await assert.rejects(runner.run({ kind: 'block', c: 6, m1: 7, m2: 3 }), /part block:6,7,3 was not prepared/);
  const reference = await createRunner({ target: await getTarget('reference'), scale: 2, h: 9, w: 13 });
  assert.equal(reference.info.runner, 'engine-unfused');
});

test('parts are timed by the target\'s device clock where its stage bench has one; whole networks by the wall clock', async () => {
  // A target whose stage bench reports a device time of its own (40 ms + the stage's output channels) and
  // whose run() takes no time: the profiler's samples must be those figures, not the clock around run().
  const device = (s: StageNode) => 40 + s.terms[0].cout;
  const target: Target = {
    ...referenceTarget,
    benchStages: async (stages) => ({ run: async () => undefined, time: async (i) => device(stages[i]), dispose: async () => undefined }),
  };
  const runner = await createRunner({ target, scale: 2, h: 5, w: 7 });
  const parts: Part[] = [{ kind: 'head', c: 8 }, { kind: 'block', c: 8, m1: 9, m2: 8 }, { kind: 'tail', c: 8 }, { kind: 'model', c: 8, blocks: [{ m1: 9, m2: 8 }] }];
  await runner.prepare(parts);
  const clock = { calls: 0 };
  const times = await timeRound(runner, parts, new Rng(1), () => (clock.calls++, 0));
  assert.deepEqual(times.slice(0, 3), [48, 48, 12 + 40], 'head and block end in C = 8 channels, the tail in 3·2² = 12');
  assert.ok(times[3] > 0 && times[3] < 40, `the network runs on the reference interpreter: ${times[3]} ms of wall time`);
  assert.equal(clock.calls, 0, 'the runner times every part itself');
});

test('rtsr profile --target webgpu and speed-model fit run end to end on a tiny setup', { skip: webgpuSkip, timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-webgpu-profile-'));
  try {
    const env = { ...process.env, RTSR_CACHE_DIR: join(dir, 'cache') };
    const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env });
    const out = join(dir, 'webgpu.json');
    const profile = cli('profile', '--target', 'webgpu', '--input', '16x9', '--samples', '20', '--repeats', '1', '--warmup', '0', '--out', out);
    assert.equal(profile.status, 0, profile.stderr);
    t.diagnostic(profile.stdout.trim());
    const p = readProfile(out);
    assert.equal(p.device.target, 'webgpu');
    assert.ok(p.measurements.every((m) => m.samples.length === 1 && m.ms > 0), 'one positive sample per part');
    const fit = cli('speed-model', 'fit', '--target', 'webgpu', '--input', '16x9', '--profile', out);
    assert.equal(fit.status, 0, fit.stderr);
    t.diagnostic(fit.stdout.trim());
    const predict = cli('speed-model', 'predict', '--target', 'webgpu', '--input', '16x9', '--model', out.replace(/\.json$/, '.model.json'), '--arch', 'wdsr-b-x2', '--json');
    assert.equal(predict.status, 0, predict.stderr);
    assert.ok((JSON.parse(predict.stdout) as { ms: number }).ms > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
