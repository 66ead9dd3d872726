// Training recipes (train/recipe.ts): the shipped option files, their schedules, the weight average against a
// float64 oracle, distillation's loss terms, teacher targets cropped like HR, branches added to a trained
// network without changing it, and a run with every ingredient killed and resumed ending bit for bit where an
// uninterrupted one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../src/compiler/compile.js';
import type { ImagePair } from '../src/data/datasets.js';
import { PatchSampler } from '../src/data/patches.js';
import { Tensor } from '../src/engine/tensor.js';
import { dihedral } from '../src/image/dihedral.js';
import { rgbImage } from '../src/image/image.js';
import { resizeImage } from '../src/image/resize.js';
import { parseArch } from '../src/models/registry.js';
import { referenceTarget } from '../src/targets/reference/index.js';
import { gridShifts, patchSource, recipeSource } from '../src/train/data.js';
import { Ema } from '../src/train/ema.js';
import { loadRecipe, lossAt, patchAt, type Recipe, recipeNames } from '../src/train/recipe.js';
import { teacherOutputs } from '../src/train/teacher.js';
import { type BatchSource, LOG, train, type TrainOptions } from '../src/train/trainer.js';
import { Rng } from '../src/util/random.js';
import { forward, maxAbsDiff, randomImage, randomModel } from './compiler-support.js';
import { synthetic } from './support/synthetic.js';

const readLog = (dir: string) => readFileSync(join(dir, LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('every shipped recipe loads; each ablation recipe is the baseline plus one ingredient (reparam-luma: reparam\'s plus one; finetune-downscale: reparam-luma\'s plus two; finetune-ensemble, finetune-shifts: finetune-downscale\'s plus one)', () => {
  const names = recipeNames();
  for (const n of ['baseline', 'ema', 'reparam', 'patch-late', 'l2-finetune', 'charbonnier', 'no-augment', 'full']) assert.ok(names.includes(n), n);
  const { name: _, description: __, ...base } = loadRecipe('baseline');
  assert.deepEqual(base, { ema: 0, augment: true, patches: [], losses: [{ from: 0, loss: 'l1' }], distill: 1 });
  const differs = (n: string) => {
    const { name: _, description: __, ...r } = loadRecipe(n) as Recipe & Record<string, unknown>;
    return Object.keys({ ...base, ...r }).filter((k) => JSON.stringify((r as Record<string, unknown>)[k]) !== JSON.stringify((base as Record<string, unknown>)[k]));
  };
  assert.deepEqual(Object.fromEntries(names.filter((n) => !['baseline', 'full', 'reparam-luma', 'finetune-downscale', 'finetune-ensemble', 'finetune-shifts'].includes(n)).map((n) => [n, differs(n)])), {
    charbonnier: ['losses'],
    downscale: ['downscales'],
    ema: ['ema'],
    'l2-finetune': ['losses'],
    'no-augment': ['augment'],
    'patch-late': ['patches'],
    reparam: ['reparam'],
    ycbcr: ['losses'],
  });
  assert.deepEqual(differs('full').sort(), ['ema', 'losses', 'patches', 'reparam']);
  assert.deepEqual(differs('reparam-luma').sort(), ['luma', 'reparam']);
  assert.deepEqual(differs('finetune-downscale').sort(), ['downscales', 'ema', 'luma', 'reparam']);
  assert.deepEqual(differs('finetune-ensemble').sort(), ['downscales', 'ema', 'ensemble', 'luma', 'reparam']);
  assert.deepEqual(differs('finetune-shifts').sort(), ['downscales', 'ema', 'luma', 'reparam', 'shifts']);
});

test('recipe files: extends, and errors that name the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-recipe-'));
  const file = (name: string, body: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(body));
    return join(dir, name);
  };
  const mine = loadRecipe(file('mine.json', { extends: 'ema', patches: [{ from: 0.5, size: 32 }] }));
  assert.equal(mine.ema, 0.999);
  assert.deepEqual(mine.patches, [{ from: 0.5, size: 32 }]);
  assert.equal(mine.downscales, undefined);
  assert.deepEqual(loadRecipe(file('scaled.json', { extends: 'baseline', downscales: [0.9, 0.6] })).downscales, [0.9, 0.6]);
  assert.deepEqual(loadRecipe(file('shifted.json', { extends: 'baseline', shifts: [[2, 0], [0, 2]] })).shifts, [[2, 0], [0, 2]]);
  assert.equal(loadRecipe(file('phases.json', { extends: 'baseline', shifts: 'all' })).shifts, 'all');
  const bad: [unknown, RegExp][] = [
    [{ extends: 'baseline', lr: 1 }, /unknown field 'lr'/],
    [{ extends: 'baseline', losses: [{ from: 0, loss: 'huber' }] }, /losses\[0\]: 'loss' must be one of l1, l2, charbonnier, ycbcr, got "huber"/],
    [{ extends: 'baseline', losses: [{ from: 0.5, loss: 'l1' }] }, /losses must start with one from 0/],
    [{ extends: 'baseline', patches: [{ from: 0.8, size: 64 }, { from: 0.5, size: 96 }] }, /patches: entries must start at increasing fractions/],
    [{ extends: 'baseline', patches: [{ from: 1, size: 64 }] }, /'from' must be a fraction of the run in \[0, 1\), got 1/],
    [{ extends: 'baseline', ema: 1 }, /'ema' must be 0 \(none\) or a decay in \(0, 1\), got 1/],
    [{ extends: 'baseline', reparam: { branches: ['3x3'] } }, /'reparam' needs 'branches'/],
    [{ extends: 'baseline', downscales: [0.9, 1] }, /'downscales' must be a list of distinct factors in \(0, 1\), got \[0.9,1\]/],
    [{ extends: 'baseline', downscales: [] }, /'downscales' must be a list/],
    [{ extends: 'baseline', shifts: 'some' }, /'shifts' must be "all" or a list of distinct \[dx, dy\] pixel offsets, integers in \[0, 16\), not \[0, 0\], got "some"/],
    [{ extends: 'baseline', shifts: [[2, 0], [2, 0]] }, /'shifts' must be "all" or a list of distinct \[dx, dy\] pixel offsets, integers in \[0, 16\), not \[0, 0\], got \[\[2,0\],\[2,0\]\]/],
    [{ extends: 'baseline', shifts: [[0, 0]] }, /'shifts' must be "all" or a list/],
    [{ extends: 'baseline', shifts: [[1.5, 0]] }, /'shifts' must be "all" or a list/],
    [{ extends: 'nothing' }, /no recipe 'nothing' \(recipes: baseline, charbonnier, downscale/],
  ];
  for (const [body, message] of bad) assert.throws(() => loadRecipe(file('bad.json', body)), message, JSON.stringify(body));
  file('a.json', { extends: join(dir, 'b.json') });
  file('b.json', { extends: join(dir, 'a.json') });
  assert.throws(() => loadRecipe(join(dir, 'a.json')), /extends itself/);
});

test('schedules switch at the step their fraction rounds to, as the lr milestones do', () => {
  const r = loadRecipe('full');
  const steps = 1001; // 80 % → step 801, 90 % → step 901
  assert.deepEqual([0, 800, 801, 1000].map((s) => patchAt(r, 48, s, steps)), [48, 48, 64, 64]);
  assert.deepEqual([0, 900, 901].map((s) => lossAt(r, s, steps)), ['l1', 'l1', 'l2']);
  assert.equal(patchAt(loadRecipe('baseline'), 40, 900, steps), 40);
});

test('the weight average after t updates is Σ of the weights with the warm-up decays (float64 oracle)', () => {
  const w = new Tensor(new Float32Array([1, -2]), [2], true);
  const ema = new Ema(new Map([['w', w]]), 0.9);
  const rng = new Rng(3);
  let want = [1, -2];
  for (let t = 1; t <= 40; t++) {
    w.data.set([rng.uniform(-1, 1), rng.uniform(-1, 1)]);
    ema.update(t);
    const d = Math.min(0.9, (1 + t) / (10 + t));
    want = want.map((a, i) => d * a + (1 - d) * w.data[i]);
  }
  const got = ema.params.get('w')!.data;
  want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-6, `${got[i]} vs ${v}`));
  assert.deepEqual([...ema.state().keys()], ['ema/w']);
});

test('the baseline recipe trains bit for bit as a run without one (rtsr before recipes)', async () => {
  const spec = parseArch('wdsr-b-1x4', 2);
  const opts: TrainOptions = { steps: 30, batch: 2, patch: 6, lr: 3e-3, milestones: [0.5], gamma: 0.5, seed: 4, valEvery: 0, checkpointEvery: 100 };
  const ps = pairs(3, new Rng(1));
  const data = (recipe?: Recipe) => patchSource(new PatchSampler(ps, 2), 4, 2, recipe ? (s) => patchAt(recipe, 6, s, 30) : 6, recipe?.augment ?? true);
  const plain = await train(spec, opts, mkdtempSync(join(tmpdir(), 'rtsr-plain-')), { data: data(), quiet: true });
  const base = loadRecipe('baseline');
  const withBaseline = await train(spec, { ...opts, recipe: base }, mkdtempSync(join(tmpdir(), 'rtsr-base-')), { data: data(base), quiet: true });
  for (const [name, p] of plain.model.params) assert.deepEqual(withBaseline.model.params.get(name)!.data, p.data, name);
});

test('distillation adds w · ρ(SR, teacher) to ρ(SR, HR); with the teacher equal to HR both terms are equal', async () => {
  const spec = parseArch('wdsr-b-1x4', 2);
  const src = synthetic(2, 6);
  const withTeacher: BatchSource = { batch: (s) => ({ ...src.batch(s), teacher: new Tensor(src.batch(s).hr.data.slice(), src.batch(s).hr.shape) }) };
  const opts: TrainOptions = { steps: 100, batch: 2, patch: 6, lr: 1e-3, milestones: [], gamma: 1, seed: 1, valEvery: 0, checkpointEvery: 100, recipe: { ...loadRecipe('baseline'), distill: 0.25 } };
  const out = mkdtempSync(join(tmpdir(), 'rtsr-distill-'));
  await train(spec, opts, out, { data: withTeacher, quiet: true });
  const [line] = readLog(out);
  assert.ok(line.pixel > 0 && Math.abs(line.distill - line.pixel) < 1e-12, JSON.stringify(line));
  assert.ok(Math.abs(line.loss - 1.25 * line.pixel) < 1e-6 * line.loss, JSON.stringify(line));
});

/** Smooth random images with their bicubic LR, as loadPair makes them. */
function pairs(n: number, rng: Rng): ImagePair[] {
  return Array.from({ length: n }, (_, i) => {
    const [w, h] = [24 + 4 * i, 20 + 2 * i];
    const data = new Uint8Array(w * h * 3);
    const a = [rng.next(), rng.next(), rng.next()].map((v) => v * 0.2);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.round(255 * (0.5 + 0.4 * Math.sin(a[c] * x + (c + 1) * 0.1 * y)));
    const hr = rgbImage(w, h, data);
    return { name: `p${i}`, path: `p${i}.png`, hr, lr: resizeImage(hr, 0.5) };
  });
}

test("a recipe's downscales add each image's downscaled copies to the pairs the batches come from, its shifts the shifted ones first", async () => {
  const lines: string[] = [];
  const recipe = { ...loadRecipe('downscale'), downscales: [0.9, 0.5] };
  const source = await recipeSource(new PatchSampler(pairs(3, new Rng(3)), 2), { seed: 1, batch: 2, patch: 6, steps: 10, recipe }, undefined, (l) => lines.push(l));
  assert.deepEqual(lines, ['downscales 0.9, 0.5: 9 training pairs from 3 images']);
  lines.length = 0;
  await recipeSource(new PatchSampler(pairs(3, new Rng(3)), 2), { seed: 1, batch: 2, patch: 6, steps: 10, recipe: { ...recipe, shifts: [[1, 0], [0, 1]] } }, undefined, (l) => lines.push(l));
  assert.deepEqual(lines, ['shifts (1, 0), (0, 1): 9 training pairs from 3 images', 'downscales 0.9, 0.5: 27 training pairs from 3 images']);
  lines.length = 0;
  // 'all': the scale's other phases, x fastest; at ×2 three, at ×4 fifteen.
  await recipeSource(new PatchSampler(pairs(3, new Rng(3)), 2), { seed: 1, batch: 2, patch: 6, steps: 10, recipe: { ...recipe, downscales: undefined, shifts: 'all' } }, undefined, (l) => lines.push(l));
  assert.deepEqual(lines, ['shifts (1, 0), (0, 1), (1, 1): 12 training pairs from 3 images']);
  assert.deepEqual(gridShifts(4).map(String), ['1,0', '2,0', '3,0', '0,1', '1,1', '2,1', '3,1', '0,2', '1,2', '2,2', '3,2', '0,3', '1,3', '2,3', '3,3']);
  assert.deepEqual(source.batch(0).hr.shape, [2, 12, 12, 3]);
});

test('teacher targets are the compiled teacher on each whole image, cropped and transformed as the HR patch', async () => {
  const ps = pairs(3, new Rng(2));
  const teacher = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":8,"m2":4}]}', 2, 4);
  const targets = await teacherOutputs(teacher, ps, referenceTarget);
  const x = Float32Array.from(ps[1].lr.data, (v) => v / 255);
  assert.ok(maxAbsDiff(targets[1], forward(teacher, x, ps[1].lr.height, ps[1].lr.width)) < 1e-5);
  // A teacher equal to the HR image crops to exactly the HR patches, under every flip and rotation.
  const sampler = new PatchSampler(ps, 2).withTargets(ps.map((q) => Float32Array.from(q.hr.data, (v) => v / 255)));
  const b = sampler.sample(new Rng(5), 16, 7);
  assert.deepEqual(b.teacher, b.hr);
  assert.throws(() => new PatchSampler(ps, 2).withTargets(targets.slice(1)), /2 teacher outputs for 3 images/);
});

test("a teacher's self-ensemble is equivariant: its target for a flipped or rotated image is its target flipped or rotated", async () => {
  const teacher = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":8,"m2":4}]}', 2, 5);
  const [q] = pairs(1, new Rng(4));
  const lr = { width: q.lr.width, height: q.lr.height, channels: 3, data: Float32Array.from(q.lr.data, (v) => v / 255) };
  const [plain, ens] = [await teacherOutputs(teacher, [q], referenceTarget), await teacherOutputs(teacher, [q], referenceTarget, true)];
  assert.ok(maxAbsDiff(plain[0], ens[0]) > 1e-3, 'a random network is not equivariant itself');
  const hr = { width: 2 * q.lr.width, height: 2 * q.lr.height, channels: 3, data: ens[0] };
  for (let t = 1; t < 8; t++) {
    const moved = dihedral(lr, t);
    const bytes = rgbImage(moved.width, moved.height, Uint8Array.from(moved.data, (v) => Math.round(v * 255)));
    const [out] = await teacherOutputs(teacher, [{ ...q, lr: bytes }], referenceTarget, true);
    assert.ok(maxAbsDiff(out, dihedral(hr, t).data) < 1e-5, `t=${t}`);
  }
});

test('branches added to a trained network leave its function as it was (identity included), folded or not', async () => {
  for (const [spec, s] of [['{"arch":"wdsr-b","channels":5,"blocks":[{"m1":9,"m2":5}]}', 2], ['{"arch":"fsrcnn-d2s","d":6,"s":3,"m":2}', 3]] as const) {
    const m = randomModel(spec, s, 6);
    const b = m.branched(loadRecipe('full').reparam!, 1);
    assert.ok([...b.params.keys()].some((k) => k.includes('.rep.1x1-kxk.a')));
    const [h, w] = [7, 9];
    const x = randomImage(new Rng(8), h, w);
    const want = forward(m, x, h, w);
    assert.ok(maxAbsDiff(forward(b, x, h, w), want) < 1e-5, spec);
    assert.ok(maxAbsDiff(await (await compile(b, { target: referenceTarget })).run(x, h, w), want) < 1e-5, spec);
    assert.throws(() => b.branched(loadRecipe('full').reparam!, 1), /already has training branches/);
  }
});

test('a run with every ingredient (a luminance body, branches, EMA, a patch switch, L1 → YCbCr L1 → L2, downscaled copies, a teacher) killed and resumed ends bit for bit as one that never stopped', async () => {
  const ps = pairs(4, new Rng(9));
  const teacher = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":8,"m2":4}]}', 2, 3);
  const scaled = new PatchSampler(ps, 2).withDownscales([0.8]);
  const sampler = scaled.withTargets(await teacherOutputs(teacher, scaled.pairs, referenceTarget));
  const losses = [{ from: 0, loss: 'l1' as const }, { from: 0.6, loss: 'ycbcr' as const }, { from: 0.9, loss: 'l2' as const }];
  const recipe = { ...loadRecipe('full'), ema: 0.9, patches: [{ from: 0.5, size: 8 }], losses, luma: true as const, downscales: [0.8] };
  const spec = parseArch('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":6,"m2":4}]}', 2);
  const opts: TrainOptions = { steps: 40, batch: 2, patch: 6, lr: 2e-3, milestones: [0.5], gamma: 0.5, seed: 2, valEvery: 0, checkpointEvery: 100, recipe };
  const data = patchSource(sampler, opts.seed, opts.batch, (s) => patchAt(recipe, opts.patch, s, opts.steps), recipe.augment);
  const whole = await train(spec, opts, mkdtempSync(join(tmpdir(), 'rtsr-recipe-whole-')), { data, quiet: true });
  assert.ok(whole.model.spec.reparam, 'the trained model keeps its branches');
  assert.ok(whole.model.spec.arch === 'wdsr-b' && whole.model.spec.luma, 'the trained model has a luminance body');
  for (const stopAt of [13, 33]) {
    const out = mkdtempSync(join(tmpdir(), 'rtsr-recipe-resume-'));
    const first = await train(spec, opts, out, { data, quiet: true, shouldStop: (s) => s === stopAt });
    assert.equal(first.step, stopAt);
    // Resumed as the same call, or as `rtsr train --resume` does, from the checkpoint's (luma, branched) spec.
    const second = await train(stopAt < 20 ? spec : whole.model.spec, opts, out, { data, quiet: true }, true);
    assert.equal(second.step, 40);
    for (const [name, p] of whole.model.params) assert.deepEqual(second.model.params.get(name)!.data, p.data, `${name} after a stop at step ${stopAt}`);
  }
  await assert.rejects(train(whole.model.spec, { ...opts, recipe: { ...loadRecipe('reparam'), reparam: { branches: ['1x1'], expand: 2 } } }, mkdtempSync(join(tmpdir(), 'rtsr-recipe-other-')), { data, quiet: true }), /the network has training branches .*"1x1-kxk".*, recipe 'reparam' others \(\{"branches":\["1x1"\],"expand":2\}\)/);
  // The averaged weights are what the run returns, not the last ones.
  const last = await train(spec, { ...opts, recipe: { ...recipe, ema: 0 } }, mkdtempSync(join(tmpdir(), 'rtsr-recipe-last-')), { data, quiet: true });
  assert.ok(maxAbsDiff(last.model.params.get('head.v')!.data, whole.model.params.get('head.v')!.data) > 1e-4);
});
