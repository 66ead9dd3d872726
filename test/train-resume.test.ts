// Resuming a training run: the log and the time count as if it never stopped, a killed run's temp files go,
// and `train --resume` takes the flags that only say how long to run or how often to report, refusing the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel, loadModel } from '../src/models/model-io.js';
import { Tensor } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { parseArch } from '../src/models/registry.js';
import { loadRecipe } from '../src/train/recipe.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { CHECKPOINT, CURVE, LOG, train, type TrainOptions } from '../src/train/trainer.js';
import { synthetic } from './support/synthetic.js';

const here = dirname(fileURLToPath(import.meta.url));
const spec = parseArch('wdsr-b-1x4', 2);
const opts: TrainOptions = { steps: 200, batch: 2, patch: 6, lr: 3e-3, milestones: [0.5, 0.9], gamma: 0.5, seed: 3, valEvery: 0, checkpointEvery: 50 };
const quiet = { data: synthetic(2, 6), quiet: true };
const readLog = (dir: string) => readFileSync(join(dir, LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test('a run stopped mid-window and resumed logs the same mean losses, and counts the seconds before its stop', async () => {
  const whole = mkdtempSync(join(tmpdir(), 'rtsr-whole-'));
  await train(spec, opts, whole, quiet);
  const out = mkdtempSync(join(tmpdir(), 'rtsr-resume-'));
  // Steps 101-150 take 0.5 s more, after the log line at step 100 and before the checkpoint at 150.
  const first = await train(spec, opts, out, { ...quiet, shouldStop: (s) => (s > 100 && sleep(10), s === 150) });
  const saved = loadCheckpoint(join(out, CHECKPOINT)).seconds!;
  assert.ok(saved > readLog(out)[0].seconds + 0.45 && saved <= first.seconds, `checkpoint at ${saved} s, log line at step 100 ${readLog(out)[0].seconds} s`);
  const second = await train(spec, opts, out, quiet, true);
  assert.deepEqual(readLog(out).map((l) => [l.step, l.loss, l.lr]), readLog(whole).map((l) => [l.step, l.loss, l.lr]), 'mean over steps 101-200, not 151-200');
  assert.ok(second.seconds >= first.seconds, `${second.seconds} s in all ≥ ${first.seconds} s before the stop`);
  assert.ok(readLog(out).at(-1).seconds >= saved, 'the log line at step 200 counts the time before the stop');
});

test("temp files of a killed run's writes are removed when the run resumes; a live writer's are kept", async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-temps-'));
  await train(spec, { ...opts, steps: 2 }, out, quiet);
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const stale = [CURVE, LOG, CHECKPOINT].map((n) => `.${n}.${dead}.0123abcd.tmp`);
  const live = `.${CURVE}.${process.pid}.89abcdef.tmp`;
  // Only rtsr's temp names (`.<name>.<pid>.<8 hex>.tmp`) are its own to delete.
  const foreign = `.notes.txt.${dead}.tmp`;
  for (const f of [...stale, live, foreign]) writeFileSync(join(out, f), 'partial');
  await train(spec, { ...opts, steps: 4 }, out, quiet, true);
  const left = readdirSync(out).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(left.sort(), [live, foreign].sort());
});

/** `rtsr train` on one bundled T91 image (Set5's bird to validate), reference backend: seconds per run. */
function cli(root: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [resolve(here, '../src/cli/main.js'), 'train', '--out', join(root, 'run'), '--backend', 'reference', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A run folder's parent with one T91 image to train on and Set5's bird to validate on. */
function smallData(prefix: string): { root: string; data: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  for (const [set, image] of [['T91', 't1.png'], ['Set5', 'bird.png']]) {
    mkdirSync(join(root, 'data', set, 'HR'), { recursive: true });
    copyFileSync(resolve(here, '../../data', set, 'HR', image), join(root, 'data', set, 'HR', image));
  }
  return { root, data: join(root, 'data') };
}

test('train --resume extends --steps (saying where the lr milestones move), refuses flags that change a step, and --val-every 0 is accepted', () => {
  const { root, data } = smallData('rtsr-resume-cli-');
  const first = cli(root, '--arch', 'wdsr-b-1x4', '--steps', '4', '--batch', '2', '--patch', '8', '--data', data, '--train-sets', 'T91', '--val-every', '0', '--checkpoint-every', '2');
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /after 4 steps/);

  const refused: [string[], RegExp][] = [
    [['--lr', '0.01'], /--lr 0\.01 differs from the checkpoint's 0\.001/],
    [['--batch', '4'], /--batch 4 differs from the checkpoint's 2/],
    [['--milestones', '0.3'], /--milestones 0\.3 differs from the checkpoint's 0\.5,0\.75,0\.9/],
    [['--arch', 'wdsr-b-2x4'], /--arch wdsr-b-2x4 differs from the checkpoint's \{"arch":"wdsr-b"/],
    [['--scale', '3'], /--scale 3 differs from the checkpoint's 2/],
    [['--data', root], new RegExp(`--data ${root} differs from the checkpoint's ${data}`)],
    [['--train-sets', 'BSD200'], /--train-sets BSD200 differs from the checkpoint's T91/],
    [['--steps', '3'], /--steps 3 is below the checkpoint's step 4/],
  ];
  for (const [flags, message] of refused) {
    const r = cli(root, '--resume', ...flags);
    assert.equal(r.code, 2, `${flags}: ${r.err}`);
    assert.match(r.err, message);
  }
  const same = cli(root, '--resume', '--lr', '1e-3', '--arch', 'wdsr-b-1x4', '--data', data, '--steps', '6', '--checkpoint-every', '1');
  assert.equal(same.code, 0, same.err);
  assert.match(same.err, /resuming wdsr-b ×2 at step 4\/6/);
  assert.match(same.err, /--steps 6 instead of 4: the lr milestones move from steps 2, 3, 4 to 3, 5, 5/);
  assert.match(same.out, /after 6 steps/);
  assert.equal(loadCheckpoint<TrainOptions>(join(root, 'run', CHECKPOINT)).options.steps, 6, 'a later resume continues the extended run');
  assert.ok(existsSync(join(root, 'run', 'model.rtsr')));
});

test('train --recipe and --teacher: the model keeps its branches and recipe; a resume refuses another recipe, weight or a changed teacher', () => {
  const { root, data } = smallData('rtsr-recipe-cli-');
  const teacher = join(root, 'teacher.rtsr');
  saveModel(teacher, Model.init(parseArch('wdsr-b-1x6', 2), 1));
  const small = ['--batch', '2', '--patch', '8', '--data', data, '--train-sets', 'T91', '--val-every', '0', '--checkpoint-every', '2'];
  const bad: [string[], RegExp][] = [
    [['--recipe', 'nope'], /no recipe 'nope' \(recipes: baseline, charbonnier, downscale, ema, finetune-downscale, finetune-ensemble, finetune-shifts, full, .*; or a \.json file\)/],
    [['--distill-weight', '0.5'], /--distill-weight needs --teacher/],
    [['--recipe', 'finetune-ensemble'], /recipe 'finetune-ensemble' distils a teacher's self-ensemble: give --teacher/],
    [['--teacher', 'wdsr-b-x4'], /--teacher: teacher .*wdsr-b-x4\.rtsr is a ×4 model; the student is ×2/],
    [['--teacher', teacher, '--distill-weight=-1'], /--distill-weight must be a positive number, got '-1'/],
  ];
  for (const [flags, message] of bad) {
    const r = cli(root, '--arch', 'wdsr-b-1x4', '--steps', '4', ...small, ...flags);
    assert.equal(r.code, 2, `${flags}: ${r.err}`);
    assert.match(r.err, message);
  }
  const first = cli(root, '--arch', 'wdsr-b-1x4', '--steps', '4', ...small, '--recipe', 'full', '--teacher', teacher, '--distill-weight', '0.5');
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, new RegExp(`\\(recipe full, teacher ${teacher}\\).* after 4 steps`));
  assert.match(first.err, /teacher: its SR of 1 training images in/);
  const saved = loadModel(join(root, 'run', 'model.rtsr'));
  assert.deepEqual(saved.model.spec.reparam, loadRecipe('full').reparam);
  assert.equal((saved.info.training!.recipe as { name: string }).name, 'full');
  assert.ok(readFileSync(join(root, 'run', LOG), 'utf8').includes('"distill"'));

  const refused: [string[], RegExp][] = [
    [['--recipe', 'ema'], /--recipe ema differs from the checkpoint's \{"name":"full"/],
    [['--distill-weight', '1'], /--distill-weight 1 differs from the checkpoint's \{"name":"full".*"distill":0\.5/],
    [['--teacher', 'wdsr-b-x2'], /--teacher wdsr-b-x2 differs from the checkpoint's .*teacher\.rtsr/],
  ];
  for (const [flags, message] of refused) {
    const r = cli(root, '--resume', '--steps', '6', ...flags);
    assert.equal(r.code, 2, `${flags}: ${r.err}`);
    assert.match(r.err, message);
  }
  // The same flags (the preset without its branches) are accepted.
  const same = cli(root, '--resume', '--steps', '6', '--arch', 'wdsr-b-1x4', '--recipe', 'full', '--teacher', teacher, '--distill-weight', '0.5');
  assert.equal(same.code, 0, same.err);
  assert.match(same.out, /after 6 steps/);
  saveModel(teacher, Model.init(parseArch('wdsr-b-1x6', 2), 2));
  const changed = cli(root, '--resume', '--steps', '8');
  assert.notEqual(changed.code, 0);
  assert.match(changed.err, /teacher .*teacher\.rtsr has changed since the run started/);
});

test('train --init starts from a model file\'s weights (the recipe\'s branches added), and takes its architecture', () => {
  const { root, data } = smallData('rtsr-init-cli-');
  const start = join(root, 'start.rtsr');
  const m = Model.init(parseArch('{"arch":"fsrcnn-d2s","d":6,"s":3,"m":1}', 3), 4);
  saveModel(start, m);
  const small = ['--steps', '2', '--batch', '2', '--patch', '8', '--data', data, '--train-sets', 'T91', '--val-every', '0', '--lr', '1e-9'];
  for (const [flags, message] of [
    [['--init', start, '--arch', 'espcn'], /train needs --arch, or --init to start from a model's weights \(not both\)/],
    [['--init', start, '--scale', '2'], /--scale 2: the --init model .*start\.rtsr is ×3/],
    [['--init', join(root, 'none.rtsr')], /--init: no model file/],
  ] as [string[], RegExp][]) {
    const r = cli(root, ...small, ...flags);
    assert.equal(r.code, 2, `${flags}: ${r.err}`);
    assert.match(r.err, message);
  }
  const r = cli(root, ...small, '--init', start, '--recipe', 'reparam');
  assert.equal(r.code, 0, r.err);
  const { model, info } = loadModel(join(root, 'run', 'model.rtsr'));
  assert.deepEqual(model.spec, { ...m.spec, reparam: loadRecipe('reparam').reparam });
  assert.equal((info.training!.run as { init: string }).init, start);
  // Two steps at lr 1e-9: still the start's function (the branches start at zero, identity's 1 moved).
  const x = new Tensor(Float32Array.from({ length: 5 * 6 * 3 }, (_, i) => (i % 7) / 7), [1, 5, 6, 3]);
  const [a, b] = [m.forward(x).data, model.forward(x).data];
  assert.ok(a.every((v, i) => Math.abs(v - b[i]) < 1e-5));
  assert.ok(model.params.get('map.0.rep.1x1.w')!.data.some((v) => v !== 0), 'the branches trained');
});
