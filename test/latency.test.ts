// The profiler, profile files and the speed model, with a fake runner on a virtual clock: its latencies are a
// known function of the widths, so fitting can be checked against the truth, and failures can be injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { evaluate } from '../src/latency/evaluate.js';
import { fitSpeedModel } from '../src/latency/fit.js';
import { checkSetup, formatProfile, readProfile, validateProfile, type Profile } from '../src/latency/profile-file.js';
import { planParts, runProfile, type ProfileOptions } from '../src/latency/profiler.js';
import { partKey, type BlockRunner, type Part } from '../src/latency/runner.js';
import { sampleConfig } from '../src/latency/sampling.js';
import { SpeedModel } from '../src/latency/speed-model.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { checkGrad } from './support/gradcheck.js';

const MAIN = join(PACKAGE_ROOT, 'dist/src/cli/main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'rtsr-latency-'));

/** A device whose convs vectorise output channels in groups of 8, plus memory and launch costs. */
const pad8 = (x: number) => Math.ceil(x / 8) * 8;
const blockTruth = (c: number, m1: number, m2: number) =>
  0.4 + 2e-3 * c * pad8(m1) + 1.5e-3 * m1 * pad8(m2) + 9e-3 * m2 * pad8(c) + 0.02 * (c + m1 + m2);
const headTruth = (c: number) => 1 + 0.05 * pad8(c);
const tailTruth = (c: number) => 3 + 0.4 * c;
const FACTOR = 0.97;
const OFFSET = -0.05;

function truth(p: Part): number {
  switch (p.kind) {
    case 'head':
      return headTruth(p.c);
    case 'tail':
      return tailTruth(p.c);
    case 'block':
      return blockTruth(p.c, p.m1, p.m2);
    case 'model':
      return FACTOR * (headTruth(p.c) + p.blocks.reduce((a, b) => a + blockTruth(p.c, b.m1, b.m2), 0) + tailTruth(p.c)) + OFFSET * p.blocks.length;
  }
}

interface Fake extends BlockRunner {
  runs: string[];
}

/** Runs advance a virtual clock by the true latency times `slowdown(clock)` (a co-runner); it throws on run number `failAt`. */
function fakeRunner(clock: { t: number }, o: { failAt?: number; slowdown?: (t: number) => number; target?: string } = {}): Fake {
  const fake: Fake = {
    info: { runner: 'fake', target: o.target ?? 'native', compiler: 'none', threads: 1 },
    runs: [],
    prepare: async () => undefined,
    async run(p) {
      if (fake.runs.length === o.failAt) throw new Error('device lost');
      fake.runs.push(partKey(p));
      clock.t += truth(p) * (o.slowdown?.(clock.t) ?? 1);
    },
  };
  return fake;
}

function options(out: string, clock: { t: number }, extra: Partial<ProfileOptions> = {}): ProfileOptions {
  return { out, scale: 2, input: { w: 64, h: 36 }, samples: 150, seed: 3, warmup: 1, repeats: 3, batch: 40, now: () => clock.t, ...extra };
}

/** One synthetic profile shared by the fitting tests (exact times: the clock is virtual). */
let shared: { path: string; profile: Profile } | null = null;
async function syntheticProfile(): Promise<{ path: string; profile: Profile }> {
  if (!shared) {
    const clock = { t: 0 };
    const path = join(tmp(), 'p.json');
    shared = { path, profile: await runProfile(fakeRunner(clock), options(path, clock)) };
  }
  return shared;
}

let sharedModel: SpeedModel | null = null;
async function syntheticModel(): Promise<SpeedModel> {
  const { path, profile } = await syntheticProfile();
  sharedModel ??= fitSpeedModel(profile, path, { holdout: 0.25, seed: 1, steps: 1500 });
  return sharedModel;
}

test('sampling covers every C of the search space, small and odd widths, and extends a profile instead of replacing it', () => {
  const configs = Array.from({ length: 75 }, (_, i) => sampleConfig(1, i));
  assert.deepEqual([...new Set(configs.slice(0, 25).map((b) => b.c))].sort((a, b) => a - b), Array.from({ length: 25 }, (_, i) => i + 8));
  for (const b of configs) assert.ok(b.m1 >= 8 && b.m1 <= 6 * b.c && b.m2 >= 8 && b.m2 <= b.c, JSON.stringify(b));
  assert.ok(configs.filter((b) => b.m1 % 2 === 1).length > 10 && configs.filter((b) => b.m1 <= 16).length > 5);
  const small = planParts(10, 1).map(partKey);
  assert.deepEqual(planParts(20, 1).map(partKey).slice(0, small.length), small);
});

test('profile file: round trip, and validation errors name the field', async () => {
  const { path, profile } = await syntheticProfile();
  assert.deepEqual(readProfile(path), profile);
  assert.deepEqual(validateProfile(JSON.parse(formatProfile(profile)), 'x'), profile);
  assert.equal(profile.measurements.length, planParts(150, 3).length);
  for (const m of profile.measurements) assert.ok(m.samples.length === 3 && Math.abs(m.ms / truth(m.part) - 1) < 1e-9, partKey(m.part));
  const broken = (f: (p: Record<string, unknown>) => void) => {
    const p = JSON.parse(formatProfile(profile)) as Record<string, unknown>;
    f(p);
    return () => validateProfile(p, 'f.json');
  };
  assert.throws(broken((p) => (p.format = 'onnx')), /f\.json: not an rtsr latency profile/);
  assert.throws(broken((p) => (p.scale = 5)), /'scale' must be 2, 3 or 4/);
  assert.throws(broken((p) => ((p.measurements as { ms: number }[])[3].ms = 0)), /measurements\[3\]\.ms must be/);
  assert.throws(broken((p) => ((p.measurements as { ms: number }[])[2].ms *= 1.01)), /measurements\[2\]\.ms must be the median of its samples/);
  assert.throws(broken((p) => ((p.measurements as { samples: number[] }[])[0].samples.push(1))), /measurements\[0\]\.samples must be 1 to 3/);
  assert.throws(broken((p) => ((p.measurements as { part: unknown }[])[1].part = { kind: 'block', c: 3, m1: 0, m2: 1 })), /measurements\[1\]\.part: block needs/);
  assert.throws(broken((p) => (p.measurements as unknown[]).push((p.measurements as unknown[])[0])), /head:8 is measured twice/);
  assert.throws(broken((p) => (p.load = ['high'])), /'load' must be an array/);
});

test('a profile of another target, scale or input is refused with a clear message', async () => {
  const { path, profile } = await syntheticProfile();
  const setup = { target: profile.device.target, scale: profile.scale, input: profile.input };
  assert.throws(() => checkSetup(setup, { scale: 3 }, path), /measured for scale ×2, not ×3: its times do not apply here/);
  assert.throws(() => checkSetup(setup, { target: 'reference', input: { w: 640, h: 360 } }, path), /target 'native', not 'reference', input 64x36, not 640x360/);
  checkSetup(setup, { target: 'native', scale: 2 }, path);
  // Resuming into it with another setup is refused before anything runs.
  const clock = { t: 0 };
  const other = fakeRunner(clock, { target: 'reference' });
  await assert.rejects(runProfile(other, options(path, clock)), /target 'native', not 'reference'/);
  await assert.rejects(runProfile(fakeRunner(clock), options(path, clock, { scale: 3 })), /scale ×2, not ×3/);
  await assert.rejects(runProfile(fakeRunner(clock), options(path, clock, { repeats: 5 })), /--repeats 3/);
  assert.equal(other.runs.length, 0);
});

test('an interrupted profile resumes: finished samples are kept, finished parts are not run again', async () => {
  const out = join(tmp(), 'p.json');
  const clock = { t: 0 };
  const o = options(out, clock, { samples: 40 });
  const n = planParts(40, 3).length;
  // One warm-up round and three timed rounds over all parts: it dies in the second timed round.
  await assert.rejects(runProfile(fakeRunner(clock, { failAt: 2 * n + 10 }), o), /device lost/);
  const partial = readProfile(out);
  assert.equal(partial.load.length, 1);
  assert.equal(partial.measurements.length, n);
  assert.ok(partial.measurements.every((m) => m.samples.length === 1));
  const resumed = fakeRunner(clock);
  const full = await runProfile(resumed, o);
  assert.equal(resumed.runs.length, 3 * n, 'a warm-up round and the two missing rounds');
  full.measurements.forEach((m, i) => {
    assert.equal(m.samples.length, 3);
    assert.equal(m.samples[0], partial.measurements[i].samples[0]);
  });
  // More --samples later: only the new parts run.
  const extended = fakeRunner(clock);
  const more = await runProfile(extended, { ...o, samples: 50 });
  const old = new Set(full.measurements.map((m) => partKey(m.part)));
  assert.ok(extended.runs.length > 0 && extended.runs.every((k) => !old.has(k)), 'a finished part ran again');
  assert.deepEqual(more.measurements.map((m) => partKey(m.part)).sort(), planParts(50, 3).map(partKey).sort());
  const idle = fakeRunner(clock);
  await runProfile(idle, { ...o, samples: 50 });
  assert.equal(idle.runs.length, 0, 'a complete profile runs nothing');
});

test('interleaved rounds: a machine that slows down over the profile slows every part alike', async () => {
  const clock = { t: 0 };
  const out = join(tmp(), 'p.json');
  // The same profile on a steady machine gives the duration of the whole profile.
  const probe = { t: 0 };
  const logs: string[] = [];
  await runProfile(fakeRunner(probe), options(join(tmp(), 'probe.json'), probe, { samples: 60, repeats: 5, log: (l) => logs.push(l) }));
  const total = probe.t;
  // Progress says how much is left: on this steady machine every round takes the parts' summed time.
  const parts = planParts(60, 3);
  const round = parts.reduce((a, p) => a + truth(p), 0);
  assert.ok(logs.includes(`timing ${parts.length} parts: 1 warm-up and 5 timed rounds, every part once a round`), logs.join('\n'));
  const rounds = logs.filter((l) => l.startsWith('round '));
  assert.equal(rounds.length, 5);
  rounds.forEach((l, i) => assert.match(l, new RegExp(`^round ${i + 1}/5: ${parts.length} parts in ${(round / 1e3).toFixed(1)} s, load [\\d.]+; ~${Math.round(((4 - i) * round) / 1e3)} s left$`)));
  // Runs get up to 50 % slower from the first run to the last.
  const p = await runProfile(fakeRunner(clock, { slowdown: (t) => 1 + (0.5 * t) / total }), options(out, clock, { samples: 60, repeats: 5 }));
  const ratios = p.measurements.map((m) => m.ms / truth(m.part));
  const [lo, hi] = [Math.min(...ratios), Math.max(...ratios)];
  assert.ok(hi / lo < 1.12, `measured/true from ${lo.toFixed(3)} to ${hi.toFixed(3)}`);
});

test('fitting recovers synthetic latencies: held-out blocks within 5 %, alignment found, whole models right', async () => {
  const { profile } = await syntheticProfile();
  const model = await syntheticModel();
  assert.equal(model.data.align, 8, JSON.stringify(model.data.alignValidation));
  const r = evaluate(model, profile);
  assert.ok(r.heldOut >= 25);
  assert.equal(r.result.within5, 1, `within 5 %: ${r.result.within5}, MAPE ${r.result.mape}`);
  assert.ok(r.result.flops_baseline.mape > 3 * r.result.mape, `FLOPs baseline MAPE ${r.result.flops_baseline.mape}`);
  assert.ok(Math.abs(model.data.networkFactor - FACTOR) < 1e-6 && Math.abs(model.data.blockOffsetMs - OFFSET) < 1e-6, `composition ${model.data.networkFactor}, ${model.data.blockOffsetMs}`);
  for (const m of r.models) assert.ok(Math.abs(m.predicted / m.measured - 1) < 0.03, JSON.stringify(m));
  // Heads and tails are the measured tables: exact at every profiled C, linear between, flat below.
  const at = (f: (c: Tensor) => Tensor, c: number) => f.call(model, new Tensor(Float32Array.of(c), [1])).data[0];
  for (const c of [8, 9, 24, 32]) {
    assert.ok(Math.abs(at(model.headMs, c) / headTruth(c) - 1) < 1e-6 && Math.abs(at(model.tailMs, c) / tailTruth(c) - 1) < 1e-6, `C=${c}`);
  }
  assert.ok(Math.abs(at(model.headMs, 20.25) - (0.75 * headTruth(20) + 0.25 * headTruth(21))) < 1e-5);
  assert.equal(at(model.tailMs, 3), at(model.tailMs, 8));
  assert.ok(Math.abs(at(model.tailMs, 40) / tailTruth(40) - 1) < 1e-5, 'a linear tail extends along its line');
});

test('the predictor is differentiable in the widths: gradients match finite differences', async () => {
  const model = await syntheticModel();
  // Off half-integers, where alignment steps sit; two blocks share C, one with a keep gate. Scalars of shape
  // [], as a search's width = Σ of hard gates gives them.
  const w = (v: number) => new Tensor(Float32Array.of(v), [], true);
  const inputs = [w(20.3), w(100.2), w(15.8), w(60.1), w(7.2), w(0.8)];
  checkGrad((c, a1, a2, b1, b2, keep) => model.modelMs(c, [{ m1: a1, m2: a2 }, { m1: b1, m2: b2, keep }]), inputs, { h: 0.05 });
  // More width never predicts less time.
  for (const x of inputs) x.grad = null;
  const [c, a1, a2, b1, b2, keep] = inputs;
  model.modelMs(c, [{ m1: a1, m2: a2 }, { m1: b1, m2: b2, keep }]).backward();
  for (const x of inputs) assert.ok(x.grad![0] > 0, `gradient ${x.grad![0]} at width ${x.data[0]}`);
  // Widths counted from channel gates (straight-through): the latency gradient reaches every gate.
  const gates = new Tensor(Float32Array.from({ length: 24 }, (_, i) => 0.3 + i / 40), [24], true);
  const count = (g: Tensor) => ops.sum(ops.stThreshold(g, 0.5));
  model.modelMs(count(gates), [{ m1: w(90), m2: w(14) }]).backward();
  assert.ok(gates.grad!.every((g) => g > 0), 'every C gate is pushed down by latency');
  // At integer widths the value is exact: crossing an alignment step costs what the padded terms say.
  const at = (m1: number) => model.blockMs(w(16), w(m1), w(8)).data[0];
  assert.ok(at(17) - at(16) > 5 * (at(16) - at(15)), `steps: ${at(15)}, ${at(16)}, ${at(17)}`);
});

test('CLI: fit, eval --json, predict --json, and refusals', async () => {
  const { path } = await syntheticProfile();
  const dir = tmp();
  const model = join(dir, 'm.model.json');
  const cli = (...args: string[]) => execFileSync(process.execPath, [MAIN, 'speed-model', ...args], { encoding: 'utf8' });
  cli('fit', '--profile', path, '--out', model, '--steps', '800');
  const ev = JSON.parse(cli('eval', '--model', model, '--json', '--svg', join(dir, 'e.svg')));
  assert.deepEqual(Object.keys(ev).sort(), ['flops_baseline', 'mape', 'ms_per_gmac', 'within10', 'within5']);
  assert.ok(ev.ms_per_gmac.min <= ev.ms_per_gmac.median && ev.ms_per_gmac.median <= ev.ms_per_gmac.max && ev.ms_per_gmac.min > 0);
  assert.deepEqual(Object.keys(ev.flops_baseline).sort(), ['mape', 'within10', 'within5']);
  assert.ok(ev.within10 > 0.9 && ev.within10 <= 1);
  assert.ok(readFileSync(join(dir, 'e.svg'), 'utf8').includes('<circle'));
  const spec = { arch: 'wdsr-b', channels: 12, blocks: [{ m1: 50, m2: 9 }, { m1: 7, m2: 12 }] };
  const pred = JSON.parse(cli('predict', '--model', model, '--arch', JSON.stringify(spec), '--input', '64x36', '--json'));
  const want = truth({ kind: 'model', c: 12, blocks: spec.blocks });
  assert.ok(Math.abs(pred.ms / want - 1) < 0.05, `${pred.ms} vs ${want}`);
  const refused = spawnSync(process.execPath, [MAIN, 'speed-model', 'predict', '--model', model, '--arch', 'wdsr-b-4x8', '--scale', '3'], { encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /m\.model\.json was measured for scale ×2, not ×3/);
  const espcn = spawnSync(process.execPath, [MAIN, 'speed-model', 'predict', '--model', model, '--arch', 'espcn'], { encoding: 'utf8' });
  assert.match(espcn.stderr, /covers wdsr-b networks/);
  writeFileSync(join(dir, 'bad.json'), '{"format":"rtsr-latency-profile","version":1}');
  const bad = spawnSync(process.execPath, [MAIN, 'speed-model', 'fit', '--profile', join(dir, 'bad.json')], { encoding: 'utf8' });
  assert.match(bad.stderr, /bad\.json: 'device' must be an object/);
  assert.ok(!existsSync(join(dir, 'bad.model.json')));
});
