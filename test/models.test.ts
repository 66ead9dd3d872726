// Architectures: spec validation, published parameter/MAC counts, model files, and the forward pass's shapes
// and gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { loadModel, saveModel } from '../src/models/model-io.js';
import { parseArch, validateSpec } from '../src/models/registry.js';
import { Rng } from '../src/util/random.js';
import { checkGrad, randTensor } from './support/gradcheck.js';

test("the seed's published parameter and MAC counts (1280×720 output)", () => {
  // Wu et al.: ×2 16×24 177.7 K / 40.2 GMACs; 8×24 90.9 K / 20.6 GMACs; ×4 16×24 188.2 K / 10.7 GMACs.
  const cases: [string, number, number, number, number, number][] = [
    ['wdsr-b-16x24', 2, 360, 640, 177.7e3, 40.2e9],
    ['wdsr-b-8x24', 2, 360, 640, 90.9e3, 20.6e9],
    ['wdsr-b-16x24', 4, 180, 320, 188.2e3, 10.7e9],
  ];
  for (const [arch, s, h, w, params, macs] of cases) {
    const m = Model.init(parseArch(arch, s), 0);
    assert.ok(Math.abs(m.paramCount - params) < 0.05e3, `${arch} ×${s}: ${m.paramCount} params`);
    assert.ok(Math.abs(m.macs(h, w) - macs) < 0.05e9, `${arch} ×${s}: ${m.macs(h, w)} MACs`);
  }
});

test('spec validation names the bad field', () => {
  assert.throws(() => validateSpec({ arch: 'wdsr-b', scale: 2, channels: 24, blocks: [{ m1: 144 }] }), /spec: wdsr-b blocks\[0\] spec: 'm2' must be an integer in \[1, 1024\], got undefined/);
  assert.throws(() => validateSpec({ arch: 'wdsr-b', scale: 5, channels: 24, blocks: [] }), /'scale' must be an integer in \[2, 4\], got 5/);
  assert.throws(() => validateSpec({ arch: 'wdsr-b', scale: 2, channels: 2.5, blocks: [] }), /'channels' must be an integer/);
  assert.throws(() => validateSpec({ arch: 'edsr', scale: 2 }), /unknown architecture "edsr" \(known: wdsr-b, espcn, fsrcnn-d2s\)/);
  assert.throws(() => parseArch('wdsr-x', 2), /not a preset, JSON spec or file \(presets: wdsr-b-NxC/);
  assert.throws(() => parseArch('{"arch": "espcn",', 2), /--arch: not valid JSON/);
  const custom = parseArch('{"arch":"wdsr-b","channels":16,"blocks":[{"m1":37,"m2":11}]}', 3);
  assert.deepEqual(custom, { arch: 'wdsr-b', scale: 3, channels: 16, blocks: [{ m1: 37, m2: 11 }] });
});

test('every architecture maps an LR batch to the SR shape, and its gradients check out', () => {
  const rng = new Rng(3);
  for (const text of ['{"arch":"wdsr-b","channels":4,"blocks":[{"m1":7,"m2":3},{"m1":5,"m2":2}]}', '{"arch":"espcn","f1":6,"f2":4}', '{"arch":"fsrcnn-d2s","d":6,"s":3,"m":1}']) {
    for (const s of [2, 3]) {
      const m = Model.init(parseArch(text, s), 1);
      const x = randTensor(rng, [2, 5, 4, 3], false, 0, 1);
      assert.deepEqual(m.forward(x).shape, [2, 5 * s, 4 * s, 3], text);
    }
    const m = Model.init(parseArch(text, 2), 1);
    const x = randTensor(rng, [1, 4, 3, 3], false, 0, 1);
    const target = randTensor(rng, [1, 8, 6, 3], false, 0, 1);
    const params = [...m.params.values()];
    checkGrad((..._ps) => ops.mseLoss(m.forward(x), target), params, { h: 1e-3, tol: 2e-2, probes: 6 });
  }
});

test('wdsr-b starts with the seed initial gains (2 on 1×1 convs, 1/√N on block 3×3)', () => {
  const m = Model.init(parseArch('wdsr-b-4x8', 2), 0);
  assert.ok([...m.params.get('blocks.0.expand.g')!.data].every((g) => g === 2));
  assert.ok([...m.params.get('blocks.3.conv.g')!.data].every((g) => Math.abs(g - 0.5) < 1e-7));
});

test('model files round-trip, and altered or mismatched files are refused with the file named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-model-'));
  const path = join(dir, 'm.rtsr');
  const m = Model.init(parseArch('wdsr-b-2x6', 2), 5);
  saveModel(path, m, { training: { steps: 10 }, metrics: { Set5: { psnr: 30, ssim: 0.9 } } });
  const { model, info } = loadModel(path);
  assert.deepEqual(model.spec, m.spec);
  assert.deepEqual(info, { training: { steps: 10 }, metrics: { Set5: { psnr: 30, ssim: 0.9 } } });
  const x = new Tensor(new Float32Array(1 * 3 * 3 * 3).fill(0.25), [1, 3, 3, 3]);
  assert.deepEqual([...model.forward(x).data], [...m.forward(x).data]);

  const bytes = readFileSync(path);
  const altered = Buffer.from(bytes);
  altered[altered.length - 1] ^= 1;
  writeFileSync(path, altered);
  assert.throws(() => loadModel(path), new RegExp(`${path.replace(/[.]/g, '\\.')}: not a valid rtsr tensor file \\(checksum mismatch`));
  writeFileSync(path, bytes.subarray(0, 100));
  assert.throws(() => loadModel(path), /truncated/);
});
