// Adam/AdamW against closed-form facts, schedules against their definitions, and the tensor file format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam } from '../src/engine/optim.js';
import { cosine, multiStep } from '../src/engine/schedule.js';
import { loadTensors, saveTensors } from '../src/engine/tensor-file.js';
import { Tensor } from '../src/engine/tensor.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("Adam's first step moves each parameter by lr against the sign of its gradient", () => {
  // With m̂ = g and v̂ = g² after bias correction, the step is lr·g/(|g| + eps).
  const p = new Tensor(Float32Array.from([1, -2, 3]), [3], true);
  p.grad = Float32Array.from([0.5, -4, 1e-3]);
  new Adam([p], { eps: 1e-12 }).step(0.1);
  [0.9, -1.9, 2.9].forEach((want, i) => close(p.data[i], want, 1e-6, `param ${i}`));
});

test('Adam on a quadratic matches a float64 transcription of the algorithm over 50 steps', () => {
  const p = new Tensor(Float32Array.from([2, -1]), [2], true);
  const opt = new Adam([p], { beta1: 0.8, beta2: 0.99, eps: 1e-6 });
  const x = [2, -1];
  const m = [0, 0];
  const v = [0, 0];
  for (let t = 1; t <= 50; t++) {
    p.grad = Float32Array.from(p.data, (pi) => 2 * pi); // d(p²)/dp
    opt.step(0.05);
    for (let i = 0; i < 2; i++) {
      const g = 2 * x[i];
      m[i] = 0.8 * m[i] + 0.2 * g;
      v[i] = 0.99 * v[i] + 0.01 * g * g;
      x[i] -= (0.05 * (m[i] / (1 - 0.8 ** t))) / (Math.sqrt(v[i] / (1 - 0.99 ** t)) + 1e-6);
    }
  }
  x.forEach((want, i) => close(p.data[i], want, 1e-5, `param ${i}`));
  assert.ok(Math.abs(p.data[0]) < 0.5, 'the quadratic was minimised');
});

test('shared-scale Adam keeps the gradients\' relative sizes and matches a float64 transcription over 30 steps', () => {
  // First step: m̂ = g, v̂ = mean(g²) over the group, so each element moves by lr·g/rms(g): sizes 4 : 0.5.
  const a = new Tensor(Float32Array.from([1, 1]), [2], true);
  const b = new Tensor(Float32Array.from([1]), [1], true);
  a.grad = Float32Array.from([4, -0.5]);
  b.grad = Float32Array.from([0.5]);
  new Adam([a, b], { sharedScale: true, eps: 1e-12 }).step(0.1);
  const rms = Math.sqrt((16 + 0.25 + 0.25) / 3);
  close(a.data[0], 1 - (0.1 * 4) / rms, 1e-6, 'a0');
  close(a.data[1], 1 + (0.1 * 0.5) / rms, 1e-6, 'a1');
  close(b.data[0], 1 - (0.1 * 0.5) / rms, 1e-6, 'b0');
  // Then on f = Σ c_i x_i² with a gradient-free step in the middle (b skipped): float64 oracle.
  const c = [1, 30, 0.2];
  const x = new Tensor(Float32Array.from([1, -1]), [2], true);
  const y = new Tensor(Float32Array.from([2]), [1], true);
  const opt = new Adam([x, y], { sharedScale: true });
  const want = [1, -1, 2];
  const m = [0, 0, 0];
  let v = 0;
  for (let t = 1; t <= 30; t++) {
    const skipY = t === 10;
    const g = want.map((w, i) => 2 * c[i] * w);
    const live = skipY ? [0, 1] : [0, 1, 2];
    v = 0.999 * v + 0.001 * (live.reduce((s, i) => s + g[i] * g[i], 0) / live.length);
    for (const i of live) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      want[i] -= (0.01 * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
    }
    x.grad = Float32Array.from([2 * c[0] * x.data[0], 2 * c[1] * x.data[1]]);
    y.grad = skipY ? null : Float32Array.from([2 * c[2] * y.data[0]]);
    opt.step(0.01);
  }
  [...x.data, ...y.data].forEach((got, i) => close(got, want[i], 1e-5, `param ${i}`));
});

test('AdamW decays weights decoupled from the gradient', () => {
  const p = new Tensor(Float32Array.from([2]), [1], true);
  p.grad = Float32Array.from([0]);
  new Adam([p], { weightDecay: 0.1 }).step(0.5);
  close(p.data[0], 2 * (1 - 0.5 * 0.1), 1e-6, 'decayed weight');
});

test('Adam state round-trips, so a resumed optimiser continues identically', () => {
  const run = (steps: number, resumeAt?: number) => {
    let p = new Tensor(Float32Array.from([1, 2, 3]), [3], true);
    let opt = new Adam([p]);
    for (let t = 0; t < steps; t++) {
      if (t === resumeAt) {
        const saved = opt.saveState();
        p = new Tensor(p.data.slice(), [3], true);
        opt = new Adam([p]);
        opt.loadState(saved);
      }
      p.grad = Float32Array.from(p.data, (x, i) => Math.sin(x * (i + 1)));
      opt.step(0.01);
    }
    return [...p.data];
  };
  assert.deepEqual(run(20, 7), run(20));
  assert.throws(() => new Adam([new Tensor(new Float32Array(4), [4], true)]).loadState(new Adam([new Tensor(new Float32Array(3), [3], true)]).saveState()), /other sizes/);
});

test('multi-step and cosine schedules', () => {
  const ms = multiStep(1e-3, [100, 180], 0.5);
  assert.deepEqual([ms(0), ms(99), ms(100), ms(179), ms(180), ms(1000)], [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 2.5e-4]);
  const cs = cosine(1, 100, 0.1);
  close(cs(0), 1, 1e-12, 'start');
  close(cs(50), 0.55, 1e-12, 'middle');
  close(cs(100), 0.1, 1e-12, 'end');
  close(cs(200), 0.1, 1e-12, 'after the end');
});

test('tensor files round-trip and refuse truncated, altered or foreign files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rtsr-ser-'));
  const path = join(dir, 'w.rtsr');
  const a = Float32Array.from({ length: 27 }, (_, i) => i * 0.25 - 3);
  const b = Float32Array.from([Math.PI, -0, 1e-30]);
  saveTensors(path, new Map([['head.w', { shape: [3, 3, 3, 1], data: a }], ['head.b', { shape: [3], data: b }]]), { arch: 'x' });
  const back = loadTensors(path);
  assert.deepEqual(back.meta, { arch: 'x' });
  assert.deepEqual(back.tensors.get('head.w')!.shape, [3, 3, 3, 1]);
  assert.deepEqual([...back.tensors.get('head.w')!.data], [...a]);
  assert.deepEqual([...back.tensors.get('head.b')!.data], [...b]);

  const bytes = readFileSync(path);
  writeFileSync(path, bytes.subarray(0, bytes.length - 5));
  assert.throws(() => loadTensors(path), new RegExp(`${path.replace(/[.]/g, '\\.')}: not a valid rtsr tensor file \\(expected \\d+ bytes, file has \\d+: truncated`));
  const altered = Buffer.from(bytes);
  altered[altered.length - 3] ^= 0x40;
  writeFileSync(path, altered);
  assert.throws(() => loadTensors(path), /checksum mismatch/);
  writeFileSync(path, 'PK\x03\x04 not ours');
  assert.throws(() => loadTensors(path), /wrong magic bytes/);
  assert.throws(() => loadTensors(join(dir, 'missing.rtsr')), /missing\.rtsr: cannot read \(ENOENT\)/);
});
