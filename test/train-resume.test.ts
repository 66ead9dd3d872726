// Resuming a training run: the log and the time count as if it never stopped, a killed run's temp files go,
// and `train --resume` takes the flags that only say how long to run or how often to report, refusing the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArch } from '../src/models/registry.js';
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

test('train --resume extends --steps (saying where the lr milestones move), refuses flags that change a step, and --val-every 0 is accepted', () => {
  const root = mkdtempSync(join(tmpdir(), 'rtsr-resume-cli-'));
  for (const [set, image] of [['T91', 't1.png'], ['Set5', 'bird.png']]) {
    mkdirSync(join(root, 'data', set, 'HR'), { recursive: true });
    copyFileSync(resolve(here, '../../data', set, 'HR', image), join(root, 'data', set, 'HR', image));
  }
  const data = join(root, 'data');
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
