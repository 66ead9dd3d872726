// Timing on a busy machine (src/latency/busy.ts): the verdict on synthetic windows, the retiming loop with its
// bounded waits and its fastest-window estimate, and the meter of other processes' CPU time against a real
// CPU-bound child.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { BUSY, describeSteadiness, judge, othersCpuMeter, type TimedWindow, timeSteadily } from '../src/latency/busy.js';

/** 15 samples around `ms`: a symmetric ladder whose interquartile range is `spread` × ms exactly. */
function samples(ms: number, spread: number): number[] {
  // Type-7 quantiles of 15 sorted values sit on indices 3.5, 7, 10.5: offsets −1, 0, 1 there give IQR = 2·step.
  const step = (spread * ms) / 2;
  return Array.from({ length: 15 }, (_, i) => ms + (i - 7) * (step / 3.5));
}

const win = (medians: number[], spread: number, others: number | null): TimedWindow => ({ samples: medians.map((m) => samples(m, spread)), othersCores: others });

test('a quiet machine is judged quiet; other processes\' CPU time, or where unknown a wide spread or disagreeing windows, is busy', () => {
  const quiet = judge([win([20, 30, 45], 0.03, 0.02), win([20.3, 30.2, 45.5], 0.04, 0.01), win([20.1, 30.6, 45.1], 0.03, 0.03)]);
  assert.equal(quiet.busy, false);
  assert.ok(Math.abs(quiet.others_cores! - 0.02) < 1e-12, `${quiet.others_cores}`);
  assert.ok(Math.abs(quiet.spread - 0.03) < 1e-9, `${quiet.spread}`);
  // Per network, the median of its window medians over the fastest: 20.1 / 20, 30.2 / 30, 45.1 / 45.
  assert.ok(Math.abs(quiet.disagreement - 30.2 / 30) < 1e-9, `${quiet.disagreement}`);
  // A co-runner on one of two cores: the timings may look steady (it never lets go), the CPU time does not.
  assert.equal(judge([win([40, 60, 90], 0.04, 0.97), win([40, 60, 90], 0.04, 0.95), win([40, 60, 90], 0.04, 0.99)]).busy, true);
  // Without /proc/stat the timings judge: spread over the limit, or windows apart by more than its limit.
  assert.equal(judge([win([20, 30], 0.3, null), win([20, 30], 0.3, null), win([20, 30], 0.3, null)]).busy, true);
  const apart = judge([win([20, 30], 0.03, null), win([24, 30], 0.03, null), win([26, 30], 0.03, null)]);
  assert.ok(Math.abs(apart.disagreement - 1.2) < 1e-9 && apart.busy, JSON.stringify(apart));
  assert.equal(judge([win([20, 30], 0.03, null), win([20.4, 30], 0.03, null), win([20.2, 30], 0.03, null)]).busy, false);
  // The wasm target's own spread (21–29 % quiet) does not make a machine busy where the CPU time says it is quiet.
  assert.equal(judge([win([50], 0.28, 0.01), win([50], 0.25, 0.02), win([50], 0.27, 0.0)]).busy, false);
  assert.equal(
    describeSteadiness({ busy: true, windows: 3, others_cores: 0.97, spread: 0.234, disagreement: 1.341 }),
    'other processes took 0.97 cores; samples spread 23 % (IQR / median); window medians up to 1.34× the fastest',
  );
  assert.ok(BUSY.othersCores > 0.05 && BUSY.spread > 0.05);
});

/** A synthetic machine: window i has these medians and this co-runner; counts rounds and waits. */
function machine(windows: { medians: number[]; others: number }[]) {
  const m = { timed: 0, waits: [] as number[], logs: [] as string[] };
  let metering = 0;
  return {
    m,
    opts: {
      log: (l: string) => m.logs.push(l),
      meter: () => {
        const i = metering++;
        return () => windows[i].others;
      },
      sleep: async (ms: number) => void m.waits.push(ms),
    },
    rounds: async () => windows[m.timed++].medians.map((x) => samples(x, 0.03)),
  };
}

test('busy windows are retimed after a wait until three in a row are quiet; each network takes its fastest window', async () => {
  const busy = (k: number) => ({ medians: [30 * k, 45 * k], others: 0.9 });
  const quiet = (k: number) => ({ medians: [30 * k, 45 * k], others: 0.02 });
  const sim = machine([busy(1.6), busy(1.4), busy(1.5), quiet(1.01), quiet(1.0), quiet(1.02)]);
  const { ms, steadiness } = await timeSteadily(sim.rounds, sim.opts);
  assert.equal(sim.m.timed, 6);
  assert.deepEqual(sim.m.waits, [5000, 5000, 5000]);
  assert.deepEqual(ms, [30, 45]);
  assert.equal(steadiness.busy, false);
  assert.equal(steadiness.windows, 6);
  assert.ok(Math.abs(steadiness.others_cores! - 0.02) < 1e-12, 'judged on the last three windows');
  assert.match(sim.m.logs.join('\n'), /^the machine is busy \(other processes took 0\.90 cores; .*\); timing again every 5 s, up to 3 more times$/);
});

test('a machine busy throughout is timed at most six windows and said to be busy, with its figures', async () => {
  const sim = machine([1.9, 1.7, 2.0, 1.8, 1.75, 1.95].map((k) => ({ medians: [30 * k], others: 1 })));
  const { ms, steadiness } = await timeSteadily(sim.rounds, sim.opts);
  assert.equal(sim.m.timed, 6);
  assert.ok(Math.abs(ms[0] - 30 * 1.7) < 1e-9, `${ms[0]}`);
  assert.equal(steadiness.busy, true);
  assert.equal(steadiness.others_cores, 1);
  // A quiet machine is timed three windows, without a wait or a word.
  const calm = machine([1, 1.01, 1.02].map((k) => ({ medians: [30 * k], others: 0 })));
  const q = await timeSteadily(calm.rounds, calm.opts);
  assert.equal(calm.m.timed, 3);
  assert.deepEqual([calm.m.waits, calm.m.logs, q.ms, q.steadiness.busy], [[], [], [30], false]);
});

test('the meter counts a CPU-bound child process, not this one', { skip: !existsSync('/proc/stat') && 'no /proc/stat here (not Linux): the meter reads null' }, async () => {
  const child = spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const cpuOf = () => {
      // utime + stime, fields 14 and 15 of /proc/PID/stat (after the parenthesised name), in USER_HZ.
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    const c0 = cpuOf();
    const t0 = performance.now();
    const stop = othersCpuMeter();
    const spinUntil = performance.now() + 1500;
    while (performance.now() < spinUntil); // this process's own CPU time does not count
    const others = stop();
    const childCores = (cpuOf() - c0) / ((performance.now() - t0) / 1e3);
    assert.ok(childCores > 0.3, `the child ran ${childCores} cores`);
    assert.ok(others !== null && others >= childCores - 0.05, `meter ${others} cores, the child alone ${childCores}`);
  } finally {
    child.kill();
  }
});
