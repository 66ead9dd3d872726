import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_DATA_DIR } from '../src/data/datadir.js';
import { evaluate } from '../src/eval/evaluate.js';
import { modelUpscaler } from '../src/models/upscaler.js';
import { findModel, isTeacher, zooNames } from '../src/models/zoo.js';

// The zoo's stored metrics must be what `rtsr eval` measures now: re-measured here on the bundled Set5 (the same
// HR images as the benchmark's), through the same compiled-model path `rtsr eval` takes.
test('every zoo model scores on Set5 what its file says', async () => {
  const names = zooNames();
  assert.ok(names.includes('wdsr-b-x2'), `zoo: ${names.join(', ')}`);
  for (const name of names) {
    const { model, info } = findModel(name);
    const stored = info.metrics?.Set5;
    assert.ok(stored, `${name}: no stored Set5 metrics`);
    const r = (await evaluate(modelUpscaler(model, name), BUNDLED_DATA_DIR, ['Set5'])).sets.Set5;
    assert.ok(Math.abs(r.psnr - stored.psnr) < 1e-3 && Math.abs(r.ssim - stored.ssim) < 1e-4, `${name}: ${r.psnr}/${r.ssim} vs stored ${stored.psnr}/${stored.ssim}`);
  }
});

test('distillation teachers are told apart by name, so the search does not time them as candidates', () => {
  assert.equal(isTeacher('wdsr-b-teacher-x2'), true);
  assert.equal(isTeacher('wdsr-b-teacher-x4'), true);
  assert.equal(isTeacher('wdsr-b-x2'), false);
  assert.equal(isTeacher('searched-x2-33ms'), false);
});
