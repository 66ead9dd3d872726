import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, RATE_WINDOW_SECONDS, SILENT_SECONDS, type ProgressSink } from '../src/train/progress.js';

// Runs `total` steps of `secondsPerStep` each through a log (non-terminal) progress bar; returns the printed steps
// with the clock at each.
function run(total: number, secondsPerStep: number): { step: number; at: number }[] {
  let clock = 0;
  const printed: { step: number; at: number }[] = [];
  const sink: ProgressSink = { tty: false, now: () => clock * 1000, write: (s) => printed.push({ step: Number(/\] (\d+)\//.exec(s)![1]), at: clock }) };
  const p = new Progress(total, false, sink);
  for (let step = 1; step <= total; step++) {
    clock += secondsPerStep;
    p.update(step, 0.1, 1e-3, null);
  }
  return printed;
}

test('a fast stage logs one line per 5 %', () => {
  const printed = run(1000, 0.01);
  assert.deepEqual(
    printed.map((p) => p.step),
    [1, ...Array.from({ length: 20 }, (_, i) => (i + 1) * 50)],
  );
});

test('a slow stage logs at every 5 % and at least once a minute between them', () => {
  const printed = run(1000, 7); // 5 % = 350 s
  const buckets = new Set(printed.map((p) => Math.floor((p.step / 1000) * 20)));
  assert.equal(buckets.size, 21, 'every 5 % bucket printed');
  for (let i = 1; i < printed.length; i++) {
    const gap = printed[i].at - printed[i - 1].at;
    assert.ok(gap <= SILENT_SECONDS + 7, `${gap} s without a line before step ${printed[i].step}`);
  }
  assert.ok(printed.length < 1000 / 8, `${printed.length} lines: not one per step`);
});

test('it/s and the ETA follow the present speed within two windows after a pause, not the average since the start', () => {
  let clock = 0;
  const lines: string[] = [];
  const p = new Progress(10_000, false, { tty: true, now: () => clock * 1000, write: (s) => lines.push(s) });
  const rate = () => Number(/ ([\d.]+) it\/s/.exec(lines[lines.length - 1])![1]);
  for (let step = 1; step <= 4000; step++) {
    if (step === 2001) clock += 3600; // stopped for an hour
    clock += 0.5;
    p.update(step, 0.1, 1e-3, null);
    if (step === 1) assert.equal(rate(), 2, 'the first step is timed from the start');
    if (step === 2000) assert.equal(rate(), 2);
    if (step === 2001) assert.ok(rate() < 0.5, `just after the pause the window holds it: ${rate()}`);
  }
  assert.equal(rate(), 2, `back to the present speed (windows of ${RATE_WINDOW_SECONDS} s)`);
  assert.match(lines[lines.length - 1], /ETA 50m00s/, '6 000 steps at 2 it/s');
});
