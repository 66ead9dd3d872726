import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { evaluate } from '../src/eval/evaluate.js';
import { resolveModel } from '../src/eval/models.js';
import type { Upscaler } from '../src/eval/upscaler.js';
import { rgbImage, type RgbImage } from '../src/image/image.js';
import { writePng } from '../src/image/io.js';
import { resizeImage } from '../src/image/resize.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, 'eval', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const flat = (w: number, h: number, v: number) => rgbImage(w, h, new Uint8Array(w * h * 3).fill(v));

/** Set "Flat": two flat gray HR images (values 100 and 60) of sizes that need cropping at x3. */
async function flatData(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-eval-'));
  await mkdir(join(dir, 'Flat', 'HR'), { recursive: true });
  await writePng(join(dir, 'Flat', 'HR', 'a.png'), flat(40, 32, 100));
  await writePng(join(dir, 'Flat', 'HR', 'b.png'), flat(25, 31, 60));
  return dir;
}

test('resolveModel: bicubic upscales like MATLAB imresize; unknown names list the known models', async () => {
  const m = await resolveModel('bicubic', 3);
  assert.equal(m.name, 'bicubic');
  assert.equal(m.scale, 3);
  const lr = rgbImage(10, 7, new Uint8Array(210).map((_, i) => (i * 37) % 256));
  const sr = await m.upscale(lr);
  assert.deepEqual([sr.width, sr.height], [30, 21]);
  assert.deepEqual(sr.data, resizeImage(lr, 3).data);
  await assert.rejects(resolveModel('edsr', 2), /unknown model 'edsr': no model file 'edsr' and no zoo model of that name \(zoo: .*\); built-in models: bicubic/);
});

test('evaluate: crop, downscale, upscale, Y scores with border cut, mean over images (hand-computed)', async () => {
  const dir = await flatData();
  const seen: string[] = [];
  // A model that answers every LR with a flat image 3 grey levels brighter than its input.
  const plus3: Upscaler = {
    name: 'plus3',
    scale: 3,
    upscale: (lr: RgbImage) => flat(lr.width * 3, lr.height * 3, lr.data[0] + 3),
  };
  const r = await evaluate(plus3, dir, ['Flat'], (i) => seen.push(`${i.set}/${i.name} ${i.index}/${i.total}`));
  assert.deepEqual(seen, ['Flat/a 1/2', 'Flat/b 2/2']);
  // Y differs by 3·219/255 everywhere; SSIM of flat images is the luminance term alone.
  const dy = (3 * 219) / 255;
  const y = (v: number) => 16 + (219 * v) / 255;
  const c1 = (0.01 * 255) ** 2;
  const lum = (v: number) => (2 * y(v) * y(v + 3) + c1) / (y(v) ** 2 + y(v + 3) ** 2 + c1);
  assert.deepEqual(Object.keys(r), ['model', 'scale', 'sets']);
  assert.equal(r.model, 'plus3');
  assert.equal(r.sets.Flat.images, 2);
  assert.ok(Math.abs(r.sets.Flat.psnr - 10 * Math.log10((255 * 255) / (dy * dy))) < 1e-9, `PSNR ${r.sets.Flat.psnr}`);
  assert.ok(Math.abs(r.sets.Flat.ssim - (lum(100) + lum(60)) / 2) < 1e-12, `SSIM ${r.sets.Flat.ssim}`);
});

test('evaluate: wrong output sizes and unknown sets are errors that name them', async () => {
  const dir = await flatData();
  const lazy: Upscaler = { name: 'lazy', scale: 2, upscale: (lr) => lr };
  await assert.rejects(evaluate(lazy, dir, ['Flat']), /model lazy turned the 20x16 LR of .*a\.png into 20x16; expected 40x32 \(x2\)/);
  const never: Upscaler = { name: 'never', scale: 2, upscale: () => assert.fail('no image should be processed') };
  await assert.rejects(evaluate(never, dir, ['Flat', 'Set14']), /unknown set 'Set14'.*: Flat$/);
});

test('rtsr eval --json prints exactly one JSON object; progress goes to stderr', async () => {
  // Bundled data: only Set5 of the benchmark sets, so that is the default.
  const r = await cli('--model', 'bicubic', '--scale', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['model', 'scale', 'sets']);
  assert.equal(out.model, 'bicubic');
  assert.equal(out.scale, 2);
  assert.deepEqual(Object.keys(out.sets), ['Set5']);
  assert.deepEqual(Object.keys(out.sets.Set5), ['psnr', 'ssim', 'images']);
  assert.equal(out.sets.Set5.images, 5);
  assert.ok(Math.abs(out.sets.Set5.psnr - 33.66) <= 0.02, `Set5 x2 PSNR ${out.sets.Set5.psnr}`);
  assert.ok(Math.abs(out.sets.Set5.ssim - 0.9299) <= 0.002, `Set5 x2 SSIM ${out.sets.Set5.ssim}`);
  assert.match(r.stderr, /Set5: 5 images done/);
});

test('rtsr eval prints a table', async () => {
  const dir = await flatData();
  const r = await cli('--model', 'bicubic', '--scale', '3', '--data', dir, '--sets', 'Flat');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bicubic x3, data .*\nset +images +PSNR \(dB\) +SSIM\nFlat +2 +Infinity +1\.0000\n$/);
});

test('rtsr eval: user errors exit 2, naming the problem and the choices', async () => {
  const dir = await flatData();
  const cases: [string[], RegExp][] = [
    [['--model', 'bicubic', '--scale', '2', '--sets', 'Set5,Urban100'], /unknown set 'Urban100' in .*data; sets there: Set5, T91/],
    [['--model', 'bicubic', '--scale', '2', '--data', dir, '--sets', 'Set5'], /unknown set 'Set5' in .*; sets there: Flat/],
    [['--model', 'srcnn', '--scale', '2'], /unknown model 'srcnn': .*built-in models: bicubic/],
    [['--model', 'bicubic'], /model 'bicubic' needs --scale/],
    [['--model', 'bicubic', '--scale', '2', '--data', dir], /no sets to evaluate in .*; sets there: Flat/],
    [['--model', 'bicubic', '--scale', 'two'], /--scale must be an integer .*, got 'two'/],
    [['--model', 'bicubic', '--scale', '2', '--data', join(dir, 'nope')], /nope \(from --data\) does not exist/],
    [['--model', 'bicubic', '--scale', '2', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, '');
  }
});

test('rtsr eval: a corrupt image is an input error (exit 2) naming the file', async () => {
  const dir = await flatData();
  await writeFile(join(dir, 'Flat', 'HR', 'c.png'), 'not a png');
  const r = await cli('--model', 'bicubic', '--scale', '2', '--data', dir, '--sets', 'Flat', '--json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot decode image .*Flat\/HR\/c\.png/);
  assert.equal(r.stdout, '');
});

test('rtsr eval: an image too small to score is an input error (exit 2) naming the file and the size needed', async () => {
  const cases: [number, string, RegExp][] = [
    [4, '2', /Tiny\/HR\/t\.png: a 4x4 image \(cropped to a multiple of 2\) is too small to score at ×2: at least 15x15 is needed/],
    [14, '2', /Tiny\/HR\/t\.png: a 14x14 image .* at least 15x15 is needed/],
    [3, '4', /Tiny\/HR\/t\.png: a 3x3 image is smaller than the scale 4/],
  ];
  for (const [size, scale, message] of cases) {
    const dir = await mkdtemp(join(tmpdir(), 'rtsr-eval-'));
    await mkdir(join(dir, 'Tiny', 'HR'), { recursive: true });
    await writePng(join(dir, 'Tiny', 'HR', 't.png'), flat(size, size, 90));
    const r = await cli('--model', 'bicubic', '--scale', scale, '--data', dir, '--sets', 'Tiny');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('rtsr eval: --save-metrics with a built-in is refused before any image is scored', async () => {
  const r = await cli('--model', 'bicubic', '--scale', '2', '--sets', 'Set5', '--save-metrics');
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'rtsr: --save-metrics needs a trained model file, not a built-in\n');
});
