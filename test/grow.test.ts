// Deepening a trained WDSR-B by an identity block (models/grow.ts): the grown network computes the same output
// and the same gradients for every old parameter, with and without training branches (an identity branch
// included) and a luminance body, at the front, in the middle and after the last block; its new 3×3 conv gets
// a gradient, so training can move it off zero.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ops from '../src/engine/ops.js';
import type { Tensor } from '../src/engine/tensor.js';
import { withIdentityBlock } from '../src/models/grow.js';
import type { Model } from '../src/models/model.js';
import { BRANCH_KINDS } from '../src/models/reparam.js';
import { Rng } from '../src/util/random.js';
import { maxAbsDiff, randomModel } from './compiler-support.js';
import { randTensor } from './support/gradcheck.js';

const step = (m: Model, x: Tensor, hr: Tensor) => {
  const y = m.forward(x);
  ops.l1Loss(y, hr).backward();
  return { y: y.data, grads: new Map([...m.params].map(([k, p]) => [k, p.grad!])) };
};

test('a grown WDSR-B computes what it was grown from, and its new block trains', () => {
  const rng = new Rng(5);
  let seed = 1;
  for (const branches of [undefined, ['1x1', '1x1-kxk'], [...BRANCH_KINDS]])
    for (const luma of [false, true])
      for (const [at, m2] of [[0, 4], [1, 5], [2, 3]]) {
        const spec = JSON.stringify({ arch: 'wdsr-b', channels: 5, blocks: [{ m1: 9, m2: 3 }, { m1: 7, m2: 5 }], luma, ...(branches ? { reparam: { branches } } : {}) });
        const what = `${spec} + block {11, ${m2}} at ${at}`;
        const old = randomModel(spec, 2, seed++);
        const grown = withIdentityBlock(old, at, { m1: 11, m2 }, 3);
        assert.equal(grown.spec.arch === 'wdsr-b' && grown.spec.blocks.length, 3, what);
        const oldData = new Set([...old.params.values()].map((t) => t.data));
        assert.ok([...grown.params.values()].every((t) => !oldData.has(t.data)), `${what}: shares weights with the network it was grown from`);
        const x = randTensor(rng, [2, 6, 5, 3], false, 0, 1);
        const hr = randTensor(rng, [2, 12, 10, 3], false, 0, 1);
        const [a, b] = [step(old, x, hr), step(grown, x, hr)];
        assert.ok(maxAbsDiff(a.y, b.y) <= 1e-6, `${what}: output differs by ${maxAbsDiff(a.y, b.y)}`);
        for (const [k, g] of a.grads) {
          const name = k.replace(/^blocks\.(\d+)\./, (_, i) => `blocks.${+i >= at ? +i + 1 : +i}.`);
          assert.ok(maxAbsDiff(b.grads.get(name)!, g) <= 1e-6, `${what}: ∂L/∂${k} differs`);
        }
        // Its 3×3 conv starts at zero gain, or at −I beside an identity branch (m2 = C): either way its gain
        // has a gradient to leave the identity with.
        const moving = b.grads.get(`blocks.${at}.conv.g`)!;
        assert.ok(moving.some((v) => v !== 0), `${what}: the new block's conv gets no gradient`);
      }
});

test('growing refuses what it cannot do, naming it', () => {
  const m = randomModel('{"arch":"wdsr-b","channels":4,"blocks":[{"m1":8,"m2":4}]}', 2, 1);
  assert.throws(() => withIdentityBlock(m, 2, { m1: 8, m2: 4 }, 1), /before block 0…0 or after the last \(1\), not at 2/);
  assert.throws(() => withIdentityBlock(m, 1, { m1: 0, m2: 4 }, 1), /m1/);
  assert.throws(() => withIdentityBlock(randomModel('{"arch":"espcn","f1":6,"f2":6}', 2, 1), 0, { m1: 8, m2: 4 }, 1), /only .* wdsr-b network, not espcn/);
});
