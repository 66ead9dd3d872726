// The search's stages on synthetic data with an analytic speed model: the latency term drives the derived
// network under the budget, the seed's variant moves no width gate, and a killed search resumes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { parseArch } from '../src/models/registry.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { SpeedModel, type SpeedModelData } from '../src/latency/speed-model.js';
import { type LatencyPredictor, latencyPenalty, predictedMs, rampedTarget, speedModelPredictor, fillToBudget, specMs, trimToBudget } from '../src/search/latency-loss.js';
import { deriveWithinBudget } from '../src/search/derive.js';
import { runSearch, type SearchConfig } from '../src/search/stages.js';
import { Supernet } from '../src/search/supernet.js';
import { type BatchSource } from '../src/train/loop.js';
import { Rng } from '../src/util/random.js';
import { optimizedGraph } from '../src/compiler/compile.js';
import { Model } from '../src/models/model.js';
import { withReparam } from '../src/models/reparam.js';
import { loadRecipe, patchAt, type Recipe } from '../src/train/recipe.js';

/** MACs-proportional: 1 ms per 1000 MACs per pixel, plus a head/tail cost in C. */
const flopsModel: LatencyPredictor = {
  block: (c, m1, m2) => ops.affine(ops.add(ops.add(ops.mul(c, m1), ops.mul(m1, m2)), ops.affine(ops.mul(m2, c), 9, 0)), 1e-3, 0),
  fixed: (c) => ops.affine(c, (27 + 108) * 1e-3, 1),
};

function data(n: number, p: number): BatchSource {
  return {
    batch(step) {
      const rng = new Rng(77 + step);
      const lr = rng.fill(new Float32Array(n * p * p * 3), () => rng.next());
      const hr = new Float32Array(n * 4 * p * p * 3);
      for (let b = 0; b < n; b++)
        for (let y = 0; y < 2 * p; y++)
          for (let x = 0; x < 2 * p; x++)
            for (let c = 0; c < 3; c++) hr[((b * 2 * p + y) * 2 * p + x) * 3 + c] = lr[((b * p + (y >> 1)) * p + (x >> 1)) * 3 + c];
      return { lr: new Tensor(lr, [n, p, p, 3]), hr: new Tensor(hr, [n, 2 * p, 2 * p, 3]) };
    },
  };
}

const supernet = parseArch('wdsr-b-3x12', 2) as WdsrSpec; // C 12, M1 72, M2 10
const base: SearchConfig = {
  supernet, targetMs: 5.5, steps: { pretrain: 20, width: 60, joint: 80, finetune: 20 }, batch: 2, patch: 6, lr: 1e-3,
  gateLr: { width: 0.01, joint: 0.004 }, gamma: 0.1, targetRamp: 0.5, belowTarget: 0.5, gateRange: [0, 1], widthGradient: true, gateWorth: 'straight-through', depthOwnScale: false, sharedGateScale: true, seed: 5, valEvery: 0, checkpointEvery: 25,
};

const taylor: SearchConfig = { ...base, gateWorth: 'taylor', depthOwnScale: true };

test('each width gate receives the derivative of the predicted latency in its layer width; keep gates the block cost', () => {
  const net = Supernet.init(supernet, 1);
  net.gates.c.data[3] = 0.2; // one dead channel: the widths are not all full
  const sel = net.selection();
  const n = (m: boolean[]) => m.filter(Boolean).length;
  const s = (v: number) => new Tensor(Float32Array.of(v), []);
  // The oracle: T as a plain function of continuous widths, differentiated by central differences.
  const T = (c: number, m1: number[], m2: number[]) =>
    flopsModel.fixed(s(c)).data[0] + m1.reduce((acc, _, i) => acc + flopsModel.block(s(c), s(m1[i]), s(m2[i])).data[0], 0);
  const c0 = n(sel.c);
  const m1 = sel.blocks.map((b) => n(b.m1));
  const m2 = sel.blocks.map((b) => n(b.m2));
  const h = 0.5;
  const dC = (T(c0 + h, m1, m2) - T(c0 - h, m1, m2)) / (2 * h);
  const dM1 = (T(c0, [m1[0] + h, ...m1.slice(1)], m2) - T(c0, [m1[0] - h, ...m1.slice(1)], m2)) / (2 * h);
  predictedMs(net, flopsModel, { depth: true, widthGradient: true }).backward();
  for (const g of net.gates.c.grad!) assert.ok(Math.abs(g - dC) < 1e-4 * Math.abs(dC), `C gate ${g} vs dT/dC ${dC}`);
  for (const g of net.gates.blocks[0].m1.grad!) assert.ok(Math.abs(g - dM1) < 1e-4 * Math.abs(dM1), `M1 gate ${g} vs dT/dM1 ${dM1}`);
  const blockMs = flopsModel.block(s(c0), s(m1[1]), s(m2[1])).data[0];
  assert.ok(Math.abs(net.gates.blocks[1].keep.grad![0] - blockMs) < 1e-5, 'keep gate gradient = the block cost');
});

test('the target moves linearly from where the last stage left it over the ramp, then holds; the penalty is the seed\'s plus a weaker pull from below', () => {
  assert.deepEqual([0, 25, 49, 50, 99].map((s) => rampedTarget(100, 50, s, 100, 0.5)), [100, 75, 51, 50, 50]);
  assert.equal(rampedTarget(100, 50, 0, 100, 0), 50, 'ramp 0: the fixed target from the first step');
  const t = (v: number) => new Tensor(Float32Array.of(v), []);
  assert.equal(latencyPenalty(t(70), 75, 150, 0.1, 0)!.data[0], 0, "the seed's: nothing below the target");
  assert.ok(Math.abs(latencyPenalty(t(90), 75, 150, 0.1, 0)!.data[0] - (0.1 * 15) / 150) < 1e-7);
  assert.ok(Math.abs(latencyPenalty(t(90), 75, 150, 0.1, 0.5)!.data[0] - (0.1 * 15) / 150) < 1e-7, 'above: the same');
  const below = new Tensor(Float32Array.of(70), [], true);
  const p = latencyPenalty(below, 75, 150, 0.1, 0.5)!;
  assert.ok(Math.abs(p.data[0] - (0.5 * 0.1 * 5) / 150) < 1e-7, 'below: a weaker pull');
  p.backward();
  assert.ok(Math.abs(below.grad![0] + (0.5 * 0.1) / 150) < 1e-9, 'its gradient raises T');
  assert.equal(latencyPenalty(t(90), 75, 0, 0.1, 0.5), null, 'a supernet already within the target: no term');
});

test('with the width gradient, the search drives the derived network under the budget', async () => {
  const stages: [string, unknown][] = [];
  const onStage = (s: string, derived?: unknown) => stages.push([s, derived]);
  const ours = await runSearch({ ...base, gamma: 5 }, flopsModel, mkdtempSync(join(tmpdir(), 'rtsr-search-')), { data: data(2, 6), quiet: true, onStage });
  assert.deepEqual(stages, [['pretrain', undefined], ['width', undefined], ['joint', undefined], ['finetune', { spec: ours.model!.spec, predictedMs: ours.predictedMs }]], 'each stage announced; the fine-tune with what was derived');
  assert.ok(ours.supernetMs > 1.9 * base.targetMs, `supernet ${ours.supernetMs} ms`);
  assert.ok(ours.predictedMs <= base.targetMs * 1.05, `derived network predicted at ${ours.predictedMs} ms, budget ${base.targetMs}`);
  assert.ok(ours.model, 'fine-tuned model');
  const gates = [...ours.supernet.widthGates(), ...ours.supernet.depthGates()].flatMap((g) => [...g.data]);
  assert.ok(gates.every((v) => v >= 0 && v <= 1), 'gates clipped into [0, 1] after every step');
});

test('with Taylor worth, the derived network meets the budget too (trimmed to it where the gates end over)', async () => {
  const r = await runSearch({ ...taylor, gamma: 5 }, flopsModel, mkdtempSync(join(tmpdir(), 'rtsr-search-')), { data: data(2, 6), quiet: true });
  assert.ok(r.predictedMs <= base.targetMs, `derived network predicted at ${r.predictedMs} ms, budget ${base.targetMs}`);
  assert.ok(r.predictedMs >= base.targetMs * 0.8, `and uses it: ${r.predictedMs} ms`);
});

test('over the budget after the joint stage, the least certain live channels are turned off until it fits', () => {
  const net = Supernet.init(supernet, 4);
  net.gates.blocks[1].skip.data[0] = 2; // a skipped block's channels cost nothing: never trimmed
  const before = net.widthGates().map((g) => Float32Array.from(g.data));
  const full = predictedMs(net, flopsModel, { depth: true, widthGradient: false }).data[0];
  const budget = 0.8 * full;
  const trimmed = trimToBudget(net, flopsModel, budget);
  assert.ok(trimmed > 0);
  assert.ok(predictedMs(net, flopsModel, { depth: true, widthGradient: false }).data[0] <= budget);
  const off: number[] = [];
  const on: number[] = [];
  net.widthGates().forEach((g, k) => {
    const wide = g.data.filter((v) => v >= 0.5).length > 8 && k !== 3 && k !== 4; // still trimmable, not the skipped block
    g.data.forEach((v, i) => (v < 0.5 ? off.push(before[k][i]) : wide && on.push(before[k][i])));
  });
  assert.equal(off.length, trimmed);
  assert.ok(on.length > 0 && Math.max(...off) <= Math.min(...on), 'the lowest gates of the layers still above 8 went first');
  assert.deepEqual(net.gates.blocks[1].m1.data, before[3], 'the skipped block is untouched');
  assert.equal(trimToBudget(net, flopsModel, budget), 0, 'within the budget: nothing more');
  trimToBudget(net, flopsModel, 0);
  assert.equal(trimToBudget(net, flopsModel, 0), 0, 'at the floor: nothing left to trim');
  const sel = net.selection();
  const kept = sel.blocks.filter((b) => b.keep);
  for (const m of [sel.c, ...kept.flatMap((b) => [b.m1, b.m2])]) assert.equal(m.filter(Boolean).length, 8, 'a budget of 0: every kept layer at its narrowest 8');
});

test('under the budget after the joint stage, dead channels are turned on, highest gate first, while it still fits', () => {
  const net = Supernet.init(supernet, 6);
  const rng = new Rng(6);
  for (const g of net.widthGates()) g.data.forEach((_, i) => (g.data[i] = rng.next() * 0.9));
  net.gates.c.data.fill(0.3); // C below 0.5 everywhere: its 8 largest live (hardMask)
  net.gates.c.data.set([0.499, 0.498, 0.497, 0.496, 0.495, 0.494, 0.493, 0.492, 0.491, 0.49]); // the highest dead gates: first in line
  net.gates.blocks[1].skip.data[0] = 2;
  const ms = () => predictedMs(net, flopsModel, { depth: true, widthGradient: false }).data[0];
  const width = (m: boolean[]) => m.filter(Boolean).length;
  const before = net.selection();
  const gatesBefore = net.widthGates().map((g) => Float32Array.from(g.data));
  const budget = ms() + 0.6;
  const { blocks, channels: filled } = fillToBudget(net, flopsModel, budget);
  const after = net.selection();
  assert.equal(blocks, 0, 'the skipped block costs more than the 0.6 ms left');
  assert.ok(filled > 0 && ms() <= budget, `${filled} filled, ${ms()} ms for ${budget}`);
  const kept = [0, 2];
  const added = width(after.c) - width(before.c) + kept.reduce((a, i) => a + width(after.blocks[i].m1) - width(before.blocks[i].m1) + width(after.blocks[i].m2) - width(before.blocks[i].m2), 0);
  assert.equal(added, filled, 'every channel turned on adds one to its layer (C held at 8 by gates under 0.5 included)');
  assert.ok(width(after.c) > 8, 'C grew past its 8 largest');
  assert.deepEqual(after.blocks[1], before.blocks[1], 'the skipped block is untouched');
  // Within a layer the ones turned on are its highest dead gates; and no dead channel left fits the budget.
  net.widthGates().forEach((g, k) => {
    const sel = k === 0 ? [before.c, after.c] : [before.blocks[(k - 1) >> 1][(k - 1) % 2 ? 'm2' : 'm1'], after.blocks[(k - 1) >> 1][(k - 1) % 2 ? 'm2' : 'm1']];
    const on = sel[1].flatMap((v, i) => (v && !sel[0][i] ? [gatesBefore[k][i]] : []));
    const still = sel[1].flatMap((v, i) => (v ? [] : [gatesBefore[k][i]]));
    if (on.length && still.length) assert.ok(Math.min(...on) >= Math.max(...still), `layer ${k}`);
  });
  for (const g of net.widthGates()) {
    if (g === net.gates.blocks[1].m1 || g === net.gates.blocks[1].m2) continue;
    g.data.forEach((v, i) => {
      if (v >= 0.5) return;
      g.data[i] = 0.5;
      assert.ok(ms() > budget, 'a dead channel that still fits was left off');
      g.data[i] = v;
    });
  }
  assert.deepEqual(fillToBudget(net, flopsModel, budget), { blocks: 0, channels: 0 }, 'full: nothing more');
});

test('under the budget after the joint stage, dead channels come before a skipped block that would fit', () => {
  const net = Supernet.init(supernet, 8);
  for (const g of net.widthGates()) g.data.fill(1);
  const [b0, b1] = net.gates.blocks;
  b0.m1.data.fill(0.2, 62); // 10 dead M1 channels in a kept block
  [b1.skip.data[0], b1.keep.data[0]] = [0.6, 0.5];
  const ms = () => predictedMs(net, flopsModel, { depth: true, widthGradient: false }).data[0];
  const t0 = ms();
  const channel = 1e-3 * (12 + 10); // one M1 channel at C 12, M2 10
  const block = (12 * 72 + 72 * 10 + 9 * 10 * 12) * 1e-3;
  const budget = t0 + block + 0.5 * channel; // room for the block alone, or for the 10 channels, not both
  assert.deepEqual(fillToBudget(net, flopsModel, budget), { blocks: 0, channels: 10 });
  assert.ok(!net.selection().blocks[1].keep);
  assert.ok(Math.abs(ms() - (t0 + 10 * channel)) < 1e-4);
});

test('with every kept layer full, skipped blocks come back, the closest to kept first, at their gated widths', () => {
  const net = Supernet.init(supernet, 9);
  for (const g of net.widthGates()) g.data.fill(1);
  const [b0, b1, b2] = net.gates.blocks;
  b1.m1.data.fill(0.2, 20); // block 1 is the cheaper one (M1 20 of 72) ...
  [b0.skip.data[0], b0.keep.data[0]] = [0.1, 0.9];
  [b1.skip.data[0], b1.keep.data[0]] = [0.9, 0.1]; // ... but the search was surer to skip it
  [b2.skip.data[0], b2.keep.data[0]] = [0.6, 0.5];
  const ms = () => predictedMs(net, flopsModel, { depth: true, widthGradient: false }).data[0];
  const withOnly = (on: typeof b0[]) => {
    const saved = [b1, b2].map((b) => [b.skip.data[0], b.keep.data[0]]);
    for (const b of on) [b.skip.data[0], b.keep.data[0]] = [0, 1];
    const t = ms();
    [b1, b2].forEach((b, i) => ([b.skip.data[0], b.keep.data[0]] = saved[i]));
    return t;
  };
  const block1 = withOnly([b1]) - ms();
  assert.ok(block1 < withOnly([b2]) - ms(), 'the test needs block 1 cheaper');
  const budget = withOnly([b2]) + 0.5 * block1; // room for block 2, then not for block 1
  assert.deepEqual(fillToBudget(net, flopsModel, budget), { blocks: 1, channels: 0 });
  assert.deepEqual(net.selection().blocks.map((b) => b.keep), [true, false, true]);
  assert.ok(ms() <= budget);
  assert.ok(b2.keep.data[0] === 0.5 && b2.skip.data[0] < 0.5, `block 2 kept by moving its skip gate under keep: ${b2.skip.data[0]}`);
  assert.deepEqual([b1.skip.data[0], b1.keep.data[0]], [Math.fround(0.9), Math.fround(0.1)], 'block 1 left as it was');

  const budget2 = withOnly([b1, b2]) + 0.01;
  assert.deepEqual(fillToBudget(net, flopsModel, budget2), { blocks: 1, channels: 0 });
  const sel = net.selection().blocks[1];
  assert.ok(sel.keep && sel.m1.filter(Boolean).length === 20, 'block 1 back at its gated M1 of 20');
  assert.ok(Math.abs(ms() - withOnly([])) < 1e-4 && ms() <= budget2);
  // Block 1's 52 dead M1 channels cost more than the 0.01 ms left; with room for them they follow the block.
  assert.deepEqual(fillToBudget(net, flopsModel, ms() + 52 * 1e-3 * (12 + 10) + 1e-3), { blocks: 0, channels: 52 });
});

test('never an empty network while a block fits: the block closest to kept comes back, trimmed to fit; where none fits, the result says so', () => {
  const net = Supernet.init(supernet, 10); // C 12, 3 × {M1 72, M2 10}
  for (const g of net.widthGates()) g.data.forEach((_, i) => (g.data[i] = 0.6 + 0.4 * ((i * 7919) % 97) / 97)); // all live, distinct
  const pairs = [[0.9, 0.1], [0.6, 0.45], [0.8, 0.3]]; // every block skipped; block 1 the closest to kept
  net.gates.blocks.forEach((b, i) => ([b.skip.data[0], b.keep.data[0]] = pairs[i]));
  const saved = [...net.widthGates(), ...net.depthGates()].map((g) => Float32Array.from(g.data));
  // The oracle: flopsModel written out for a WDSR-B spec.
  const ms = (s: WdsrSpec) => 1 + 0.135 * s.channels + s.blocks.reduce((a, b) => a + 1e-3 * (s.channels * b.m1 + b.m1 * b.m2 + 9 * b.m2 * s.channels), 0);
  const spec = (c: number, blocks: { m1: number; m2: number }[]): WdsrSpec => ({ arch: 'wdsr-b', scale: 2, channels: c, blocks });
  // C 12 without blocks 2.62 ms, with one full block 5.28: a 3 ms target fits no block at the gated widths, but the
  // narrowest one (C 8, M1 8, M2 8) at 2.78 ms.
  assert.ok(ms(spec(12, [])) < 3 && ms(spec(12, [{ m1: 72, m2: 10 }])) > 3 && ms(spec(8, [{ m1: 8, m2: 8 }])) < 3);
  const d = deriveWithinBudget(net, flopsModel, 3);
  const got = d.model.spec as WdsrSpec;
  assert.equal(got.blocks.length, 1);
  assert.deepEqual(net.selection().blocks.map((b) => b.keep), [false, true, false], 'the block the search came closest to keeping');
  assert.ok(d.keptOneBlock && d.noBlockFits === undefined);
  assert.ok(ms(got) <= 3 && Math.abs(ms(got) - d.predicted) < 1e-4, `${JSON.stringify(got)}: ${ms(got)} ms, predicted ${d.predicted}`);
  // Trimmed no further than needed: no single channel more of C, M1 or M2 would still fit.
  const [c, { m1, m2 }] = [got.channels, got.blocks[0]];
  const wider = [c < 12 && spec(c + 1, [{ m1, m2 }]), m1 < 72 && spec(c, [{ m1: m1 + 1, m2 }]), m2 < 10 && spec(c, [{ m1, m2: m2 + 1 }])].filter((x) => x !== false);
  assert.ok(wider.length > 0, 'trimmed somewhere');
  for (const w of wider) assert.ok(ms(w) > 3, JSON.stringify(w));

  // 2.7 ms: C 12 without blocks fits, the narrowest one-block network (2.78) does not. No block, said with its figure.
  [...net.widthGates(), ...net.depthGates()].forEach((g, k) => g.data.set(saved[k]));
  const none = deriveWithinBudget(net, flopsModel, 2.7);
  assert.deepEqual((none.model.spec as WdsrSpec).blocks, []);
  assert.ok(!none.keptOneBlock && Math.abs(none.noBlockFits! - ms(spec(8, [{ m1: 8, m2: 8 }]))) < 1e-4, `${none.noBlockFits}`);
  assert.deepEqual(net.depthGates().map((g) => g.data[0]), net.gates.blocks.flatMap((_, i) => pairs[i].map(Math.fround)), 'depth gates untouched');
});

test("the seed's variant: the latency term reaches the depth gates but no width gate", () => {
  const net = Supernet.init(supernet, 2);
  predictedMs(net, flopsModel, { depth: true, widthGradient: false }).backward();
  for (const g of net.widthGates()) assert.equal(g.grad, null);
  for (const b of net.gates.blocks) assert.ok(b.keep.grad && b.keep.grad[0] > 0);
});

test('through the fitted speed model, the gated supernet is predicted exactly as its derived network', () => {
  const model = new SpeedModel({
    format: 'rtsr-speed-model', version: 2, profile: 'synthetic', split: { holdout: 0.2, seed: 1 }, align: 16, alignValidation: {},
    setup: { target: 'native', scale: 2, input: { w: 64, h: 36 } },
    device: {} as SpeedModelData['device'],
    block: [0.3, 2e-3, 3e-3, 4e-3, 0.01, 0.02, 0.03], head: [[1, 0.13], [32, 1.06]], tail: [[1, 0.28], [32, 2.76]], networkFactor: 0.97, blockOffsetMs: -0.05, flopsMsPerMac: 1e-3,
  });
  const net = Supernet.init(supernet, 9);
  net.gates.c.data[0] = 0.1;
  net.gates.blocks[0].m1.data.fill(0.2, 0, 30);
  net.gates.blocks[2].skip.data[0] = 2;
  const t = predictedMs(net, speedModelPredictor(model), { depth: true, widthGradient: true }).data[0];
  const want = model.specMs(net.derive().spec as WdsrSpec);
  assert.ok(Math.abs(t - want) < 1e-4 * want, `gated ${t} ms vs derived ${want} ms`);
});

for (const [name, cfg] of [['the seed\'s gates', base], ['Taylor worth', taylor]] as const)
  test(`a search killed mid-stage resumes to the same result as one that never stopped (${name})`, async () => {
    const whole = await runSearch(cfg, flopsModel, mkdtempSync(join(tmpdir(), 'rtsr-search-')), { data: data(2, 6), quiet: true });
    const dir = mkdtempSync(join(tmpdir(), 'rtsr-search-'));
    const first = await runSearch(cfg, flopsModel, dir, { data: data(2, 6), quiet: true, shouldStop: (stage, step) => stage === 'joint' && step === 33 });
    assert.equal(first.interrupted, true);
    const second = await runSearch(cfg, flopsModel, dir, { data: data(2, 6), quiet: true });
    assert.deepEqual(second.model!.spec, whole.model!.spec);
    for (const [name, p] of whole.model!.params) assert.deepEqual([...second.model!.params.get(name)!.data], [...p.data], name);
  });

test('the fine-tune stage trains by its recipe (a luminance body, branches, EMA, a patch switch), resumes exactly, and deploys the derived shapes (its tail a luminance one)', async () => {
  const recipe: Recipe = { ...loadRecipe('full'), ema: 0.9, patches: [{ from: 0.5, size: 8 }], luma: true };
  const cfg: SearchConfig = { ...base, steps: { ...base.steps, finetune: 30 }, recipe };
  const finetuneData = async (): Promise<BatchSource> => ({ batch: (s) => data(2, patchAt(recipe, 6, s, 30)).batch(s) });
  const whole = await runSearch(cfg, flopsModel, mkdtempSync(join(tmpdir(), 'rtsr-search-')), { data: data(2, 6), finetuneData, quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-search-'));
  const first = await runSearch(cfg, flopsModel, dir, { data: data(2, 6), finetuneData, quiet: true, shouldStop: (stage, step) => stage === 'finetune' && step === 21 });
  assert.equal(first.interrupted, true);
  const second = await runSearch(cfg, flopsModel, dir, { data: data(2, 6), finetuneData, quiet: true });
  const m = whole.model!;
  assert.deepEqual(m.spec.reparam, recipe.reparam);
  assert.equal((m.spec as WdsrSpec).luma, true);
  for (const [name, p] of m.params) assert.deepEqual([...second.model!.params.get(name)!.data], [...p.data], name);
  const shapes = (g: ReturnType<typeof optimizedGraph>) => g.nodes.map((n) => (n.op === 'conv' ? `${n.name} k${n.k} ${n.cin}→${n.cout}` : n.op));
  const { luma: _, ...plain } = withReparam(m.spec as WdsrSpec, undefined);
  // The derived shapes, but for the luminance tail: s² outputs where the RGB tail has 3s².
  const s2 = plain.scale ** 2;
  const derived = shapes(optimizedGraph(Model.init(plain, 0))).map((c) => c.replace(new RegExp(`^(tail k3 \\d+)→${3 * s2}$`), `$1→${s2}`));
  assert.deepEqual(shapes(optimizedGraph(m)), derived);
  assert.ok(derived.some((c) => c.startsWith('tail ') && c.endsWith(`→${s2}`)), 'the tail is in the derived shapes');
});

test('rtsr search names the allowed --gate-worth rules before doing anything', async () => {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  await assert.rejects(promisify(execFile)(process.execPath, [main, 'search', '--budget-ms', '33', '--gate-worth', 'magic']), (e: { code: number; stderr: string }) => {
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /--gate-worth must be straight-through or taylor, not 'magic'/);
    return true;
  });
});

test('a derived network measured over the budget is derived again at a target lowered by its overshoot; a resumed search times nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-search-'));
  const plain = await runSearch({ ...base, gamma: 5 }, flopsModel, mkdtempSync(join(tmpdir(), 'rtsr-search-')), { data: data(2, 6), quiet: true });
  // The fake machine runs every network 1.25× its prediction over the budget's worth: one re-derivation fits it.
  const seen: number[] = [];
  const overBudget = async (m: Model) => {
    const over = (1.25 * specMs(m.spec as WdsrSpec, flopsModel)) / base.targetMs;
    seen.push(over);
    return over;
  };
  const r = await runSearch({ ...base, gamma: 5 }, flopsModel, dir, { data: data(2, 6), quiet: true, overBudget });
  assert.equal(seen.length, 2, `measured ${seen.join(', ')}`);
  assert.ok(seen[0] > 1 && seen[1] <= 1, `over, then within: ${seen.join(', ')}`);
  assert.ok(Math.abs(r.derivedTargetMs! - (base.targetMs * 0.98) / seen[0]) < 1e-9, `target ${r.derivedTargetMs}`);
  assert.ok(r.predictedMs <= r.derivedTargetMs! && specMs(r.model!.spec as WdsrSpec, flopsModel) < specMs(plain.model!.spec as WdsrSpec, flopsModel));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'derived.json'), 'utf8')), { target_ms: r.derivedTargetMs });
  // Everything done already: the same network back, nothing timed.
  const again = await runSearch({ ...base, gamma: 5 }, flopsModel, dir, { data: data(2, 6), quiet: true, overBudget: async () => assert.fail('timed on resume') });
  assert.deepEqual(again.model!.spec, r.model!.spec);
});
