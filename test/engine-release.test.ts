// backward({ release }) hands a step's intermediates back to the backend for the next step's outputs: the
// gradients must be the very same as without it, step after step while the memory is reused, and nothing a
// caller still owns (parameters, inputs, arrays passed in, another tensor's shared data) may be handed back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../src/backends/backend.js';
import { findToolchain } from '../src/backends/native/compile.js';
import { createNativeBackend } from '../src/backends/native/index.js';
import { referenceBackend } from '../src/backends/reference.js';
import { BENCH_NETS, initGates, initParams } from '../src/bench/train-nets.js';
import * as ops from '../src/engine/ops.js';
import { Adam } from '../src/engine/optim.js';
import { backend, Tensor, useBackend } from '../src/engine/tensor.js';
import { Model } from '../src/models/model.js';
import { parseArch } from '../src/models/registry.js';
import { Supernet } from '../src/search/supernet.js';
import type { WdsrSpec } from '../src/models/wdsr.js';
import { Rng } from '../src/util/random.js';

const noCc = findToolchain() ? false : 'no C compiler with OpenMP';

/** The backend in use, counting its outputs that are arrays it was handed back before (same object). */
function counting(be: Backend) {
  const released = new Set<Float32Array>();
  let outputs = 0;
  let reused = 0;
  const seen = (r: unknown) => {
    if (!(r instanceof Float32Array) || r.length < 200) return;
    outputs++;
    if (released.delete(r)) reused++;
  };
  const wrapped = Object.fromEntries(
    Object.entries(be).map(([k, f]) => [
      k,
      typeof f !== 'function'
        ? f
        : k === 'release'
          ? (a: Float32Array) => (released.add(a), f.call(be, a))
          : (...args: unknown[]) => {
              const r = f.apply(be, args);
              seen(r);
              if (r && typeof r === 'object' && !ArrayBuffer.isView(r)) Object.values(r).forEach(seen);
              return r;
            },
    ]),
  ) as unknown as Backend;
  return { wrapped, counts: () => ({ outputs, reused }) };
}

type Net = { params: Tensor[]; loss: (step: number) => Tensor };

/** Four training steps (Adam), each step's loss built anew; the parameters' values and gradients after each. */
function steps(net: () => Net, release: boolean): Float32Array[][] {
  const { params, loss } = net();
  const opt = new Adam(params);
  const out: Float32Array[][] = [];
  for (let s = 0; s < 4; s++) {
    opt.zeroGrad();
    loss(s).backward(undefined, { release });
    out.push(params.map((p) => p.grad!.slice()));
    opt.step(1e-3);
    out.push(params.map((p) => p.data.slice()));
  }
  return out;
}

const batch = (rng: Rng, shape: number[]) => new Tensor(rng.fill(new Float32Array(shape.reduce((a, b) => a * b)), () => rng.next()), shape);

const nets: Record<string, () => Net> = {
  ...Object.fromEntries(
    Object.values(BENCH_NETS).map((bench) => [
      `bench ${bench.name}`,
      () => {
        const rng = new Rng(3);
        const params = initParams(bench, rng);
        const gates = initGates(bench);
        const x = batch(rng, [2, 12, 10, 3]);
        const hr = batch(rng, [2, 24, 20, 3]);
        return {
          params: [...[...params.values()].flatMap((p) => [p.w, p.b]), ...gates.values()],
          loss: () => ops.l1Loss(bench.forward(x, params, gates), hr),
        };
      },
    ]),
  ),
  // Reparam branches composed into the conv weights, a gated supernet with depth mixing (0/1 gates hand a
  // parent's array through), reshape and straight-through views of arrays the caller keeps.
  'branched wdsr-b': () => {
    const m = Model.init(parseArch('{"arch":"wdsr-b","channels":8,"blocks":[{"m1":20,"m2":8},{"m1":16,"m2":6}],"reparam":{"branches":["1x1","1x1-kxk","identity"],"expand":2}}', 2), 5);
    const rng = new Rng(4);
    const [x, hr] = [batch(rng, [2, 9, 11, 3]), batch(rng, [2, 18, 22, 3])];
    return { params: [...m.params.values()], loss: () => ops.mseLoss(m.forward(x), hr) };
  },
  'gated supernet': () => {
    const spec = parseArch('{"arch":"wdsr-b","channels":10,"blocks":[{"m1":13,"m2":9},{"m1":11,"m2":10},{"m1":12,"m2":9}]}', 2) as WdsrSpec;
    const net = Supernet.init(spec, 6);
    const rng = new Rng(6);
    for (const g of net.widthGates()) for (let i = 0; i < g.size; i++) g.data[i] = rng.next();
    net.gates.blocks[1].skip.data[0] = 0.9;
    net.gates.blocks[1].keep.data[0] = 0.3;
    const [x, hr] = [batch(rng, [2, 8, 9, 3]), batch(rng, [2, 16, 18, 3])];
    return { params: [...net.model.params.values(), ...net.widthGates(), ...net.depthGates()], loss: () => ops.l1Loss(net.forward(x, { widths: true, depth: true }), hr) };
  },
  'views of kept arrays': () => {
    const rng = new Rng(7);
    const w = batch(rng, [3, 3, 3, 6]);
    const w2 = new Tensor(w.data.slice(), [3, 3, 3, 6], true);
    // Made by the backend (so it could take it back), kept by the caller across steps.
    const kept = backend().affine(Float32Array.from({ length: 2 * 5 * 5 * 6 }, (_, i) => (i % 3) - 1), 1, 0);
    const x = batch(rng, [2, 5, 5, 3]);
    const params = [new Tensor(w.data, w.shape, true), w2];
    return {
      params,
      loss: () => {
        const h = ops.conv2d(x, params[0], null, { relu: true });
        const through = ops.straightThrough(h, kept);
        const flat = ops.reshape(ops.mul(through, ops.conv2d(x, params[1], null)), [2 * 5 * 5 * 6]);
        return ops.mseLoss(ops.add(flat, ops.reshape(h, [2 * 5 * 5 * 6])), Tensor.zeros([2 * 5 * 5 * 6]));
      },
    };
  },
};

for (const [label, be] of [['reference', referenceBackend], ['native', noCc ? null : createNativeBackend()]] as const) {
  test(`backward({ release }) on the ${label} backend: the same gradients and weights, step after step, and the memory is reused`, { skip: be ? false : noCc }, () => {
    const before = backend();
    try {
      for (const [name, net] of Object.entries(nets)) {
        useBackend(be!);
        const kept = steps(net, false);
        const { wrapped, counts } = counting(be!);
        useBackend(wrapped);
        const released = steps(net, true);
        kept.forEach((arrays, i) => arrays.forEach((a, j) => assert.deepEqual(released[i][j], a, `${name}: ${i % 2 ? 'weights' : 'gradients'} of step ${i >> 1}, tensor ${j}`)));
        const { outputs, reused } = counts();
        // The reference backend takes nothing back; the native one serves most outputs from the last step's.
        if (!be!.release) assert.equal(reused, 0, name);
        else assert.ok(reused > outputs / 2, `${name}: ${reused} of ${outputs} large outputs reused`);
      }
    } finally {
      useBackend(before);
    }
  });
}

test('a released intermediate is empty, so using it fails loudly; leaves, the root and kept arrays stay', { skip: noCc }, () => {
  const before = backend();
  useBackend(createNativeBackend());
  try {
    const rng = new Rng(8);
    const x = batch(rng, [1, 6, 6, 3]);
    const w = new Tensor(rng.fill(new Float32Array(3 * 3 * 3 * 4), () => rng.uniform(-1, 1)), [3, 3, 3, 4], true);
    const kept = backend().affine(new Float32Array(6 * 6 * 4), 0, 0.5);
    const xData = x.data.slice();
    const wData = w.data.slice();
    const h = ops.conv2d(x, w, null, { relu: true });
    const loss = ops.l1Loss(ops.straightThrough(h, kept), Tensor.zeros([1, 6, 6, 4]));
    const value = loss.data[0];
    loss.backward(undefined, { release: true });
    assert.equal(h.data.length, 0, 'the conv output went back to the backend');
    assert.throws(() => ops.add(h, h), /holds 144 values, data has 0/);
    assert.deepEqual(x.data, xData, 'the input');
    assert.deepEqual(w.data, wData, 'the parameter');
    assert.ok(kept.every((v) => v === 0.5), 'the array passed to straightThrough');
    assert.equal(loss.data[0], value, 'the loss');
    assert.equal(w.grad?.length, w.size, 'the parameter keeps its gradient');
  } finally {
    useBackend(before);
  }
});
