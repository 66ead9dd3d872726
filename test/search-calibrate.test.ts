// The budget calibration: the reference network is the uniform one of the search space predicted closest to the
// budget, the target scales the budget by predicted / measured, and a saved calibration is reused only for the
// same budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../src/engine/ops.js';
import { parseArch } from '../src/models/registry.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { assertBelowSupernet, assertReachable, type Calibration, calibrate, referenceSpec } from '../src/search/calibrate.js';
import { type LatencyPredictor, specMs } from '../src/search/latency-loss.js';

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

test('calibration aims at budget × predicted / measured, is saved, and is redone only for another budget', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-cal-'));
  const path = join(dir, 'calibration.json');
  try {
    let timed = 0;
    const slow = async (spec: WdsrSpec) => (timed++, 1.12 * specMs(spec, macs));
    const cal = await calibrate(path, supernet, 33, macs, slow, () => {});
    assert.equal(timed, 1);
    assert.ok(Math.abs(cal.target_ms - 33 / 1.12) < 1e-6, `target ${cal.target_ms}`);
    assert.ok(Math.abs(cal.predicted_ms - specMs(cal.reference, macs)) < 1e-9);
    // A resumed search keeps its target without timing again.
    const again = await calibrate(path, supernet, 33, macs, async () => assert.fail('timed again'), () => {});
    assert.deepEqual(again, cal);
    const logs: string[] = [];
    const other = await calibrate(path, supernet, 50, macs, slow, (l) => logs.push(l));
    assert.equal(timed, 2);
    assert.ok(Math.abs(other.target_ms - 50 / 1.12) < 1e-6);
    assert.match(logs.join('\n'), /33 ms budget, not 50/);
    writeFileSync(path, '{"budget_ms": 50, "target');
    const redone = await calibrate(path, supernet, 50, macs, slow, (l) => logs.push(l));
    assert.equal(timed, 3);
    assert.deepEqual(redone, other);
    assert.match(logs.join('\n'), /unreadable/);
    await assert.rejects(calibrate(join(dir, 'x.json'), supernet, 33, macs, async () => NaN, () => {}), /calibration: timing .* gave NaN ms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reference far slower than predicted is flagged, and a target under the narrowest network stops the search before training', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-cal-'));
  try {
    const logs: string[] = [];
    const fine = await calibrate(join(dir, 'a.json'), supernet, 33, macs, async (spec) => 1.12 * specMs(spec, macs), (l) => logs.push(l));
    assert.equal(logs.length, 0);
    assertReachable(fine, macs);
    // A loaded machine: the reference ran 17× its prediction, so 33 ms became ~1.9 ms predicted, under the
    // narrowest network's 2 + 1.35 · 8 = 12.8 ms.
    const busy = await calibrate(join(dir, 'b.json'), supernet, 33, macs, async (spec) => 17 * specMs(spec, macs), (l) => logs.push(l));
    assert.match(logs.join('\n'), /ran 17\.00× its predicted time; is the machine busy\?/);
    assert.throws(() => assertReachable(busy, macs), /a 33 ms budget is out of reach here: the narrowest network of the search space \(C 8, no blocks\) is predicted at 12\.80 ms, and the budget became 1\.94 ms predicted/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a budget the whole space fits is refused before training, saying what the largest network costs', () => {
  const ms = specMs(supernet, macs);
  // The reference ran 1.12× its prediction, so a budget of b ms is a target of b / 1.12 predicted.
  const cal = (budget: number): Calibration => ({ budget_ms: budget, reference: supernet, predicted_ms: 10, measured_ms: 11.2, target_ms: budget / 1.12 });
  assert.throws(
    () => assertBelowSupernet(cal(1000), supernet, macs),
    new RegExp(`a 1000 ms budget exceeds the whole search space: its largest network, the supernet \\(8 blocks, C 24\\), is predicted at ${ms.toFixed(1)} ms \\(≈ ${(ms * 1.12).toFixed(1)} ms measured here\\).*lower --budget-ms`),
  );
  assertBelowSupernet(cal(ms * 1.12 * 0.99), supernet, macs);
});
