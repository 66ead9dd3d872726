// The budget calibration: the references are the uniform networks of the search space predicted closest to 0.7,
// 1 and 1.4 × the budget, the target is the budget over the scale fitted to their measured / predicted times, and a
// saved calibration is reused only for the same budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../src/engine/ops.js';
import { parseArch } from '../src/models/registry.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { assertBelowSupernet, assertReachable, type Calibration, calibrate, fitScale, referenceSpec } from '../src/search/calibrate.js';
import { type LatencyPredictor, specMs } from '../src/search/latency-loss.js';
import { quickSupernet } from '../src/search/run.js';

/** MACs-proportional, as the fitted model is here: 1 ms per 100 MACs per pixel, plus 2 ms. */
const macs: LatencyPredictor = {
  block: (c, m1, m2) => ops.affine(ops.add(ops.add(ops.mul(c, m1), ops.mul(m1, m2)), ops.affine(ops.mul(m2, c), 9, 0)), 1e-2, 0),
  fixed: (c) => ops.affine(c, (27 + 108) * 1e-2, 2),
};
const supernet = parseArch('wdsr-b-8x24', 2) as WdsrSpec;

test('the reference is the uniform network within the supernet predicted closest to the budget', () => {
  const ref = referenceSpec(supernet, 40, macs);
  const ms = specMs(ref, macs);
  // The oracle: every depth and C the same way, by brute force over the uniform shapes.
  let best = Infinity;
  for (let d = 1; d <= 8; d++)
    for (let c = 8; c <= 24; c++) {
      const m1 = Math.min(6 * c, 144);
      const m2 = Math.min(Math.max(8, Math.floor(0.84 * c)), 20);
      const t = 2 + 1.35 * c + d * (c * m1 + m1 * m2 + 9 * m2 * c) * 1e-2;
      best = Math.min(best, Math.abs(t - 40));
    }
  assert.ok(Math.abs(Math.abs(ms - 40) - best) < 1e-3, `reference ${JSON.stringify(ref)} at ${ms} ms; closest uniform is ${best} ms off`);
  assert.ok(ref.channels >= 8 && ref.channels <= 24 && ref.blocks.length <= 8);
  for (const b of ref.blocks) assert.ok(b.m1 <= 144 && b.m2 <= 20 && b.m2 >= 8);
});

/** Times each reference at `factor` × its prediction, counting the calls. */
function timer(factor: number | ((spec: WdsrSpec) => number)) {
  const t = {
    calls: 0,
    time: async (specs: WdsrSpec[]) => (t.calls++, { ms: specs.map((s) => (typeof factor === 'number' ? factor : factor(s)) * specMs(s, macs)) }),
  };
  return t;
}

test('calibration times references near 0.7, 1 and 1.4 × the budget, aims at budget / scale, is saved, and is redone only for another budget', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-cal-'));
  const path = join(dir, 'calibration.json');
  try {
    const slow = timer(1.12);
    const cal = await calibrate(path, supernet, 33, macs, slow.time, () => {});
    assert.equal(slow.calls, 1);
    assert.deepEqual(cal.references.map((r) => r.spec), [0.7, 1, 1.4].map((f) => referenceSpec(supernet, f * 33, macs)));
    assert.equal(new Set(cal.references.map((r) => JSON.stringify(r.spec))).size, 3, 'three different networks');
    for (const r of cal.references) assert.ok(Math.abs(r.predicted_ms - specMs(r.spec, macs)) < 1e-9 && Math.abs(r.measured_ms - 1.12 * r.predicted_ms) < 1e-9);
    assert.ok(Math.abs(cal.scale - 1.12) < 1e-9 && Math.abs(cal.target_ms - 33 / 1.12) < 1e-6, `scale ${cal.scale}, target ${cal.target_ms}`);
    // A resumed search keeps its target without timing again.
    const again = await calibrate(path, supernet, 33, macs, async () => assert.fail('timed again'), () => {});
    assert.deepEqual(again, cal);
    const logs: string[] = [];
    const other = await calibrate(path, supernet, 50, macs, slow.time, (l) => logs.push(l));
    assert.equal(slow.calls, 2);
    assert.ok(Math.abs(other.target_ms - 50 / 1.12) < 1e-6);
    assert.match(logs.join('\n'), /33 ms budget, not 50/);
    writeFileSync(path, '{"budget_ms": 50, "target');
    const redone = await calibrate(path, supernet, 50, macs, slow.time, (l) => logs.push(l));
    assert.equal(slow.calls, 3);
    assert.deepEqual(redone, other);
    assert.match(logs.join('\n'), /unreadable/);
    await assert.rejects(calibrate(join(dir, 'x.json'), supernet, 33, macs, async (specs) => ({ ms: specs.map(() => NaN) }), () => {}), /calibration: timing .* gave NaN ms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the scale is the least-squares fit in relative error over the references, and a one-reference calibration.json still reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-cal-'));
  try {
    // References that disagree (1.0, 1.2, 1.5 × their predictions): the scale is the k minimising
    // Σ ((m − k·p) / m)², found here by a fine grid search instead of the closed form.
    const factors = [1.0, 1.2, 1.5];
    let i = 0;
    const cal = await calibrate(join(dir, 'c.json'), supernet, 33, macs, async (specs) => ({ ms: specs.map((s) => factors[i++] * specMs(s, macs)) }), () => {});
    const loss = (k: number) => cal.references.reduce((acc, r) => acc + ((r.measured_ms - k * r.predicted_ms) / r.measured_ms) ** 2, 0);
    let best = 0;
    for (let k = 0.5; k <= 2; k += 1e-5) if (loss(k) < loss(best)) best = k;
    assert.ok(Math.abs(cal.scale - best) < 1e-4, `scale ${cal.scale}, grid ${best}`);
    assert.equal(fitScale(cal.references), cal.scale);
    // Before several references, calibration.json held one: a resumed search keeps the target it started with.
    const old = join(dir, 'old.json');
    const reference = referenceSpec(supernet, 33, macs);
    writeFileSync(old, JSON.stringify({ budget_ms: 33, reference, predicted_ms: 31.8, measured_ms: 41.7, target_ms: (33 * 31.8) / 41.7 }));
    const read = await calibrate(old, supernet, 33, macs, async () => assert.fail('timed again'), () => {});
    assert.deepEqual(read.references, [{ spec: reference, predicted_ms: 31.8, measured_ms: 41.7 }]);
    assert.ok(Math.abs(read.scale - 41.7 / 31.8) < 1e-12 && read.target_ms === (33 * 31.8) / 41.7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a target under the narrowest network stops the search before training, naming the figures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-cal-'));
  try {
    const fine = await calibrate(join(dir, 'a.json'), supernet, 33, macs, timer(1.12).time, () => {});
    assertReachable(fine, macs);
    // A loaded machine: the references ran 17× their predictions, so 33 ms became ~1.9 ms predicted, under the
    // narrowest network's 2 + 1.35 · 8 = 12.8 ms.
    const busy = await calibrate(join(dir, 'b.json'), supernet, 33, macs, timer(17).time, () => {});
    assert.throws(() => assertReachable(busy, macs), /a 33 ms budget is out of reach here: the narrowest network of the search space \(C 8, no blocks\) is predicted at 12\.80 ms, and the budget became 1\.94 ms predicted \(the references ran 17\.00× their predicted times here\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a budget the whole space fits is refused before training, saying what the largest network costs', () => {
  const ms = specMs(supernet, macs);
  // The references ran 1.12× their predictions, so a budget of b ms is a target of b / 1.12 predicted.
  const cal = (budget: number): Calibration => ({ budget_ms: budget, references: [{ spec: supernet, predicted_ms: 10, measured_ms: 11.2 }], scale: 1.12, target_ms: budget / 1.12 });
  assert.throws(
    () => assertBelowSupernet(cal(1000), supernet, macs),
    new RegExp(`a 1000 ms budget exceeds the whole search space: its largest network, the supernet \\(8 blocks, C 24\\), is predicted at ${ms.toFixed(1)} ms \\(≈ ${(ms * 1.12).toFixed(1)} ms measured here\\).*lower --budget-ms`),
  );
  assertBelowSupernet(cal(ms * 1.12 * 0.99), supernet, macs);
});

test('--quick trains the smallest of its supernets predicted at a given time or more, else the largest', () => {
  // The oracle: the macs predictor written out for each quick supernet (C, M1 = 6C, M2 as the presets make it).
  const ms = (c: number, m1: number, m2: number, n: number) => 2 + 1.35 * c + n * 1e-2 * (c * m1 + m1 * m2 + 9 * m2 * c);
  const ladder = [['wdsr-b-4x16', ms(16, 96, 13, 4)], ['wdsr-b-4x20', ms(20, 120, 16, 4)], ['wdsr-b-4x24', ms(24, 144, 20, 4)], ['wdsr-b-8x24', ms(24, 144, 20, 8)], ['wdsr-b-8x32', ms(32, 192, 26, 8)], ['wdsr-b-16x32', ms(32, 192, 26, 16)]] as const;
  for (const [name, t] of ladder) assert.ok(Math.abs(specMs(parseArch(name, 2) as WdsrSpec, macs) - t) < 1e-3, name);
  const pick = (at: number) => quickSupernet(2, at, macs);
  assert.deepEqual(pick(ladder[0][1] - 0.01), parseArch('wdsr-b-4x16', 2));
  assert.deepEqual(pick(ladder[0][1] + 0.01), parseArch('wdsr-b-4x20', 2));
  assert.deepEqual(pick(ladder[2][1] + 0.01), parseArch('wdsr-b-8x24', 2));
  assert.deepEqual(pick(ladder[3][1] + 0.01), parseArch('wdsr-b-8x32', 2));
  assert.deepEqual(pick(ladder[4][1] + 0.01), parseArch('wdsr-b-16x32', 2));
  assert.deepEqual(pick(1e6), parseArch('wdsr-b-16x32', 2), 'none that large: the largest (then assertBelowSupernet refuses the budget)');
});
