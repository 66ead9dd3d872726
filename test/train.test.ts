// The trainer on synthetic data: it learns, a killed-and-resumed run equals an uninterrupted one, and a NaN
// loss stops the run with a message while the last good checkpoint stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../src/engine/ops.js';
import { Tensor } from '../src/engine/tensor.js';
import { parseArch } from '../src/models/registry.js';
import { runLoop } from '../src/train/loop.js';
import { CHECKPOINT, checkpointRun, CURVE, DivergedError, LOG, train, type TrainOptions } from '../src/train/trainer.js';
import { synthetic } from './support/synthetic.js';

const spec = parseArch('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":8,"m2":3}]}', 2);
const opts: TrainOptions = { steps: 200, batch: 2, patch: 6, lr: 3e-3, milestones: [0.5, 0.9], gamma: 0.5, seed: 3, valEvery: 0, checkpointEvery: 50 };

test('a short training run lowers the loss and writes checkpoint, log and curve', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-train-'));
  await train(spec, opts, out, { data: synthetic(2, 6), quiet: true });
  const log = readFileSync(join(out, LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.length, 2);
  assert.ok(log[1].loss < 0.5 * log[0].loss, `mean L1 over steps 1-100 ${log[0].loss}, over 101-200 ${log[1].loss}`);
  assert.equal(log[1].lr, 3e-3 * 0.5 * 0.5, 'lr halved at 50 % and 90 %');
  assert.equal(checkpointRun(join(out, CHECKPOINT)).step, 200);
  assert.match(readFileSync(join(out, CURVE), 'utf8'), /<polyline/);
});

test('a run killed mid-way and resumed ends with the same parameters as an uninterrupted one', async () => {
  const whole = await train(spec, { ...opts, steps: 120 }, mkdtempSync(join(tmpdir(), 'rtsr-whole-')), { data: synthetic(2, 6), quiet: true });
  const out = mkdtempSync(join(tmpdir(), 'rtsr-resume-'));
  const first = await train(spec, { ...opts, steps: 120 }, out, { data: synthetic(2, 6), quiet: true, shouldStop: (s) => s === 37 });
  assert.equal(first.interrupted, true);
  assert.equal(first.step, 37);
  const second = await train(spec, { ...opts, steps: 120 }, out, { data: synthetic(2, 6), quiet: true }, true);
  assert.equal(second.step, 120);
  for (const [name, p] of whole.model.params) assert.deepEqual([...second.model.params.get(name)!.data], [...p.data], name);
  const log = readFileSync(join(out, LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(log.map((l) => l.step), [100, 120], 'no duplicated or missing log lines after the resume');
});

test('resuming from a checkpoint of another network says which, before touching anything', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-other-'));
  await train(spec, { ...opts, steps: 20 }, out, { data: synthetic(2, 6), quiet: true });
  const wider = parseArch('{"arch":"wdsr-b","channels":5,"blocks":[{"m1":8,"m2":3}]}', 2);
  await assert.rejects(train(wider, { ...opts, steps: 40 }, out, { data: synthetic(2, 6), quiet: true }, true), (e: Error) =>
    e.message.includes('"channels":4') && e.message.includes('"channels":5') && e.message.includes(`delete ${out}`));
  assert.equal(checkpointRun(join(out, CHECKPOINT)).step, 20, 'the checkpoint is as it was');
});

test('a NaN loss stops training with a message and keeps the last good checkpoint', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rtsr-nan-'));
  await assert.rejects(
    train(spec, opts, out, { data: synthetic(2, 6, 72), quiet: true }),
    (err: Error) => err instanceof DivergedError && /loss is NaN at step 73; the last good checkpoint \(step 50\) is kept/.test(err.message),
  );
  assert.ok(existsSync(join(out, CHECKPOINT)));
  assert.equal(checkpointRun(join(out, CHECKPOINT)).step, 50);
});

test("a group's range clips its values after every step; without one Adam goes past it", async () => {
  const climb = async (range?: readonly [number, number]) => {
    const p = new Tensor(Float32Array.of(0.5, 0.2), [2], true);
    const seen: number[] = [];
    const task = {
      state: new Map([['p', p]]),
      groups: [{ name: 'p', params: [p], lrScale: 1, range }],
      loss: () => {
        seen.push(...p.data);
        return { loss: ops.sum(ops.mul(p, new Tensor(Float32Array.of(-1, 1), [2]))) }; // p[0] up, p[1] down
      },
    };
    const opts = { steps: 6, lr: 0.2, milestones: [], gamma: 1, valEvery: 0, checkpointEvery: 100 };
    await runLoop(task, opts, { options: {}, subject: {} }, mkdtempSync(join(tmpdir(), 'rtsr-clip-')), { data: synthetic(1, 2), quiet: true });
    return { end: [...p.data], max: Math.max(...seen), min: Math.min(...seen) };
  };
  const free = await climb();
  assert.ok(free.end[0] > 1 && free.end[1] < 0, `unclipped: ${free.end}`);
  const clipped = await climb([0, 1]);
  assert.deepEqual(clipped.end, [1, 0]);
  assert.ok(clipped.max <= 1 && clipped.min >= 0, 'never outside the range at any step');
});
