// `rtsr eval` on a model file, end to end through the CLI. Oracle: a WDSR-B whose weights make it exactly a
// nearest-neighbour ×2 upscaler (zero head/tail gains; the 5×5 skip routes each colour to its 4 sub-pixels),
// scored against a nearest-neighbour upscaler written independently here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLED_DATA_DIR } from '../src/data/datadir.js';
import { evaluate } from '../src/eval/evaluate.js';
import { rgbImage, type RgbImage } from '../src/image/image.js';
import { Model } from '../src/models/model.js';
import { loadModel, saveModel } from '../src/models/model-io.js';
import { parseArch } from '../src/models/registry.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

function nearestModel(): Model {
  const m = Model.init(parseArch('{"arch":"wdsr-b","channels":2,"blocks":[]}', 2), 0);
  m.params.get('head.g')!.data.fill(0);
  m.params.get('tail.g')!.data.fill(0);
  const v = m.params.get('skip.v')!.data;
  v.fill(0);
  // Centre tap (2, 2) of the 5×5 kernel, HWIO [5,5,3,12]: colour c feeds depth-to-space channels c·4 + i·2 + j.
  for (let c = 0; c < 3; c++) for (let o = 0; o < 4; o++) v[((2 * 5 + 2) * 3 + c) * 12 + c * 4 + o] = 1;
  m.params.get('skip.g')!.data.fill(1); // every output channel's v has norm 1, so w = v
  return m;
}

const nearest = (lr: RgbImage): RgbImage => {
  const out = new Uint8Array(lr.data.length * 4);
  for (let y = 0; y < lr.height * 2; y++)
    for (let x = 0; x < lr.width * 2; x++)
      for (let c = 0; c < 3; c++) out[(y * lr.width * 2 + x) * 3 + c] = lr.data[((y >> 1) * lr.width + (x >> 1)) * 3 + c];
  return rgbImage(lr.width * 2, lr.height * 2, out);
};

test('rtsr eval --model FILE scores the model, and --save-metrics stores the scores in the file', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'rtsr-evalm-')), 'nearest.rtsr');
  saveModel(path, nearestModel());
  const want = await evaluate({ name: 'nearest', scale: 2, upscale: nearest }, BUNDLED_DATA_DIR, ['Set5']);
  const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli/main.js'), 'eval', '--model', path, '--sets', 'Set5', '--data', BUNDLED_DATA_DIR, '--target', 'reference', '--json', '--save-metrics'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const got = JSON.parse(out);
  assert.equal(got.scale, 2);
  assert.equal(got.sets.Set5.images, 5);
  assert.ok(Math.abs(got.sets.Set5.psnr - want.sets.Set5.psnr) < 1e-9, `model ${got.sets.Set5.psnr} dB vs nearest ${want.sets.Set5.psnr} dB`);
  assert.ok(Math.abs(got.sets.Set5.ssim - want.sets.Set5.ssim) < 1e-12);
  assert.deepEqual(loadModel(path).info.metrics, { Set5: got.sets.Set5 });
  // On native, eval runs the compiled model users deploy: same scores.
  const compiled = JSON.parse(execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli/main.js'), 'eval', '--model', path, '--sets', 'Set5', '--data', BUNDLED_DATA_DIR, '--target', 'native', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  assert.ok(Math.abs(compiled.sets.Set5.psnr - want.sets.Set5.psnr) < 1e-9, `compiled ${compiled.sets.Set5.psnr} dB vs nearest ${want.sets.Set5.psnr} dB`);
  assert.throws(
    () => execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/src/cli/main.js'), 'eval', '--model', path, '--scale', '3'], { stdio: 'pipe' }),
    (err: { stderr: Buffer }) => /is a ×2 model, but --scale 3 was asked for/.test(err.stderr.toString()),
  );
});
