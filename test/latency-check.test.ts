// The whole-model check: random networks stay inside the search space, and measured-vs-predicted errors are
// computed from the runner's times (a fake runner on a virtual clock, 5 % slower than predicted, plus noise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWholeModels } from '../src/latency/check.js';
import type { BlockRunner, Part } from '../src/latency/runner.js';
import { EXPANSION, MAX_C, randomArchitectures } from '../src/latency/sampling.js';
import { SpeedModel, type SpeedModelData } from '../src/latency/speed-model.js';

const model = new SpeedModel({
  format: 'rtsr-speed-model', version: 2, profile: 'synthetic', split: { holdout: 0.2, seed: 1 }, align: 1, alignValidation: {},
  setup: { target: 'native', scale: 2, input: { w: 64, h: 36 } }, device: {} as SpeedModelData['device'],
  block: [0.3, 2e-3, 3e-3, 4e-3, 0.01, 0.02, 0.03], head: [[1, 0.13], [32, 1.06]], tail: [[1, 0.28], [32, 2.76]], networkFactor: 0.97, blockOffsetMs: -0.05, flopsMsPerMac: 1e-3,
});

test('random architectures lie in the search space, with every width at least 8', () => {
  const archs = randomArchitectures(50, 3);
  assert.equal(archs.length, 50);
  for (const a of archs) {
    assert.ok(a.c >= 8 && a.c <= MAX_C && a.blocks.length >= 1 && a.blocks.length <= 16);
    for (const b of a.blocks) assert.ok(b.m1 >= 8 && b.m1 <= EXPANSION * a.c && b.m2 >= 8 && b.m2 <= a.c);
  }
  assert.deepEqual(randomArchitectures(5, 3), archs.slice(0, 5), 'seeded');
});

test('errors are (predicted − measured) / measured of the median over rounds', async () => {
  let clock = 0;
  let calls = 0;
  const runner: BlockRunner = {
    info: { runner: 'fake', target: 'native', compiler: 'none', threads: 1 },
    prepare: async () => undefined,
    async run(p: Part) {
      if (p.kind !== 'model') throw new Error('whole models only');
      const ms = model.specMs({ arch: 'wdsr-b', scale: 2, channels: p.c, blocks: p.blocks.map((b) => ({ ...b })) });
      // 5 % slower than predicted; every third call an outlier that the median must ignore.
      clock += ms * 1.05 * (++calls % 3 === 0 ? 3 : 1);
    },
  };
  const rows = await checkWholeModels(runner, model, randomArchitectures(4, 1), 7, 2, () => clock);
  for (const r of rows) assert.ok(Math.abs(r.error - (1 / 1.05 - 1)) < 1e-9, `error ${r.error}`);
});
