// The profiler's runner on a compiled target is the inference compiler's: parts and whole networks run the deployed
// kernels (functional checks only; speed is measured by `rtsr profile`, never asserted in tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTarget } from '../src/targets/registry.js';
import { createRunner, type Part } from '../src/latency/runner.js';

test('native profiles run through the compiler: every part kind prepares and runs; unprepared parts are refused', async () => {
  const runner = await createRunner({ target: await getTarget('native'), scale: 2, h: 9, w: 13 });
  assert.equal(runner.info.runner, 'compiler-fused');
  const parts: Part[] = [
    { kind: 'head', c: 5 },
    { kind: 'block', c: 5, m1: 37, m2: 11 },
    { kind: 'tail', c: 5 },
    { kind: 'model', c: 5, blocks: [{ m1: 37, m2: 11 }, { m1: 7, m2: 3 }] },
  ];
  await runner.prepare(parts);
  for (const p of parts) await runner.run(p);
  await assert.rejects(runner.run({ kind: 'block', c: 6, m1: 7, m2: 3 }), /part block:6,7,3 was not prepared/);
  const reference = await createRunner({ target: await getTarget('reference'), scale: 2, h: 9, w: 13 });
  assert.equal(reference.info.runner, 'engine-unfused');
});
