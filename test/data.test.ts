import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLED_DATA_DIR, resolveDataDir } from '../src/data/datadir.js';
import { listImages, listSets, loadPair } from '../src/data/datasets.js';
import { PatchSampler } from '../src/data/patches.js';
import { crop, modcrop, rgbImage, type RgbImage } from '../src/image/image.js';
import { writePng } from '../src/image/io.js';
import { resizeImage } from '../src/image/resize.js';
import { Rng } from '../src/util/random.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function randomImage(width: number, height: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  return rgbImage(width, height, new Uint8Array(width * height * 3).map(() => rng.int(256)));
}

/** A data folder with set A (two PNGs, a BMP-less text file) and set B (one PNG). */
async function fixture(): Promise<{ dir: string; images: Record<string, RgbImage> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtsr-data-'));
  const images = { a1: randomImage(41, 30, 1), a2: randomImage(24, 37, 2), b1: randomImage(20, 20, 3) };
  await mkdir(join(dir, 'A', 'HR'), { recursive: true });
  await mkdir(join(dir, 'B', 'HR'), { recursive: true });
  await mkdir(join(dir, 'not-a-set'));
  await writePng(join(dir, 'A', 'HR', 'a1.png'), images.a1);
  await writePng(join(dir, 'A', 'HR', 'a2.png'), images.a2);
  await writeFile(join(dir, 'A', 'HR', 'notes.txt'), 'not an image');
  await writePng(join(dir, 'B', 'HR', 'b1.png'), images.b1);
  return { dir, images };
}

test('data folder: --data, then RTSR_DATA, then the bundled folder beside the package', () => {
  assert.equal(BUNDLED_DATA_DIR, join(REPO, 'data'));
  assert.equal(resolveDataDir(undefined, {}), BUNDLED_DATA_DIR);
  assert.equal(resolveDataDir(undefined, { RTSR_DATA: REPO }), REPO);
  assert.equal(resolveDataDir(join(REPO, 'src'), { RTSR_DATA: REPO }), join(REPO, 'src'));
  assert.throws(() => resolveDataDir('/no/such/dir', {}), /\/no\/such\/dir \(from --data\) does not exist/);
  assert.throws(() => resolveDataDir(undefined, { RTSR_DATA: '/no/such/env' }), /from RTSR_DATA/);
});

test('the bundled data holds Set5 and T91 HR images', async () => {
  const sets = await listSets(BUNDLED_DATA_DIR);
  assert.ok(sets.includes('Set5') && sets.includes('T91'), `bundled sets: ${sets}`);
  assert.equal((await listImages(BUNDLED_DATA_DIR, 'Set5')).length, 5);
  assert.equal((await listImages(BUNDLED_DATA_DIR, 'T91')).length, 91);
});

test('sets are folders with HR/; images are filtered by extension and sorted', async () => {
  const { dir } = await fixture();
  assert.deepEqual(await listSets(dir), ['A', 'B']);
  assert.deepEqual(await listImages(dir, 'A'), [join(dir, 'A', 'HR', 'a1.png'), join(dir, 'A', 'HR', 'a2.png')]);
  await assert.rejects(listImages(dir, 'Set14'), (e: Error) => e.message.includes("unknown set 'Set14'") && e.message.includes('sets in') && e.message.endsWith(': A, B'));
  await mkdir(join(dir, 'Empty', 'HR'), { recursive: true });
  await assert.rejects(listImages(dir, 'Empty'), /set 'Empty' has no images/);
});

test('loadPair crops HR at the top-left to a multiple of the scale and downscales it', async () => {
  const { dir, images } = await fixture();
  const pair = await loadPair(join(dir, 'A', 'HR', 'a1.png'), 4);
  assert.equal(pair.name, 'a1');
  assert.deepEqual([pair.hr.width, pair.hr.height, pair.lr.width, pair.lr.height], [40, 28, 10, 7]);
  for (let y = 0; y < 28; y++) {
    assert.deepEqual(pair.hr.data.subarray(y * 40 * 3, (y + 1) * 40 * 3), images.a1.data.subarray(y * 41 * 3, y * 41 * 3 + 40 * 3));
  }
  assert.deepEqual(pair.lr.data, resizeImage(pair.hr, 1 / 4).data);
  await writeFile(join(dir, 'A', 'HR', 'broken.png'), 'garbage');
  await assert.rejects(loadPair(join(dir, 'A', 'HR', 'broken.png'), 2), (e: Error) => e.message.includes(join(dir, 'A', 'HR', 'broken.png')));
  await writePng(join(dir, 'B', 'HR', 'tiny.png'), randomImage(3, 9, 4));
  await assert.rejects(loadPair(join(dir, 'B', 'HR', 'tiny.png'), 4), (e: Error) => e.message.includes('tiny.png') && /3x9/.test(e.message));
});

/** Finds every (image, x, y, transform) under which `patch` (p×p floats) occurs in `img` at stride `step`:
 *  a brute-force search over all positions and all 8 symmetries of the square. */
function locate(patch: Float32Array, p: number, img: RgbImage, step: number): { x: number; y: number; t: string }[] {
  const found: { x: number; y: number; t: string }[] = [];
  const transforms: Record<string, (i: number, j: number) => [number, number]> = {
    id: (i, j) => [i, j],
    flipH: (i, j) => [i, p - 1 - j],
    flipV: (i, j) => [p - 1 - i, j],
    rot180: (i, j) => [p - 1 - i, p - 1 - j],
    transpose: (i, j) => [j, i],
    rot90: (i, j) => [j, p - 1 - i],
    rot270: (i, j) => [p - 1 - j, i],
    antiTranspose: (i, j) => [p - 1 - j, p - 1 - i],
  };
  for (let y = 0; y + p <= img.height; y += step) {
    for (let x = 0; x + p <= img.width; x += step) {
      for (const [t, f] of Object.entries(transforms)) {
        let ok = true;
        for (let i = 0; i < p && ok; i++) {
          for (let j = 0; j < p && ok; j++) {
            const [a, b] = f(i, j);
            for (let c = 0; c < 3; c++) {
              if (Math.abs(patch[(i * p + j) * 3 + c] * 255 - img.data[((y + a) * img.width + x + b) * 3 + c]) > 1e-3) ok = false;
            }
          }
        }
        if (ok) found.push({ x: x / step, y: y / step, t });
      }
    }
  }
  return found;
}

test('patches: LR and HR crops at matching positions under the same flip/rotation', async () => {
  const { dir } = await fixture();
  const scale = 2;
  const sampler = await PatchSampler.load(dir, ['A', 'B'], scale);
  assert.equal(sampler.pairs.length, 3);
  const p = 5;
  const batch = sampler.sample(new Rng(42), 24, p);
  assert.equal(batch.lr.length, 24 * p * p * 3);
  assert.equal(batch.hr.length, 24 * p * scale * p * scale * 3);
  const seen = new Set<string>();
  for (let b = 0; b < 24; b++) {
    const lr = batch.lr.subarray(b * p * p * 3, (b + 1) * p * p * 3);
    const hr = batch.hr.subarray(b * 4 * p * p * 3, (b + 1) * 4 * p * p * 3);
    const matches = sampler.pairs.flatMap((q) => {
      const inLr = locate(lr, p, q.lr, 1).map((m) => `${q.name} ${m.x},${m.y} ${m.t}`);
      const inHr = new Set(locate(hr, p * scale, q.hr, scale).map((m) => `${q.name} ${m.x},${m.y} ${m.t}`));
      return inLr.filter((m) => inHr.has(m));
    });
    assert.ok(matches.length >= 1, `patch ${b}: LR and HR crops do not come from one place under one transform`);
    seen.add(matches[0].split(' ')[2]);
  }
  assert.ok(seen.size >= 4, `24 augmented patches used only the transforms ${[...seen]}`);

  const plain = sampler.sample(new Rng(7), 8, p, false);
  for (let b = 0; b < 8; b++) {
    const lr = plain.lr.subarray(b * p * p * 3, (b + 1) * p * p * 3);
    assert.ok(sampler.pairs.some((q) => locate(lr, p, q.lr, 1).some((m) => m.t === 'id')), `unaugmented patch ${b}`);
  }
});

test('withDownscales: every image again at each factor (bicubic, cropped to the scale), its LR made alike; too small ones left out', async () => {
  const { dir } = await fixture();
  const sampler = await PatchSampler.load(dir, ['A'], 2);
  const more = sampler.withDownscales([0.5, 0.02]);
  assert.deepEqual(more.pairs.map((p) => p.name), ['a1', 'a2', 'a1@0.5', 'a2@0.5']);
  for (const [i, q] of more.pairs.slice(2).entries()) {
    const hr = modcrop(resizeImage(sampler.pairs[i].hr, 0.5), 2);
    assert.deepEqual([q.hr.width, q.hr.height, q.lr.width, q.lr.height], [hr.width, hr.height, hr.width / 2, hr.height / 2]);
    assert.deepEqual(q.hr.data, hr.data);
    assert.deepEqual(q.lr.data, resizeImage(hr, 1 / 2).data);
    assert.equal(q.path, sampler.pairs[i].path);
  }
  const withTeacher = sampler.withTargets(sampler.pairs.map((p) => new Float32Array(p.hr.data.length)));
  assert.throws(() => withTeacher.withDownscales([0.5]), /before adding the teacher outputs/);
});

test('withShifts: every image again without its first dx columns and dy rows (cropped to the scale), its LR made alike, shift by shift', async () => {
  const { dir } = await fixture();
  const sampler = await PatchSampler.load(dir, ['A'], 2);
  const more = sampler.withShifts([[1, 0], [1, 1]]);
  assert.deepEqual(more.pairs.map((p) => p.name), ['a1', 'a2', 'a1+1,0', 'a2+1,0', 'a1+1,1', 'a2+1,1']);
  for (const [i, q] of more.pairs.slice(2).entries()) {
    const src = sampler.pairs[i % 2].hr;
    const [dx, dy] = i < 2 ? [1, 0] : [1, 1];
    const hr = modcrop(crop(src, dx, dy, src.width - dx, src.height - dy), 2);
    assert.deepEqual(q.hr, hr);
    assert.deepEqual(q.lr.data, resizeImage(hr, 1 / 2).data);
    // The shifted HR's first pixel is the original's at (dx, dy).
    assert.deepEqual(q.hr.data.subarray(0, 3), src.data.subarray((dy * src.width + dx) * 3, (dy * src.width + dx) * 3 + 3));
  }
  const withTeacher = sampler.withTargets(sampler.pairs.map((p) => new Float32Array(p.hr.data.length)));
  assert.throws(() => withTeacher.withShifts([[1, 0]]), /withShifts: make the copies before adding the teacher outputs/);
});

test('patches are reproducible from the seed and differ between seeds', async () => {
  const { dir } = await fixture();
  const sampler = await PatchSampler.load(dir, ['A'], 3);
  const a = sampler.sample(new Rng(1), 6, 4);
  assert.deepEqual(sampler.sample(new Rng(1), 6, 4), a);
  assert.notDeepEqual(sampler.sample(new Rng(2), 6, 4).lr, a.lr);
  // a2 is 24x37 -> LR 8x12 at x3: patches of 9 only fit a1 (LR 13x10); 11 fit none.
  assert.doesNotThrow(() => sampler.sample(new Rng(1), 2, 9));
  assert.throws(() => sampler.sample(new Rng(1), 2, 11), /no image has room for a 11x11 LR patch at x3 \(largest LR short side: 10\)/);
});

test('the bundled T91 loads once and then yields 48x48 batches quickly', async () => {
  assert.ok(existsSync(join(BUNDLED_DATA_DIR, 'T91')));
  const t0 = performance.now();
  const sampler = await PatchSampler.load(BUNDLED_DATA_DIR, ['T91'], 2);
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  const rng = new Rng(0);
  for (let i = 0; i < 20; i++) {
    const b = sampler.sample(rng, 16, 48);
    assert.equal(b.hr.length, 16 * 96 * 96 * 3);
  }
  const batchMs = (performance.now() - t1) / 20;
  assert.ok(batchMs < 50, `a 16x48x48 x2 batch took ${batchMs.toFixed(1)} ms`);
  assert.ok(loadMs < 20000, `loading T91 took ${loadMs.toFixed(0)} ms`);
});
